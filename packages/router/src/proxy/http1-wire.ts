/**
 * HTTP/1.1 on the wire for the node client (node-client.ts): the request head it writes, and
 * the pieces of a reply head it reads (status line, header lines, `Keep-Alive`), each checked
 * the way a hostile node would test it. Connections, pooling and body framing stay there.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** A reply head larger than this is a broken or hostile node (Node's own server allows 16 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** A request target is printable ASCII without spaces (`new URL` percent-encodes the rest). */
const INVALID_PATH = /[^\x21-\x7e]/;
/** Set by the client itself; a caller's own copy would contradict the request's framing. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
export const CRLF = Buffer.from('\r\n');
export const HEAD_END = Buffer.from('\r\n\r\n');

/** An error from the client, with a code the proxy classifies like the system's own. */
export class NodeClientError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export function invalidRequest(what: string): NodeClientError {
  return new NodeClientError(`invalid request ${what}`, 'EINVAL');
}

export function protocolError(message: string): NodeClientError {
  return new NodeClientError(`invalid HTTP reply: ${message}`, 'EPROTO');
}

/** Whether `code` is a space or a tab (optional whitespace around a header value). */
const isBlank = (code: number) => code === 32 || code === 9;

/**
 * A character no header may hold (controls other than tab), or a CR or LF not in a CRLF pair:
 * a bare one would let a node smuggle a header past this parser.
 */
const INVALID_HEAD_TEXT = /[^\t\x20-\x7e\x80-\xff\r\n]|\r(?!\n)|(?<!\r)\n/;

/**
 * Header names as sent mapped to their lower-cased form once checked; a node sends the same few
 * names on every reply. Bounded, since a hostile node could send endless new ones.
 */
const checkedNames = new Map<string, string>();
const MAX_CHECKED_NAMES = 1000;

function lowerCaseName(raw: string): string | null {
  let name = checkedNames.get(raw);
  if (name === undefined) {
    if (!HEADER_NAME.test(raw)) return null;
    name = raw.toLowerCase();
    if (checkedNames.size >= MAX_CHECKED_NAMES) checkedNames.clear();
    checkedNames.set(raw, name);
  }
  return name;
}

/**
 * Adds the header lines of `text` from `from` on (each ending with CRLF or the text), names
 * lower-cased and repeated headers joined the way Node's own parser joins them. False when a
 * line is malformed or the text holds a character no header may.
 */
export function addHeaderLines(headers: IncomingHttpHeaders, text: string, from: number): boolean {
  if (INVALID_HEAD_TEXT.test(text)) return false;
  for (let pos = from; pos < text.length; ) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > eol) return false;
    const name = lowerCaseName(text.slice(pos, colon));
    if (name === null) return false;
    let start = colon + 1;
    let end = eol;
    while (start < end && isBlank(text.charCodeAt(start))) start++;
    while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
    const value = text.slice(start, end);
    const existing = headers[name];
    if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = `${existing}, ${value}`;
    pos = eol + 2;
  }
  return true;
}

/** `HTTP/1.x NNN` at the start of `text`: the status and whether it is HTTP/1.1, or null. */
export function parseStatusLine(text: string): { status: number; http11: boolean } | null {
  if (!text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32) return null;
  const minor = text.charCodeAt(7) - 48;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return null;
    status = status * 10 + digit;
  }
  const after = text.charCodeAt(12);
  if ((minor !== 0 && minor !== 1) || !(Number.isNaN(after) || after === 32 || after === 13)) return null;
  return { status, http11: minor === 1 };
}

let lastKeepAlive: { value: string; seconds: number | null } = { value: '', seconds: null };

/** The seconds in a `Keep-Alive: timeout=N` header, or null (a node sends the same one every time). */
export function keepAliveSeconds(value: string | string[] | undefined): number | null {
  if (typeof value !== 'string') return null;
  if (value !== lastKeepAlive.value) {
    const match = /(?:^|[,\s])timeout\s*=\s*(\d+)/i.exec(value);
    lastKeepAlive = { value, seconds: match ? Number(match[1]) : null };
  }
  return lastKeepAlive.seconds;
}

/** The request's head; throws when a path or header would break it (a CR or LF splits a head). */
export function requestHead(
  request: { path: string; headers: Record<string, string>; body: Buffer },
  headTail: string,
): string {
  if (INVALID_PATH.test(request.path)) throw invalidRequest(`path ${JSON.stringify(request.path)}`);
  let head = `POST ${request.path}${headTail}content-length: ${request.body.length}\r\n`;
  let values = ''; // checked at once, after the loop
  for (const name in request.headers) {
    const value = request.headers[name];
    if (value === undefined) continue;
    const lower = lowerCaseName(name);
    if (lower === null) throw invalidRequest(`header name ${JSON.stringify(name)}`);
    if (RESERVED_HEADERS.has(lower)) continue;
    head += `${name}: ${value}\r\n`;
    values += value;
  }
  if (INVALID_HEADER_VALUE.test(values)) throw invalidRequest('header value');
  return `${head}\r\n`;
}
