/** The proxy's public surface: forwarding with failover, and the result it reports. */
export type { AttemptTimeouts } from './attempt.js';
export {
  createNodeProxy,
  type ForwardInput,
  type NodeProxy,
  type NodeProxyOptions,
  type ProxyConfig,
} from './forward.js';
export { createNodeDispatcher } from './node-dispatcher.js';
export {
  type AttemptFailure,
  type AttemptFailureKind,
  CLIENT_CLOSED_STATUS,
  NODE_PATHS,
  type ProxyResult,
  type TokenUsage,
} from './types.js';
