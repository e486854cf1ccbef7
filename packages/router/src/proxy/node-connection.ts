/**
 * One keep-alive connection to a node and the call it carries (node-client.ts pools them): the
 * request written in one `writev` (batched per turn of the event loop, write-batching.ts), and
 * the reply parsed as it arrives, its body framed by Content-Length, chunks (with trailers) or
 * the connection's end. Any reply that breaks HTTP/1.1 fails the call and closes the socket.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { batchedWrite } from '../transport/write-batching.js';
import {
  addHeaderLines,
  CRLF,
  HEAD_END,
  keepAliveSeconds,
  MAX_HEAD_BYTES,
  NodeClientError,
  parseStatusLine,
  protocolError,
  requestHead,
} from './http1-wire.js';

/** Idle connections are closed this long before the node's announced keep-alive timeout. */
const KEEP_ALIVE_MARGIN_MS = 1000;

export interface CallController {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

/** Receives one call's reply, in order; exactly one of `onResponseEnd` and `onResponseError` ends it. */
export interface ReplyHandler {
  onRequestStart(controller: CallController): void;
  onResponseStart(controller: CallController, statusCode: number, headers: IncomingHttpHeaders): void;
  onResponseData(controller: CallController, chunk: Buffer): void;
  onResponseEnd(controller: CallController, trailers: IncomingHttpHeaders): void;
  onResponseError(controller: CallController, error: Error): void;
}

export interface NodeRequest {
  /** `http://host:port` or `https://host:port`. */
  origin: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** What a connection needs of the pool it belongs to. */
export interface ConnectionPool {
  /** The longest a connection stays idle (the node may announce less). */
  readonly keepAliveMs: number;
  /** Once per call: `reusable` when the connection may carry another. */
  callEnded(connection: Connection, reusable: boolean): void;
  /** An idle connection whose socket ended or failed. */
  forget(connection: Connection): void;
}

enum Body {
  /** Reading the head (or the next one after a 1xx). */
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
  /** No call on this connection. */
  Idle,
}

/**
 * One call's hold on its connection. The call's handler keeps it after the call is over, when
 * the connection may carry another call: what it asks for then is ignored.
 */
class Call implements CallController {
  constructor(
    private readonly connection: Connection,
    readonly handler: ReplyHandler,
  ) {}

  get paused(): boolean {
    return this.connection.pausedFor(this);
  }

  abort(reason: Error): void {
    this.connection.abort(this, reason);
  }

  pause(): void {
    this.connection.pause(this);
  }

  resume(): void {
    this.connection.resume(this);
  }
}

/** One socket to one node, carrying one call at a time. */
export class Connection {
  private state = Body.Idle;
  /** The call in flight. */
  private call: Call | null = null;
  private paused = false;
  /** Bytes received but not yet parsed (a head or chunk line split across reads). */
  private pending: Buffer | null = null;
  private remaining = 0;
  private status = 0;
  private reusable = false;
  private trailers: IncomingHttpHeaders = {};
  private connectTimer: NodeJS.Timeout | null = null;
  /** When it went back to the pool, and until when it may be taken again. */
  idleSince = 0;
  keepAliveMs: number;

  constructor(
    readonly socket: Socket,
    private readonly pool: ConnectionPool,
  ) {
    this.keepAliveMs = pool.keepAliveMs;
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error) => this.onSocketGone(error));
    socket.on('close', () => this.onSocketGone(null));
  }

  get usable(): boolean {
    return !this.socket.destroyed && !this.socket.readableEnded && this.socket.writable;
  }

  armConnectTimeout(ms: number): void {
    if (ms <= 0) return;
    this.connectTimer = setTimeout(() => {
      this.fail(new NodeClientError(`connect timed out after ${ms} ms`, 'ETIMEDOUT'));
    }, ms);
    this.socket.once('connect', () => this.clearConnectTimer());
  }

  start(request: NodeRequest, headTail: string, handler: ReplyHandler): void {
    const call = new Call(this, handler);
    this.call = call;
    this.state = Body.Head;
    this.status = 0;
    this.trailers = {};
    this.pending = null;
    handler.onRequestStart(call);
    if (this.call !== call) return; // aborted in onRequestStart
    let head: string;
    try {
      head = requestHead(request, headTail);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    // Head and body leave in one writev, batched with this turn's other writes (write-batching.ts).
    const socket = this.socket;
    socket.cork();
    socket.write(head, 'latin1');
    if (request.body.length > 0) socket.write(request.body);
    batchedWrite(() => socket.uncork());
  }

  pausedFor(call: Call): boolean {
    return this.call === call && this.paused;
  }

  abort(call: Call, reason: Error): void {
    if (this.call === call) this.fail(reason);
  }

  pause(call: Call): void {
    if (this.call !== call || this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(call: Call): void {
    if (this.call !== call || !this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  private onData(data: Buffer): void {
    if (!this.call) {
      // Bytes with no call in flight: the node broke the protocol; this socket cannot be trusted.
      this.socket.destroy();
      return;
    }
    let buffer = this.pending ? Buffer.concat([this.pending, data]) : data;
    this.pending = null;
    try {
      while (buffer.length > 0 && this.call) {
        const used = this.parse(buffer);
        if (used < 0) {
          this.pending = buffer;
          return;
        }
        buffer = buffer.subarray(used);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // What follows a complete reply on the same read belongs to no request.
    if (buffer.length > 0) this.socket.destroy();
  }

  /** Parses from the start of `buffer`; returns the bytes used, or -1 when more are needed. */
  private parse(buffer: Buffer): number {
    switch (this.state) {
      case Body.Head:
        return this.parseHead(buffer);
      case Body.Length: {
        const take = Math.min(this.remaining, buffer.length);
        this.remaining -= take;
        this.deliver(take === buffer.length ? buffer : buffer.subarray(0, take));
        if (this.remaining === 0) this.complete();
        return take;
      }
      case Body.ChunkSize: {
        const end = buffer.indexOf(CRLF);
        if (end < 0) {
          if (buffer.length > 1024) throw protocolError('chunk size line too long');
          return -1;
        }
        const line = buffer.toString('latin1', 0, end);
        const semicolon = line.indexOf(';');
        const digits = (semicolon < 0 ? line : line.slice(0, semicolon)).trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(digits)) throw protocolError('invalid chunk size');
        this.remaining = Number.parseInt(digits, 16);
        this.state = this.remaining === 0 ? Body.Trailers : Body.ChunkData;
        return end + 2;
      }
      case Body.ChunkData: {
        const take = Math.min(this.remaining, buffer.length);
        this.remaining -= take;
        this.deliver(take === buffer.length ? buffer : buffer.subarray(0, take));
        if (this.remaining === 0) this.state = Body.ChunkEnd;
        return take;
      }
      case Body.ChunkEnd:
        if (buffer.length < 2) return -1;
        if (buffer[0] !== 13 || buffer[1] !== 10) throw protocolError('chunk not followed by CRLF');
        this.state = Body.ChunkSize;
        return 2;
      case Body.Trailers: {
        if (buffer.length < 2) return -1;
        if (buffer[0] === 13 && buffer[1] === 10) {
          this.complete();
          return 2;
        }
        const end = buffer.indexOf(HEAD_END);
        if (end < 0) {
          if (buffer.length > MAX_HEAD_BYTES) throw protocolError('trailers too large');
          return -1;
        }
        if (!addHeaderLines(this.trailers, buffer.toString('latin1', 0, end), 0)) {
          throw protocolError('invalid trailer line');
        }
        this.complete();
        return end + 4;
      }
      case Body.UntilClose:
        this.deliver(buffer);
        return buffer.length;
      default:
        return buffer.length;
    }
  }

  private parseHead(buffer: Buffer): number {
    const end = buffer.indexOf(HEAD_END);
    if (end < 0) {
      if (buffer.length > MAX_HEAD_BYTES)
        throw protocolError(`reply head larger than ${MAX_HEAD_BYTES} bytes`);
      return -1;
    }
    const text = buffer.toString('latin1', 0, end);
    const statusLine = parseStatusLine(text);
    if (!statusLine) throw protocolError(`invalid status line ${JSON.stringify(text.slice(0, 64))}`);
    const { status, http11 } = statusLine;
    const headers: IncomingHttpHeaders = {};
    const firstHeader = text.indexOf('\r\n');
    if (firstHeader >= 0 && !addHeaderLines(headers, text, firstHeader + 2)) {
      throw protocolError('invalid header line');
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: the real head follows. A switch of protocols was never asked for.
      if (status === 101) throw protocolError('unexpected 101 Switching Protocols');
      return end + 4;
    }
    const connection = typeof headers.connection === 'string' ? headers.connection.toLowerCase() : '';
    this.reusable = http11 ? !connection.includes('close') : connection.includes('keep-alive');
    const announced = keepAliveSeconds(headers['keep-alive']);
    if (announced !== null) {
      this.keepAliveMs = Math.min(this.pool.keepAliveMs, announced * 1000 - KEEP_ALIVE_MARGIN_MS);
    }
    const encoding = headers['transfer-encoding'];
    const length = headers['content-length'];
    let state: Body;
    if (encoding !== undefined) {
      // RFC 9112 6.3: chunked must come last; with any other coding the body ends with the connection.
      if (/(?:^|,)\s*chunked\s*$/i.test(String(encoding))) state = Body.ChunkSize;
      else {
        state = Body.UntilClose;
        this.reusable = false;
      }
      // A length beside a transfer coding is ignored, and the connection not reused (smuggling).
      if (length !== undefined) this.reusable = false;
    } else if (status === 204 || status === 304) {
      state = Body.Idle;
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(String(length))) throw protocolError(`invalid content-length ${String(length)}`);
      this.remaining = Number(length);
      state = this.remaining === 0 ? Body.Idle : Body.Length;
    } else {
      state = Body.UntilClose;
      this.reusable = false;
    }
    this.status = status;
    this.state = state === Body.Idle ? Body.Head : state;
    const call = this.call as Call;
    call.handler.onResponseStart(call, status, headers);
    if (state === Body.Idle && this.call === call) this.complete();
    return end + 4;
  }

  private deliver(chunk: Buffer): void {
    const call = this.call;
    if (call && chunk.length > 0) call.handler.onResponseData(call, chunk);
  }

  private complete(): void {
    const call = this.call;
    if (!call) return;
    this.call = null;
    this.state = Body.Idle;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    call.handler.onResponseEnd(call, this.trailers);
    this.pool.callEnded(this, this.reusable && this.usable);
  }

  private onEnd(): void {
    if (this.state === Body.UntilClose && this.status > 0) {
      this.reusable = false;
      this.complete();
      return;
    }
    this.onSocketGone(null);
  }

  /** The socket ended, failed or closed: a call in flight fails; an idle connection leaves the pool. */
  private onSocketGone(error: Error | null): void {
    this.clearConnectTimer();
    if (this.call) {
      this.fail(
        error ??
          new NodeClientError(
            this.status > 0 ? 'node closed the connection mid-reply' : 'node closed the connection',
            'ECONNRESET',
          ),
      );
    } else {
      this.pool.forget(this);
      this.socket.destroy();
    }
  }

  private fail(error: Error): void {
    this.clearConnectTimer();
    const call = this.call;
    this.call = null;
    this.state = Body.Idle;
    this.paused = false;
    this.socket.destroy();
    if (call) {
      this.pool.callEnded(this, false);
      call.handler.onResponseError(call, error);
    }
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
  }
}
