/**
 * OpenTelemetry spans for `/v1` requests, exported over OTLP/HTTP JSON when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see @llm-router/protocol/otlp): a server span `route`
 * per request (child of the client's `traceparent` span when it sent one) and a client span
 * `attempt` per node or cloud provider call under it; the node adds its `generation` span (or
 * `embedding` span) under the attempt it was called by. Off by default, and then it adds nothing to a request: no hook,
 * no span ids beyond the trace context the router already keeps.
 */
import {
  type AttributeValue,
  epochMs,
  OtlpTraceExporter,
  otlpSetupFromEnv,
  type SpanRecord,
} from '@llm-router/protocol/otlp';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { FinishedRequest } from '../history/types.js';
import { routerVersion } from '../package-info.js';

export interface RouterTracing {
  /** Records the spans of a finished `/v1` inference request (sampled traces only). */
  onRequestFinished(finished: FinishedRequest, request: FastifyRequest): void;
  readonly exporter: OtlpTraceExporter;
  /** Sends what is queued; called on shutdown. */
  close(): Promise<void>;
}

/** The router's tracing when the environment asks for it, else null (after logging any warning). */
export function createRouterTracing(
  app: FastifyInstance,
  env: Record<string, string | undefined>,
  log: Logger,
): RouterTracing | null {
  const { config, warnings } = otlpSetupFromEnv(env, 'llm-router');
  for (const warning of warnings) log.warn(warning);
  if (!config) return null;
  const exporter = new OtlpTraceExporter({
    config,
    resource: { 'service.version': routerVersion },
    scope: { name: 'llm-router', version: routerVersion },
    onExportError: (message) =>
      log.warn(`OpenTelemetry export: ${message} (spans are dropped until it recovers)`),
  });
  log.info({ url: config.url, service: config.serviceName }, 'OpenTelemetry trace export on');
  // Runs after the server-wide hook that gives each `/v1` request its trace context: a sampled
  // trace collects its backend calls (the W3C `sampled` flag, bit 0 of the flags).
  app.addHook('onRequest', (request, _reply, done) => {
    const trace = request.trace;
    if (trace && (Number.parseInt(trace.flags, 16) & 1) === 1) trace.attempts = [];
    done();
  });
  return {
    exporter,
    onRequestFinished(finished, request) {
      const trace = request.trace;
      if (!trace?.attempts) return;
      const endMs = epochMs();
      // From the request's arrival (before authentication), as Server-Timing's `total` counts it.
      const startMs = request.timing
        ? performance.timeOrigin + request.timing.startedAt
        : endMs - finished.durationMs;
      const failed = finished.status >= 500 || finished.status === 499;
      exporter.add({
        traceId: trace.traceId,
        spanId: trace.spanId,
        parentSpanId: trace.parentSpanId,
        name: 'route',
        kind: 'server',
        startMs,
        endMs,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0],
          'http.response.status_code': finished.status,
          'gen_ai.request.model': finished.model,
          'llm_router.kind': finished.kind,
          'llm_router.request_id': finished.requestId,
          'llm_router.node_id': finished.nodeId ?? undefined,
          'llm_router.cloud_provider': finished.cloudProvider,
          'llm_router.streamed': finished.streamed,
          'llm_router.attempts': trace.attempts.length,
          'llm_router.failovers': finished.failedAttempts.length,
          'gen_ai.usage.input_tokens': finished.promptTokens,
          'gen_ai.usage.output_tokens': finished.completionTokens,
          'llm_router.cached_tokens': finished.cachedTokens,
          'llm_router.time_to_first_token_ms': finished.timeToFirstTokenMs,
        },
        error: failed ? (finished.errorMessage ?? `HTTP ${finished.status}`) : null,
      });
      for (const [index, attempt] of trace.attempts.entries()) {
        // A call left open (a cloud call) ends with the request and shares its outcome.
        const open = attempt.endMs === undefined;
        const status = open ? finished.status : attempt.status;
        const failure = attempt.failure;
        const attributes: Record<string, AttributeValue> = {
          'llm_router.attempt': index + 1,
          'llm_router.node_id': attempt.nodeId,
          'llm_router.cloud_provider': attempt.cloudProvider,
          'http.response.status_code': status,
          'llm_router.outcome': failure
            ? failure.kind
            : status !== undefined && status < 400
              ? 'ok'
              : 'error',
          'llm_router.failover_reason': failure?.message,
        };
        const span: SpanRecord = {
          traceId: trace.traceId,
          spanId: attempt.spanId,
          parentSpanId: trace.spanId,
          name: 'attempt',
          kind: 'client',
          startMs: attempt.startMs,
          endMs: attempt.endMs ?? endMs,
          attributes,
          error: failure
            ? failure.message
            : status !== undefined && status >= 500
              ? (finished.errorMessage ?? `HTTP ${status}`)
              : null,
        };
        exporter.add(span);
      }
    },
    close: () => exporter.shutdown(),
  };
}
