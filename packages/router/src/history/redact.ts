/**
 * Request bodies are stored for the history view, but images and audio sent inline would
 * bloat the database and are not useful there: data-URLs and long base64 runs are replaced by
 * a marker that keeps their length.
 */
const DATA_URL = /^data:([\w.+/-]+)?(;[\w=.-]+)*;base64,/i;
/** A long run of base64 alphabet with no spaces is almost certainly an encoded payload. */
const LONG_BASE64 = /^[A-Za-z0-9+/=\r\n]{512,}$/;

function redactString(value: string): string {
  const dataUrl = DATA_URL.exec(value);
  if (dataUrl) return `[redacted data-url ${dataUrl[1] ?? 'data'} len=${value.length}]`;
  if (LONG_BASE64.test(value)) return `[redacted base64 len=${value.length}]`;
  return value;
}

export function redactPayloads(value: unknown, depth = 0): unknown {
  if (depth > 32) return '[redacted: nested too deep]';
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((v) => redactPayloads(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactPayloads(v, depth + 1);
    return out;
  }
  return value;
}

/** JSON text no longer than `maxBytes`; a longer value becomes a truncation marker with a prefix. */
export function cappedJson(value: unknown, maxBytes: number): string | null {
  if (value === undefined) return null;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return null;
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return JSON.stringify({
    truncated: true,
    original_bytes: Buffer.byteLength(text),
    prefix: text.slice(0, maxBytes),
  });
}
