/**
 * The router's HTTP/1.1 client for nodes: keep-alive connections per node origin, a request
 * written in one `writev`, and the reply parsed here as it arrives.
 *
 * Why not undici: it queues every request and writes it on a later turn of the event loop (its
 * idle-socket check, a `setImmediate`), behind general machinery (a Request object with its
 * header checks per call, the callbacks out of its WebAssembly parser). With one client at a
 * time that turn is on every request's path. This client writes at once: the router's added
 * p50 at concurrency 1 went from 0.32–0.36 to 0.28–0.29 ms, and its main-thread CPU per request
 * there down by 30–67 µs; under load (10 and 64 clients) the two measure the same
 * (docs/benchmarks.md, "the tenth round").
 *
 * What it parses is what a node reply needs: `Content-Length`, chunked bodies with trailers (a
 * stream's usage comes in one), bodies that end with the connection, 1xx heads skipped. A reply
 * that breaks HTTP/1.1 ends the call with an error (the proxy then fails over) and closes its
 * socket.
 *
 * The call's side is `ReplyHandler`, callbacks for the reply's head, body chunks, end and
 * failure, which `NodeCall` turns into what the attempt awaits.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** A reply head larger than this is a broken or hostile node (Node's own server allows 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
/** Idle connections are closed this long before the node's announced keep-alive timeout. */
const KEEP_ALIVE_MARGIN_MS = 1000;
const IDLE_SWEEP_MS = 5000;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** A request target is printable ASCII without spaces (`new URL` percent-encodes the rest). */
const INVALID_PATH = /[^\x21-\x7e]/;
/** Set by the client itself; a caller's own copy would contradict the request's framing. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

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

export interface NodeClientOptions {
  connectTimeoutMs: number;
  /** How long an idle connection is kept (less when the node announces a shorter keep-alive). */
  keepAliveTimeoutMs?: number;
}

/** An error from the client, with a code the proxy classifies like the system's own. */
export class NodeClientError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
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

interface Target {
  tls: boolean;
  host: string;
  port: number;
  /** The `Host` header and the fixed part of every request's head after the path. */
  headTail: string;
}

function parseOrigin(origin: string): Target {
  const url = new URL(origin);
  const tls = url.protocol === 'https:';
  if (!tls && url.protocol !== 'http:') throw new NodeClientError(`unsupported node URL ${origin}`, 'EINVAL');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : tls ? 443 : 80;
  return { tls, host, port, headTail: ` HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n` };
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
function addHeaderLines(headers: IncomingHttpHeaders, text: string, from: number): boolean {
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
function parseStatusLine(text: string): { status: number; http11: boolean } | null {
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
function keepAliveSeconds(value: string | string[] | undefined): number | null {
  if (typeof value !== 'string') return null;
  if (value !== lastKeepAlive.value) {
    const match = /(?:^|[,\s])timeout\s*=\s*(\d+)/i.exec(value);
    lastKeepAlive = { value, seconds: match ? Number(match[1]) : null };
  }
  return lastKeepAlive.seconds;
}

/** The request's head; throws when a path or header would break it (a CR or LF splits a head). */
function requestHead(request: NodeRequest, target: Target): string {
  if (INVALID_PATH.test(request.path)) throw invalidRequest(`path ${JSON.stringify(request.path)}`);
  let head = `POST ${request.path}${target.headTail}content-length: ${request.body.length}\r\n`;
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
class Connection {
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
    private readonly pool: OriginPool,
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

  start(request: NodeRequest, target: Target, handler: ReplyHandler): void {
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
      head = requestHead(request, target);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    const socket = this.socket;
    socket.cork();
    socket.write(head, 'latin1');
    if (request.body.length > 0) socket.write(request.body);
    socket.uncork();
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

function invalidRequest(what: string): NodeClientError {
  return new NodeClientError(`invalid request ${what}`, 'EINVAL');
}

function protocolError(message: string): NodeClientError {
  return new NodeClientError(`invalid HTTP reply: ${message}`, 'EPROTO');
}

/** The connections to one node: those idle, and a count of those carrying a call. */
class OriginPool {
  private readonly idle: Connection[] = [];
  private busy = 0;
  private readonly target: Target;

  constructor(
    origin: string,
    readonly keepAliveMs: number,
    private readonly connectTimeoutMs: number,
    private readonly isClosed: () => boolean,
  ) {
    this.target = parseOrigin(origin);
  }

  dispatch(request: NodeRequest, handler: ReplyHandler): void {
    const connection = this.take();
    this.busy++;
    connection.start(request, this.target, handler);
  }

  /** The most recently used idle connection still fit to use (its socket is warmest), else a new one. */
  private take(): Connection {
    const now = performance.now();
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.usable && now - connection.idleSince < connection.keepAliveMs) return connection;
      connection.socket.destroy();
    }
    const { tls, host, port } = this.target;
    // SNI carries host names only (RFC 6066).
    const socket = tls
      ? connectTls({ host, port, servername: isIP(host) ? undefined : host })
      : connectTcp({ host, port });
    const connection = new Connection(socket, this);
    connection.armConnectTimeout(this.connectTimeoutMs);
    return connection;
  }

  /** Once per call: a connection fit for another goes back to the pool, any other is closed. */
  callEnded(connection: Connection, reusable: boolean): void {
    this.busy--;
    if (!reusable || this.isClosed()) {
      connection.socket.destroy();
      return;
    }
    connection.idleSince = performance.now();
    this.idle.push(connection);
  }

  /** An idle connection whose socket ended or failed. */
  forget(connection: Connection): void {
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }

  /** Closes idle connections past their keep-alive; true when the pool has no connection left. */
  sweep(now: number): boolean {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const connection = this.idle[i] as Connection;
      if (now - connection.idleSince >= connection.keepAliveMs) {
        this.idle.splice(i, 1);
        connection.socket.destroy();
      }
    }
    return this.idle.length === 0 && this.busy === 0;
  }

  closeIdle(): void {
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
  }
}

/** Keep-alive connections to every node, a pool per origin made on first use. */
export class NodeClient {
  private readonly pools = new Map<string, OriginPool>();
  private readonly keepAliveMs: number;
  private closed = false;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly options: NodeClientOptions) {
    this.keepAliveMs = options.keepAliveTimeoutMs ?? 30_000;
  }

  /** Sends the request; its reply goes to `handler` (a failure to start included). */
  dispatch(request: NodeRequest, handler: ReplyHandler): void {
    let pool = this.pools.get(request.origin);
    if (!pool) {
      if (this.closed) throw new NodeClientError('the node client is closed', 'ECANCELED');
      pool = new OriginPool(
        request.origin,
        this.keepAliveMs,
        this.options.connectTimeoutMs,
        () => this.closed,
      );
      this.pools.set(request.origin, pool);
      this.sweeper ??= setInterval(() => this.sweep(), IDLE_SWEEP_MS).unref();
    }
    pool.dispatch(request, handler);
  }

  /** Closes the idle connections; a call in flight finishes, then closes its own. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const pool of this.pools.values()) pool.closeIdle();
    this.pools.clear();
  }

  /** Nodes come and go: a pool with no connection left is dropped (the next call makes a new one). */
  private sweep(): void {
    const now = performance.now();
    for (const [origin, pool] of this.pools) if (pool.sweep(now)) this.pools.delete(origin);
  }
}
