/**
 * One undici Agent for every node. An Agent keeps one keep-alive Pool per origin, so each node
 * gets its own pooled connections, created on first use and reused by every later request.
 * Only the connect timeout is set here: first-byte and idle timeouts are the proxy's own
 * timers, because "first byte" has to include the first body chunk, not just the headers.
 */
import { Agent, type Dispatcher } from 'undici';

export interface NodeDispatcherOptions {
  connectTimeoutMs: number;
  /** How long an idle pooled connection stays open. */
  keepAliveTimeoutMs?: number;
}

export function createNodeDispatcher(options: NodeDispatcherOptions): Dispatcher {
  return new Agent({
    connect: { timeout: options.connectTimeoutMs },
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    // 0 disables undici's own timers; the proxy's timers abort the request instead.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}
