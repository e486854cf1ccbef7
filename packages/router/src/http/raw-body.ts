/**
 * The JSON body reader. The router forwards the client's original request bytes to nodes (no
 * re-serialisation), so it keeps the raw buffer next to the parsed object. It reads the body
 * itself, instead of through Fastify's reader, so that the read deadline costs one timer and
 * not a stream in between: a client trickling its body gets 408 in the route's error shape
 * (LLM_ROUTER_BODY_READ_TIMEOUT) instead of holding a connection forever.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { badRequest, HttpError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as the client sent it (JSON routes only). */
    rawBody?: Buffer;
  }
}

export interface JsonBodyOptions {
  bodyLimitBytes: number;
  /** Longest time a client may take to send its request body before it gets 408. */
  bodyReadTimeoutMs: number;
}

export const bodyTooLarge = () =>
  new HttpError(413, 'Request body is larger than the router accepts', 'request_too_large');

const bodyReadTimeout = (ms: number) =>
  new HttpError(
    408,
    `The request body did not arrive within ${ms / 1000} s (LLM_ROUTER_BODY_READ_TIMEOUT)`,
    'request_timeout',
    null,
    { connection: 'close' },
  );

/**
 * Reads a whole body into one buffer, bounded in size (a chunked body has no Content-Length to
 * refuse up front) and in time. `done` is called exactly once.
 */
function readBody(
  payload: Readable,
  options: JsonBodyOptions,
  done: (error: Error | null, body?: Buffer) => void,
): void {
  const chunks: Buffer[] = [];
  let received = 0;
  // A body still on its way when the parser starts (the usual case: the parser runs as soon as
  // the headers are in) gets a deadline; the timer is cleared as soon as the body has arrived.
  const timer = setTimeout(() => {
    finish(bodyReadTimeout(options.bodyReadTimeoutMs));
    // Stop reading; the 408 closes the connection (its `connection: close`).
    payload.pause();
  }, options.bodyReadTimeoutMs);
  timer.unref();
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > options.bodyLimitBytes) {
      finish(bodyTooLarge());
      return;
    }
    chunks.push(chunk);
  };
  // Copied, like Fastify's reader does: a slice would pin the socket's whole read buffer.
  const onEnd = () => finish(null, Buffer.concat(chunks, received));
  const onError = (error: Error & { statusCode?: number }) => {
    if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
    finish(error);
  };
  function finish(error: Error | null, body?: Buffer) {
    clearTimeout(timer);
    payload.off('data', onData);
    payload.off('end', onEnd);
    payload.off('error', onError);
    done(error, body);
  }
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
  payload.resume();
}

export function registerJsonBodyParser(app: FastifyInstance, options: JsonBodyOptions): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (request, payload, done) => {
    // A body declared too large never gets here: the server's preParsing hook drains and refuses it.
    readBody(payload, options, (error, buffer) => {
      if (error || !buffer) {
        done(error, undefined);
        return;
      }
      request.rawBody = buffer;
      if (buffer.length === 0) {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(buffer.toString('utf8')));
      } catch {
        done(badRequest('Request body is not valid JSON', null, 'invalid_json'), undefined);
      }
    });
  });
}
