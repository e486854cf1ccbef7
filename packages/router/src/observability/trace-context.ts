/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a client's `traceparent` and
 * `tracestate` are accepted, the router takes part as one span of that trace, and passes the
 * trace on to the node or cloud provider it calls. A request without a valid `traceparent`
 * starts a new trace, so every request has a trace id to look up in logs and history.
 */
import { parseTraceparent } from '@llm-router/protocol';
import type { FastifyRequest } from 'fastify';
import { randomHex } from './ids.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on `/v1` inference routes. */
    trace?: TraceContext;
  }
}

export interface TraceContext {
  traceId: string;
  /** The router's own span in the trace: the parent of the call it makes to a backend. */
  spanId: string;
  /** The caller's span, when the client sent a `traceparent`. */
  parentSpanId: string | null;
  flags: string;
  /** Passed on unchanged (vendors' state), only when the traceparent was valid. */
  tracestate: string | null;
  /**
   * Present only while spans are exported (OTLP on, trace sampled): the backend calls made for
   * the request, one child span each, whose ids the backends receive as their parent.
   */
  attempts?: AttemptSpan[];
}

/** One call to a node or cloud provider, as a child span of the router's. */
export interface AttemptSpan {
  spanId: string;
  startMs: number;
  /** Unset while the call runs; a call left open is closed when the request finishes. */
  endMs?: number;
  nodeId?: string;
  cloudProvider?: string;
  /** The backend's HTTP status, when it answered. */
  status?: number;
  /** Why the router moved on from this backend (failover), or why the call failed. */
  failure?: { kind: string; message: string };
}

/** tracestate is at most 32 list members; 512 characters is the spec's suggested floor to keep. */
const MAX_TRACESTATE = 512;

export function traceContextOf(request: FastifyRequest): TraceContext {
  const parent = parseTraceparent(request.headers.traceparent);
  const state = request.headers.tracestate;
  return {
    traceId: parent?.traceId ?? randomHex(32),
    spanId: randomHex(16),
    parentSpanId: parent?.spanId ?? null,
    flags: parent?.flags ?? '01',
    tracestate: parent && typeof state === 'string' && state.length <= MAX_TRACESTATE ? state : null,
  };
}

/** Headers that carry the trace to a backend, with the router's span (or an attempt's) as the parent. */
export function outgoingTraceHeaders(
  trace: TraceContext | undefined,
  attempt?: AttemptSpan | null,
): Record<string, string> {
  if (!trace) return {};
  const headers: Record<string, string> = {
    traceparent: `00-${trace.traceId}-${attempt?.spanId ?? trace.spanId}-${trace.flags}`,
  };
  if (trace.tracestate) headers.tracestate = trace.tracestate;
  return headers;
}

/**
 * Starts an attempt span when spans are exported (else null, at the cost of one check); pass it
 * to `outgoingTraceHeaders` so the backend's own span is its child.
 */
export function beginAttemptSpan(
  trace: TraceContext | undefined,
  target: { nodeId?: string; cloudProvider?: string },
): AttemptSpan | null {
  if (!trace?.attempts) return null;
  const attempt: AttemptSpan = {
    spanId: randomHex(16),
    startMs: performance.timeOrigin + performance.now(),
    ...target,
  };
  trace.attempts.push(attempt);
  return attempt;
}

export function endAttemptSpan(
  attempt: AttemptSpan | null,
  result: { status?: number; failure?: { kind: string; message: string } },
): void {
  if (!attempt) return;
  attempt.endMs = performance.timeOrigin + performance.now();
  attempt.status = result.status;
  attempt.failure = result.failure;
}
