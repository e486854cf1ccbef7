/**
 * The client side of every backend call: noticing that the client left (so the backend call is
 * aborted and llama.cpp or the provider stops working), taking the reply over for a stream with
 * the headers other hooks already set, and writing with backpressure so a slow client cannot make
 * the router buffer.
 */
import { once } from 'node:events';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type {} from '../observability/request-timing.js';
import { SSE_HEADERS } from './sse.js';
import { batchedWrite } from './write-batching.js';

/** Status recorded when the client went away before a reply (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

export interface ClientWatch {
  /**
   * Aborts when the client disconnects before the reply finished. Made on first use: in
   * Node.js an AbortSignal that gets a listener costs several µs of CPU, so the request path
   * reads `gone` and registers with `onGone` instead.
   */
  readonly signal: AbortSignal;
  /** True once the client disconnected before the reply finished. */
  readonly gone: boolean;
  /** Calls `listener` once when the client leaves; returns what cancels it. */
  onGone(listener: () => void): () => void;
  dispose(): void;
}

/** `close` also fires after a normal finish; only an unfinished response means the client left. */
export function watchClient(reply: FastifyReply): ClientWatch {
  const res = reply.raw;
  let gone = false;
  let controller: AbortController | undefined;
  const listeners = new Set<() => void>();
  const onClose = () => {
    if (res.writableFinished || gone) return;
    gone = true;
    controller?.abort();
    for (const listener of listeners) listener();
    listeners.clear();
  };
  res.on('close', onClose);
  return {
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (gone) controller.abort();
      }
      return controller.signal;
    },
    get gone() {
      return gone;
    },
    onGone(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose: () => {
      res.off('close', onClose);
      listeners.clear();
    },
  };
}

/**
 * Takes the reply over from Fastify and sends its head. Headers other hooks set on the reply
 * (CORS, request id, rate limits) survive the hijack; `Server-Timing` is added here, because a
 * hijacked reply skips the onSend hook that adds it to other replies.
 */
function writeOwnHead(reply: FastifyReply, status: number, own: OutgoingHttpHeaders): ServerResponse {
  const raw = reply.raw;
  reply.hijack();
  const headers: OutgoingHttpHeaders = {};
  const set = reply.getHeaders();
  for (const name in set) {
    const value = set[name];
    if (value !== undefined) headers[name] = value;
  }
  const timing = reply.request.timing;
  if (timing) headers['server-timing'] = timing.header();
  for (const name in own) headers[name] = own[name];
  raw.writeHead(status, headers);
  return raw;
}

/** Takes the reply over for an SSE stream and sends its head. */
export function openSseReply(reply: FastifyReply, status = 200, contentType?: string): ServerResponse {
  return writeOwnHead(
    reply,
    status,
    contentType ? { ...SSE_HEADERS, 'content-type': contentType } : SSE_HEADERS,
  );
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Sends a complete JSON reply straight to the client: the backend's bytes as they are, without
 * Fastify's send pipeline (serialiser checks, the onSend hook runner), which on the hot path
 * cost more than writing the reply itself. An object (an error body) is serialised first.
 */
export function sendJsonReply(
  reply: FastifyReply,
  status: number,
  body: Buffer | string | object,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
  // Copied, not spread: V8 builds `{ ...headers, more }` on a slow path (a microsecond).
  const own: OutgoingHttpHeaders = {};
  for (const name in headers) own[name] = headers[name];
  own['content-type'] = JSON_TYPE;
  own['content-length'] = Buffer.byteLength(data);
  const raw = writeOwnHead(reply, status, own);
  // Batched with this turn's other writes (write-batching.ts). A held reply's client may
  // leave meanwhile, or an error path end the reply first: then there is nothing to write.
  batchedWrite(() => {
    if (!raw.destroyed && !raw.writableEnded) raw.end(data);
  });
}

/** Thrown by `writeToClient` when the client is gone: the caller stops and records a 499. */
export class ClientGoneError extends Error {
  constructor() {
    super('client connection closed');
  }
}

/** Writes to the client, waiting for it to drain; resolves early when the client leaves. */
export async function writeToClient(
  raw: ServerResponse,
  data: Buffer | string,
  signal?: AbortSignal,
): Promise<void> {
  if (data.length === 0) return;
  if (raw.destroyed || raw.writableEnded) throw new ClientGoneError();
  if (raw.write(data)) return;
  if (signal) {
    await once(raw, 'drain', { signal });
    return;
  }
  await new Promise<void>((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}

/** Ends an exchange nothing more can be sent on (the client left) without an error reply. */
export function abandonReply(reply: FastifyReply): void {
  if (!reply.sent) reply.hijack();
  if (!reply.raw.writableEnded) reply.raw.end();
}
