/**
 * Rewrites the top-level `"model"` value of a JSON object in place, leaving every other byte
 * of the client's request as it was (whitespace, number spelling, key order). A tiny scanner
 * instead of parse-and-stringify, because passthrough promises "unchanged apart from the model".
 */

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, at: number): number {
  let i = at;
  while (i < text.length && WHITESPACE.has(text[i])) i++;
  return i;
}

/** Index just past the string starting at `at`, or -1. */
function endOfString(text: string, at: number): number {
  if (text[at] !== '"') return -1;
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return -1;
}

/** Index just past the JSON value starting at `at`, or -1. */
function endOfValue(text: string, at: number): number {
  const first = text[at];
  if (first === '"') return endOfString(text, at);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        i = endOfString(text, i) - 1;
        if (i < 0) return -1;
      } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  let i = at;
  while (i < text.length && !WHITESPACE.has(text[i]) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']')
    i++;
  return i > at ? i : -1;
}

/** The JSON text with every top-level `model` value replaced, or `undefined` if it is not a JSON object. */
export function replaceTopLevelModel(text: string, model: string): string | undefined {
  let i = skipWhitespace(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipWhitespace(text, i + 1);
  const spans: Array<[number, number]> = [];
  while (text[i] !== '}') {
    const keyEnd = endOfString(text, i);
    if (keyEnd < 0) return undefined;
    const key: unknown = JSON.parse(text.slice(i, keyEnd));
    i = skipWhitespace(text, keyEnd);
    if (text[i] !== ':') return undefined;
    const valueStart = skipWhitespace(text, i + 1);
    const valueEnd = endOfValue(text, valueStart);
    if (valueEnd < 0) return undefined;
    if (key === 'model') spans.push([valueStart, valueEnd]);
    i = skipWhitespace(text, valueEnd);
    if (text[i] === ',') i = skipWhitespace(text, i + 1);
    else if (text[i] !== '}') return undefined;
  }
  if (spans.length === 0) return undefined;
  let result = '';
  let from = 0;
  for (const [start, end] of spans) {
    result += text.slice(from, start) + JSON.stringify(model);
    from = end;
  }
  return result + text.slice(from);
}

/** The request bytes for the upstream: the client's bytes with the model renamed when possible. */
export function passthroughBody(
  rawBody: Buffer | undefined,
  body: Record<string, unknown>,
  model: string,
): string {
  const rewritten = rawBody ? replaceTopLevelModel(rawBody.toString('utf8'), model) : undefined;
  return rewritten ?? JSON.stringify({ ...body, model });
}
