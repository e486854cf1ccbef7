/**
 * The balancer seam: one interface, one file per policy (the shape SGLang's model gateway
 * uses). A policy only orders nodes; it never filters them. Candidates arrive already
 * filtered to online nodes that have the requested model ready, so a policy's one job is to
 * say which of them goes first.
 */
import type { BalancerMode } from '../config/config.js';
import type { FleetNode, RequestOutcome } from '../fleet/types.js';
import type { PrefixFingerprint } from './prefix-fingerprint.js';

export interface BalancerRequest {
  model: string;
  /** The prompt's prefix fingerprint (chat and completions), when the policy asked for it. */
  prefix?: PrefixFingerprint | null;
  /** A conversation key (the body's `user` or an `x-session-id` header) for node affinity. */
  affinityKey?: string | null;
  /** Filled in by policies that explain their choice, for request history. */
  decision?: RoutingDecision;
}

/** Why a node was chosen, as request history records it. */
export interface RoutingDecision {
  /** Characters of the rendered prompt the chosen node was believed to hold in its KV cache. */
  matchedPrefixChars: number;
  /** The chosen node's load (requests in progress) when it was chosen. */
  nodeLoad: number;
  reason: 'prefix' | 'affinity' | 'least_loaded';
  /** What the node then reported reusing (`usage.prompt_tokens_details.cached_tokens`). */
  cachedTokens?: number;
}

/** What a node reported about a finished request (from its `usage`). */
export interface UsageReport {
  promptTokens: number;
  cachedTokens: number;
}

export interface BalancerPolicy {
  readonly name: BalancerMode;
  /** True when `select` reads `request.prefix`: only then does the request path compute it. */
  readonly wantsPrefix?: boolean;
  /**
   * Picks one node, or `undefined` when `candidates` is empty. Runs in O(candidates), or less
   * for a frozen list (the fleet's own, which never changes) that the policy keeps an index
   * for (`auto`). Failover calls it again with the nodes already tried removed, so repeated
   * calls yield an order over the fleet.
   */
  select(candidates: readonly FleetNode[], request: BalancerRequest): FleetNode | undefined;
  /** Called when a request is sent to `node` (after `select`). */
  onStart?(node: FleetNode): void;
  /** Called once per `onStart`, when that request to `node` is over (streams: after the last byte). */
  onFinish?(node: FleetNode, outcome: RequestOutcome): void;
  /** Called when the node's reply carried usage (prompt and cached tokens), for drift correction. */
  onUsage?(node: FleetNode, request: BalancerRequest, report: UsageReport): void;
}

/** Lets tests pin "now" so metric freshness is deterministic. */
export interface BalancerOptions {
  now?: () => number;
}
