/**
 * One HTTP call to a node, on the node client's handler API (node-client.ts). The reply's head,
 * body chunks and trailers arrive as callbacks and wait here until the attempt asks for them.
 *
 * Why not a stream: a Readable body with its async iterator and abort-signal listeners per call
 * was about a tenth of the router's CPU at its request rate, and the attempt needs none of it:
 * it reads the body chunk by chunk anyway.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CallController, NodeClient, ReplyHandler } from './node-client.js';

/** Unread body bytes above which the node is paused (a client slower than its node). */
const HIGH_WATER_MARK = 64 * 1024;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** Where a node URL's origin ends and its path begins, computed once per URL. */
const splitUrls = new Map<string, { origin: string; path: string }>();
/** Node URLs are fleet-sized; the cap only matters when base URLs keep changing. */
const MAX_SPLIT_URLS = 10_000;

function splitUrl(url: string): { origin: string; path: string } {
  let split = splitUrls.get(url);
  if (!split) {
    const parsed = new URL(url);
    split = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    if (splitUrls.size >= MAX_SPLIT_URLS) splitUrls.clear();
    splitUrls.set(url, split);
  }
  return split;
}

export interface NodeCallOptions {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

export class NodeCall implements ReplyHandler {
  /** The reply's status; 0 until its head arrived. */
  status = 0;
  headers: IncomingHttpHeaders = {};
  /** Filled in once the body has ended. */
  trailers: IncomingHttpHeaders = {};
  /** True once the whole body arrived (it may still be unread). */
  ended = false;
  private controller: CallController | null = null;
  private readonly chunks: Buffer[] = [];
  private unreadBytes = 0;
  private failure: Error | null = null;
  private waiter: Waiter | null = null;

  /** Sends the request; the reply is read with `response()` and `read()`. */
  static start(client: NodeClient, options: NodeCallOptions): NodeCall {
    const call = new NodeCall();
    try {
      const { origin, path } = splitUrl(options.url);
      client.dispatch({ origin, path, headers: options.headers, body: options.body }, call);
    } catch (error) {
      call.fail(error instanceof Error ? error : new Error(String(error)));
    }
    return call;
  }

  /** Resolves once the node sent its status and headers; rejects when the call failed first. */
  response(): Promise<void> {
    if (this.status > 0) return Promise.resolve();
    return this.wait();
  }

  /**
   * The next body chunk, or null at the end of the body. Chunks that arrived before a failure
   * are still read first; then it rejects with the failure.
   */
  async read(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        this.unreadBytes -= chunk.length;
        if (this.controller?.paused && this.unreadBytes < HIGH_WATER_MARK) this.controller.resume();
        return chunk;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await this.wait();
    }
  }

  /** Stops the call (a timeout, the client leaving, a reply not read to its end). */
  abort(reason: Error): void {
    if (this.ended || this.failure) return;
    this.controller?.abort(reason);
    // Before the request reached a socket there is no controller yet: onRequestStart aborts it.
    this.fail(reason);
  }

  onRequestStart(controller: CallController): void {
    this.controller = controller;
    if (this.failure) controller.abort(this.failure);
  }

  onResponseStart(_controller: CallController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx informational heads come before the real one.
    if (statusCode < 200 || this.failure) return;
    this.status = statusCode;
    this.headers = headers;
    this.wake();
  }

  onResponseData(controller: CallController, chunk: Buffer): void {
    if (this.failure) return;
    this.chunks.push(chunk);
    this.unreadBytes += chunk.length;
    if (this.unreadBytes >= HIGH_WATER_MARK) controller.pause();
    this.wake();
  }

  onResponseEnd(_controller: CallController, trailers: IncomingHttpHeaders): void {
    if (this.failure) return;
    this.trailers = trailers;
    this.ended = true;
    this.wake();
  }

  onResponseError(_controller: CallController, error: Error): void {
    this.fail(error);
  }

  private fail(error: Error): void {
    if (this.failure || this.ended) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.resolve();
  }

  private wait(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }
}
