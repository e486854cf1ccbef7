/**
 * Token usage as request history records it, read from OpenAI-shaped replies of nodes and
 * clouds alike. `extractUsageFromJson` picks `usage` out of a reply without parsing the whole
 * body: embeddings replies can be megabytes of floats, while `usage` is a small object near the end.
 */

export interface TokenUsage {
  promptTokens?: number;
  completionTokens?: number;
  /** `prompt_tokens_details.cached_tokens`: prompt tokens served from a KV/prompt cache. */
  cachedTokens?: number;
}

const USAGE_KEY = Buffer.from('"usage"');
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BACKSLASH = 0x5c;

/**
 * Reads prompt/completion token counts from a `usage` object: OpenAI chat's
 * `prompt_tokens`/`completion_tokens`, or the `input_tokens`/`output_tokens` of Anthropic
 * Messages and OpenAI Responses.
 */
export function readUsage(value: unknown): TokenUsage | null {
  if (typeof value !== 'object' || value === null) return null;
  const usage = value as Record<string, unknown>;
  const out: TokenUsage = {};
  const prompt = usage.prompt_tokens ?? usage.input_tokens;
  const completion = usage.completion_tokens ?? usage.output_tokens;
  if (typeof prompt === 'number') out.promptTokens = prompt;
  if (typeof completion === 'number') out.completionTokens = completion;
  const details = usage.prompt_tokens_details as Record<string, unknown> | null | undefined;
  if (typeof details?.cached_tokens === 'number') out.cachedTokens = details.cached_tokens;
  return out.promptTokens === undefined && out.completionTokens === undefined ? null : out;
}

/** Usage anywhere a stream event carries it: top level, `message.usage`, `response.usage`. */
export function readEventUsage(event: Record<string, unknown>): TokenUsage | null {
  const nested = (key: string) => {
    const value = event[key];
    return typeof value === 'object' && value !== null ? (value as { usage?: unknown }).usage : undefined;
  };
  return readUsage(event.usage) ?? readUsage(nested('message')) ?? readUsage(nested('response'));
}

/**
 * The usage a node sends in its `NODE_USAGE_TRAILER` after a stream (JSON, OpenAI's `usage`
 * shape); null when absent or malformed (an older node, another server).
 */
export function readUsageTrailer(value: string | string[] | undefined): TokenUsage | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || text === '') return null;
  try {
    return readUsage(JSON.parse(text));
  } catch {
    return null;
  }
}

/** Finds the last top-level-looking `"usage": {…}` in a JSON body and reads it. */
export function extractUsageFromJson(body: Buffer): TokenUsage | null {
  let at = body.lastIndexOf(USAGE_KEY);
  // Skip `\"usage\"` inside a generated string (an escaped quote precedes it).
  while (at > 0 && body[at - 1] === BACKSLASH) at = body.lastIndexOf(USAGE_KEY, at - 1);
  if (at < 0) return null;
  const start = body.indexOf(OPEN_BRACE, at + USAGE_KEY.length);
  if (start < 0) return null;
  let depth = 0;
  for (let i = start; i < body.length; i++) {
    if (body[i] === OPEN_BRACE) depth++;
    else if (body[i] === CLOSE_BRACE && --depth === 0) {
      try {
        return readUsage(JSON.parse(body.subarray(start, i + 1).toString('utf8')));
      } catch {
        return null;
      }
    }
  }
  return null;
}
