/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a client's `traceparent` and
 * `tracestate` are accepted, the router takes part as one span of that trace, and passes the
 * trace on to the node or cloud provider it calls. A request without a valid `traceparent`
 * starts a new trace, so every request has a trace id to look up in logs and history.
 */
import { randomFillSync } from 'node:crypto';
import { parseTraceparent } from '@llm-router/protocol';
import type { FastifyRequest } from 'fastify';

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

/** Random bytes for ids, refilled in one call every few hundred requests instead of one call per id. */
const pool = Buffer.alloc(8192);
let poolOffset = pool.length;

/** `chars` random lowercase hex characters (an even count), never all zeros (invalid in W3C ids). */
function hexId(chars: number): string {
  const bytes = chars / 2;
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const start = poolOffset;
    poolOffset += bytes;
    for (let i = start; i < poolOffset; i++)
      if (pool[i] !== 0) return pool.toString('hex', start, poolOffset);
  }
}

export function traceContextOf(request: FastifyRequest): TraceContext {
  const parent = parseTraceparent(request.headers.traceparent);
  const state = request.headers.tracestate;
  return {
    traceId: parent?.traceId ?? hexId(32),
    spanId: hexId(16),
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
