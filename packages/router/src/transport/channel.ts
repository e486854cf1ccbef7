/**
 * Where a backend writes its reply. Backends speak OpenAI (a JSON body, or an SSE stream of
 * OpenAI events) and write it to a channel: the native channel hands the bytes to the client
 * untouched (the zero-copy passthrough), while an inbound format adapter supplies a channel that
 * turns the same output into its own format (Anthropic Messages, OpenAI Responses) on the way.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { openSseReply, sendJsonReply, writeToClient } from './client.js';

export interface ReplyChannel {
  /** The client's reply: backends watch it for disconnects. */
  readonly reply: FastifyReply;
  /** A complete (JSON) reply. A 4xx/5xx body is OpenAI-shaped. */
  sendJson(status: number, body: Buffer | string | object, headers?: Record<string, string>): void;
  /** Takes the reply over for an SSE stream and sends its head. */
  openStream(status: number, contentType?: string): void;
  /** Writes OpenAI SSE bytes (whole events, except after an oversized one), with backpressure. */
  write(data: Buffer | string, signal?: AbortSignal): Promise<void>;
  /** Ends the stream; `tail` is OpenAI SSE (an error event and `[DONE]`) to send first. */
  end(tail?: string): void;
  /** True once the client connection is gone. */
  readonly gone: boolean;
}

/** The client gets exactly what the backend wrote. */
export class NativeChannel implements ReplyChannel {
  private raw: ServerResponse | undefined;

  constructor(readonly reply: FastifyReply) {}

  sendJson(status: number, body: Buffer | string | object, headers: Record<string, string> = {}): void {
    sendJsonReply(this.reply, status, body, headers);
  }

  openStream(status: number, contentType?: string): void {
    this.raw = openSseReply(this.reply, status, contentType);
  }

  write(data: Buffer | string, signal?: AbortSignal): Promise<void> {
    return writeToClient(this.raw ?? this.reply.raw, data, signal);
  }

  end(tail?: string): void {
    const raw = this.raw ?? this.reply.raw;
    if (tail) raw.end(tail);
    else raw.end();
  }

  get gone(): boolean {
    return this.reply.raw.destroyed;
  }
}
