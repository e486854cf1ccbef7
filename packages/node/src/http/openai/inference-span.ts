/**
 * The node's OpenTelemetry span for one inference request, when export is on and the caller
 * sent a sampled `traceparent`: a server span, child of the router's `attempt` span (whose id is
 * the traceparent's parent id). `generation` for chat and completions, `embedding` for embeddings.
 */
import { parseTraceparent } from '@llm-router/protocol';
import { type AttributeValue, epochMs, newSpanId } from '@llm-router/protocol/otlp';
import type { FastifyRequest } from 'fastify';
import type { NodeServices } from '../../services.js';
import { toHttpError } from '../errors.js';

export interface InferenceSpan {
  /** Notes the first generated token (the first call counts): `llm_node.time_to_first_token_ms`. */
  markFirstToken(): void;
  /** Queues the span for export, with the attributes known at the end; later calls do nothing. */
  end(outcome: string, attributes: Record<string, AttributeValue>, error?: unknown): void;
}

/** Null when spans are not exported or the trace is not sampled (then a request pays one check). */
export function beginInferenceSpan(
  services: NodeServices,
  request: FastifyRequest,
  name: 'generation' | 'embedding',
  attributes: Record<string, AttributeValue>,
): InferenceSpan | null {
  if (!services.traces) return null;
  const parent = parseTraceparent(request.headers.traceparent);
  if (!parent || (Number.parseInt(parent.flags, 16) & 1) !== 1) return null;
  const startMs = epochMs();
  let firstTokenMs: number | undefined;
  let ended = false;
  return {
    markFirstToken() {
      firstTokenMs ??= epochMs() - startMs;
    },
    end(outcome, endAttributes, error) {
      if (ended) return;
      ended = true;
      // A request refused for what it asked (an input longer than the context: a 400) failed on
      // the client's side, not the node's: its server span keeps an unset status, as
      // OpenTelemetry has it for 4xx answers, and says why in its outcome.
      const refused = outcome === 'error' && error !== undefined && toHttpError(error).status < 500;
      services.traces?.add({
        traceId: parent.traceId,
        spanId: newSpanId(),
        parentSpanId: parent.spanId,
        name,
        kind: 'server',
        startMs,
        endMs: epochMs(),
        attributes: {
          ...attributes,
          'llm_node.outcome': refused ? 'invalid_request' : outcome,
          'llm_node.request_id': String(request.id),
          ...endAttributes,
          'llm_node.time_to_first_token_ms':
            firstTokenMs === undefined ? undefined : Math.round(firstTokenMs * 1000) / 1000,
        },
        error:
          outcome === 'success' || refused
            ? null
            : error instanceof Error
              ? error.message
              : `${name} ${outcome}`,
      });
    },
  };
}
