/**
 * W3C Trace Context's `traceparent` header (https://www.w3.org/TR/trace-context/), parsed the
 * same way by the router (which continues a client's trace) and the node (which logs and
 * returns the trace id it was called under).
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/** The parts of a valid `traceparent`, or null (the spec says: ignore an invalid one). */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string; flags: string } | null {
  if (typeof value !== 'string') return null;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match;
  // Version ff is invalid; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return null;
  return { traceId, spanId, flags };
}
