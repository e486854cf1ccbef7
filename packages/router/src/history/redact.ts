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

/**
 * The value with its payloads redacted. Copy-on-write: a value with nothing to redact (the
 * usual chat request) is returned as it is, so recording it allocates no second copy.
 */
export function redactPayloads(value: unknown, depth = 0): unknown {
  if (depth > 32) return '[redacted: nested too deep]';
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = redactPayloads(value[i], depth + 1);
      if (out === null && v !== value[i]) out = value.slice(0, i);
      out?.push(v);
    }
    return out ?? value;
  }
  if (value !== null && typeof value === 'object') {
    // Keys walked without Object.entries: its pair arrays were most of what recording a
    // request allocated here.
    const record = value as Record<string, unknown>;
    let out: Record<string, unknown> | null = null;
    for (const k of Object.keys(record)) {
      const v = record[k];
      const redacted = redactPayloads(v, depth + 1);
      if (out === null && redacted !== v) {
        // No prototype, so that a "__proto__" key (JSON.parse makes it an own key) stays a key.
        out = Object.create(null) as Record<string, unknown>;
        for (const before of Object.keys(record)) {
          if (before === k) break;
          out[before] = record[before];
        }
      }
      if (out !== null) out[k] = redacted;
    }
    return out ?? value;
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
