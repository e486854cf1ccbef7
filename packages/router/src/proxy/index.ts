/** The proxy's public surface: the node fleet as a backend, with failover. */
export type { AttemptTimeouts } from './attempt.js';
export {
  createNodeProxy,
  type ForwardInput,
  type NodeProxy,
  type NodeProxyOptions,
  type ProxyConfig,
} from './forward.js';
export { NodeClient, type NodeClientOptions } from './node-client.js';
export type { AttemptFailure, AttemptFailureKind, InferenceResult, TokenUsage } from './types.js';
