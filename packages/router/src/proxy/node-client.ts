/**
 * The router's HTTP/1.1 client for nodes: keep-alive connections per node origin (each a
 * `Connection`, node-connection.ts; the wire format in http1-wire.ts), a request written in one
 * `writev`, and the reply parsed as it arrives.
 *
 * Why not undici: it builds general machinery for every call (a Request object with its header
 * checks, the callbacks out of its WebAssembly parser), and writes every request on a later turn
 * of the event loop (its idle-socket check, a `setImmediate`), even when it is the only one.
 * This client writes the first request of a turn at once and batches the ones after it to the
 * turn's end with the replies to clients (transport/write-batching.ts): one client at a time
 * gets the lower latency, many clients the batching (docs/benchmarks.md, the tenth and eleventh
 * rounds).
 *
 * What it parses is what a node reply needs: `Content-Length`, chunked bodies with trailers (a
 * stream's usage comes in one), bodies that end with the connection, 1xx heads skipped. A reply
 * that breaks HTTP/1.1 ends the call with an error (the proxy then fails over) and closes its
 * socket.
 *
 * The call's side is `ReplyHandler`, callbacks for the reply's head, body chunks, end and
 * failure, which `NodeCall` turns into what the attempt awaits.
 */
import { connect as connectTcp, isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { NodeClientError } from './http1-wire.js';
import { Connection, type ConnectionPool, type NodeRequest, type ReplyHandler } from './node-connection.js';

export { NodeClientError } from './http1-wire.js';
export type { CallController, NodeRequest, ReplyHandler } from './node-connection.js';

const IDLE_SWEEP_MS = 5000;

export interface NodeClientOptions {
  connectTimeoutMs: number;
  /** How long an idle connection is kept (less when the node announces a shorter keep-alive). */
  keepAliveTimeoutMs?: number;
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

/** The connections to one node: those idle, and a count of those carrying a call. */
class OriginPool implements ConnectionPool {
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
    connection.start(request, this.target.headTail, handler);
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
