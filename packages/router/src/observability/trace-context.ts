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

/** Headers that carry the trace to a backend, with the router's span as the parent. */
export function outgoingTraceHeaders(trace: TraceContext | undefined): Record<string, string> {
  if (!trace) return {};
  const headers: Record<string, string> = {
    traceparent: `00-${trace.traceId}-${trace.spanId}-${trace.flags}`,
  };
  if (trace.tracestate) headers.tracestate = trace.tracestate;
  return headers;
}
