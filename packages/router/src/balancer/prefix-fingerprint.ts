/**
 * A token-free fingerprint of a prompt's prefix, for prefix-cache-aware routing. The router never
 * tokenizes: it renders the messages to text the same way for every request, cuts the text into
 * fixed-size blocks and chains their hashes, so block `i`'s hash stands for the whole prefix up to
 * the end of that block. Two requests share a prefix of `k` blocks exactly when their first `k`
 * hashes agree (up to hash collisions: the index built on this is approximate by design).
 */

/** Characters per block: about 16 tokens of English text. */
export const PREFIX_BLOCK_CHARS = 64;
/** Prompts longer than this are fingerprinted on their first blocks only (bounded work per request). */
export const MAX_PREFIX_BLOCKS = 2048;

export interface PrefixFingerprint {
  /** Chained hashes of the prompt's full blocks (a trailing partial block is left out). */
  readonly blocks: readonly number[];
  readonly blockChars: number;
  /** Length of the rendered prompt in characters. */
  readonly totalChars: number;
}

type Json = unknown;

const isRecord = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function contentText(content: Json): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : JSON.stringify(part)))
      .join('\n');
  }
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

/**
 * The text a prefix is measured on: role and content of each message with separators no
 * message text contains, or a completion's prompt. Null for requests with no reusable prefix
 * (embeddings, several prompts at once).
 */
export function renderPrefixText(body: Json): string | null {
  if (!isRecord(body)) return null;
  if (Array.isArray(body.messages)) {
    let text = '';
    for (const message of body.messages) {
      if (!isRecord(message)) continue;
      text += `\u0001${String(message.role ?? '')}\u0002${contentText(message.content)}`;
      if (message.tool_calls !== undefined) text += `\u0003${JSON.stringify(message.tool_calls)}`;
    }
    return text;
  }
  if (typeof body.prompt === 'string') return body.prompt;
  if (Array.isArray(body.prompt) && body.prompt.length === 1 && typeof body.prompt[0] === 'string') {
    return body.prompt[0];
  }
  return null;
}

/** Two 32-bit multiplicative hash lanes combined into one 53-bit number (a safe integer). */
function chainHash(previous: number, text: string, start: number, end: number): number {
  let a = (previous ^ 0x811c9dc5) >>> 0;
  let b = (Math.floor(previous / 0x100000000) ^ 0x9e3779b9) >>> 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) >>> 11);
}

export function fingerprintText(text: string, blockChars = PREFIX_BLOCK_CHARS): PrefixFingerprint {
  const count = Math.min(Math.floor(text.length / blockChars), MAX_PREFIX_BLOCKS);
  const blocks: number[] = new Array(count);
  let hash = 0;
  for (let i = 0; i < count; i++) {
    hash = chainHash(hash, text, i * blockChars, (i + 1) * blockChars);
    blocks[i] = hash;
  }
  return { blocks, blockChars, totalChars: text.length };
}

/** The fingerprint of a chat or completion request body, or null when it has no reusable prefix. */
export function fingerprintRequest(body: Json): PrefixFingerprint | null {
  const text = renderPrefixText(body);
  return text === null ? null : fingerprintText(text);
}
