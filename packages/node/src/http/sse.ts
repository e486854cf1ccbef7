/**
 * Server-sent events in the OpenAI format: `data: <json>\n\n` per chunk, `data: [DONE]` at the
 * end. Each chunk is written the moment it exists, so clients see tokens as they are made.
 * A stream that ends normally carries its usage in the `x-llm-node-usage` HTTP trailer
 * (`NODE_USAGE_TRAILER`), outside the events, for the router: the events stay exactly what the
 * client asked for.
 */
import { NODE_USAGE_TRAILER } from '@llm-router/protocol';
import type { FastifyReply } from 'fastify';
import type { HttpError } from './errors.js';
import { errorBody } from './errors.js';

export class SseWriter {
  private ended = false;

  constructor(
    private readonly reply: FastifyReply,
    private readonly url: string,
  ) {
    // Fastify must not try to send its own reply once we own the socket.
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(reply.request.id),
      trailer: NODE_USAGE_TRAILER,
    });
    reply.raw.flushHeaders();
  }

  /** False once the client went away; writing then is pointless. */
  get open(): boolean {
    return !this.ended && !this.reply.raw.destroyed;
  }

  send(chunk: unknown): void {
    if (this.open) this.reply.raw.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  /** `[DONE]`, then the end of the response with `usage` in the trailer. */
  done(usage?: unknown): void {
    if (!this.open) return;
    this.reply.raw.write('data: [DONE]\n\n');
    if (usage !== undefined) this.reply.raw.addTrailers({ [NODE_USAGE_TRAILER]: JSON.stringify(usage) });
    this.end();
  }

  /** An error after the stream started: one error event (the OpenAI SDK raises it), then close. */
  fail(error: HttpError): void {
    if (!this.open) return;
    this.reply.raw.write(`data: ${JSON.stringify(errorBody(this.url, error))}\n\n`);
    this.end();
  }

  private end(): void {
    this.ended = true;
    this.reply.raw.end();
  }
}
