/**
 * Secret masking for everything the MCP server hands back to an assistant: Bearer values,
 * `X-API-Key` / `X-Node-Token` header values, API keys (`sk_…`), node tokens (`nt_…`),
 * JWTs, and the literal credentials the server was configured with.
 */

const MASK = '****';

const PATTERNS: Array<[RegExp, string]> = [
  [/(Bearer\s+)[^\s'",]+/gi, `$1${MASK}`],
  [/(X-API-Key\s*:\s*)[^\s'",]+/gi, `$1${MASK}`],
  [/(X-Node-Token\s*:\s*)[^\s'",]+/gi, `$1${MASK}`],
  // JSON text: "x-api-key": "…", "authorization": "…"
  [/("(?:x-api-key|x-node-token|authorization)"\s*:\s*")[^"]*/gi, `$1${MASK}`],
  [/\bsk_[A-Za-z0-9_-]+/g, `sk_${MASK}`],
  [/\bnt_[A-Za-z0-9_-]+/g, `nt_${MASK}`],
  // A JWT: three base64url segments, the first one a JSON header (`eyJ…`).
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, MASK],
];

export function maskSecrets(text: string, literals: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const literal of literals) if (literal && literal.length >= 4) out = out.split(literal).join(MASK);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Masks every string inside a JSON value (keys and values). */
export function maskDeep<T>(value: T, literals: ReadonlyArray<string | undefined> = []): T {
  if (typeof value === 'string') return maskSecrets(value, literals) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, literals)) as T;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const key = maskSecrets(k, literals);
      // A credential header's value is secret whatever it looks like.
      const secretHeader = /^(authorization|x-api-key|x-node-token|cookie|set-cookie)$/i.test(k);
      return [key, secretHeader && typeof v === 'string' ? '****' : maskDeep(v, literals)];
    }),
  ) as T;
}
