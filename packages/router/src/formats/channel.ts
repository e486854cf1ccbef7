/**
 * The reply channel every inbound format adapter builds on: it receives what a backend writes
 * in OpenAI chat shape (a JSON body or an SSE stream of `chat.completion.chunk`s, with the
 * router's error tail) and lets the adapter turn each piece into its own format. SSE is read with
 * the router's one parser; nothing is buffered beyond the event being translated.
 */
import type { FastifyReply } from 'fastify';
import type { ReplyChannel } from '../transport/channel.js';
import { openSseReply, writeToClient } from '../transport/client.js';
import { SseParser } from '../transport/sse.js';

/** The parts of an OpenAI error body an adapter needs. */
export interface BackendError {
  status: number;
  message: string;
  code: string | null;
}

export function readOpenAIError(status: number, body: unknown): BackendError {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error === 'object' && error !== null) {
    const e = error as { message?: unknown; code?: unknown; type?: unknown };
    return {
      status,
      message: typeof e.message === 'string' ? e.message : JSON.stringify(error),
      code: typeof e.code === 'string' ? e.code : typeof e.type === 'string' ? e.type : null,
    };
  }
  if (typeof error === 'string') return { status, message: error, code: null };
  return { status, message: `backend answered ${status}`, code: null };
}

function parseBody(body: Buffer | string | object): unknown {
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      return JSON.parse(body.toString());
    } catch {
      return undefined;
    }
  }
  return body;
}

/** What an adapter writes for each piece of backend output (strings of SSE, or JSON bodies). */
export interface FormatTranslation {
  /** A successful complete reply (`chat.completion`) → the format's body. */
  reply(completion: unknown): object;
  /** An error before anything was sent → the format's error body. */
  errorBody(error: BackendError): object;
  /** The SSE frames that open a stream (before the first chunk). */
  open(): string;
  /** One OpenAI chunk → SSE frames. */
  chunk(chunk: Record<string, unknown>): string;
  /** An error after the stream started → closing SSE frames. */
  streamError(error: BackendError): string;
  /** The stream ended normally → closing SSE frames (`[DONE]` was seen or the body ended). */
  close(): string;
}

export class TranslatingChannel implements ReplyChannel {
  private readonly parser = new SseParser();
  private streaming = false;
  private closed = false;
  /** The failure the client saw, if any (status and message), for the route's bookkeeping. */
  failure: BackendError | null = null;

  constructor(
    readonly reply: FastifyReply,
    private readonly translation: FormatTranslation,
  ) {}

  sendJson(status: number, body: Buffer | string | object, headers: Record<string, string> = {}): void {
    const json = parseBody(body);
    const { 'content-type': _type, ...kept } = headers;
    if (status >= 400) {
      this.failure = readOpenAIError(status, json);
      this.reply.code(status).headers(kept).send(this.translation.errorBody(this.failure));
      return;
    }
    if (json === undefined) {
      this.failure = {
        status: 502,
        message: 'the backend reply is not JSON',
        code: 'upstream_invalid_response',
      };
      this.reply.code(502).send(this.translation.errorBody(this.failure));
      return;
    }
    this.reply.code(status).headers(kept).send(this.translation.reply(json));
  }

  openStream(status: number): void {
    openSseReply(this.reply, status, 'text/event-stream; charset=utf-8');
    this.streaming = true;
    this.reply.raw.write(this.translation.open());
  }

  async write(data: Buffer | string, signal?: AbortSignal): Promise<void> {
    const out = this.translate(typeof data === 'string' ? Buffer.from(data) : data);
    if (out !== '') await writeToClient(this.reply.raw, out, signal);
  }

  end(tail?: string): void {
    let out = tail ? this.translate(Buffer.from(tail)) : '';
    for (const event of this.parser.end()) out += this.event(event.data);
    if (!this.closed) {
      this.closed = true;
      out += this.translation.close();
    }
    const raw = this.reply.raw;
    if (raw.destroyed || raw.writableEnded) return;
    raw.end(out);
  }

  get gone(): boolean {
    return this.reply.raw.destroyed;
  }

  get isStreaming(): boolean {
    return this.streaming;
  }

  private translate(bytes: Buffer): string {
    let out = '';
    for (const event of this.parser.push(bytes)) out += this.event(event.data);
    return out;
  }

  private event(data: string): string {
    if (this.closed) return '';
    const value = data.trim();
    if (value === '[DONE]') {
      this.closed = true;
      return this.translation.close();
    }
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      return '';
    }
    if (typeof json !== 'object' || json === null) return '';
    const record = json as Record<string, unknown>;
    if (record.error !== undefined && record.error !== null) {
      const error = readOpenAIError(readStatus(record.error), record);
      this.failure = error;
      this.closed = true;
      return this.translation.streamError(error);
    }
    return this.translation.chunk(record);
  }
}

/** OpenAI in-band errors carry no status; the router's own tail names one in its type. */
function readStatus(error: unknown): number {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  if (type === 'upstream_error') return 502;
  if (type === 'service_unavailable') return 503;
  if (type === 'rate_limit_error') return 429;
  if (type === 'invalid_request_error') return 400;
  return 500;
}
