/**
 * The balancer seam: one interface, one file per policy (the shape SGLang's model gateway
 * uses). A policy only orders nodes; it never filters them. Candidates arrive already
 * filtered to online nodes that have the requested model ready, so a policy's one job is to
 * say which of them goes first.
 */
import type { BalancerMode } from '../config/config.js';
import type { FleetNode, RequestOutcome } from '../fleet/types.js';

export interface BalancerRequest {
  model: string;
}

export interface BalancerPolicy {
  readonly name: BalancerMode;
  /**
   * Picks one node, or `undefined` when `candidates` is empty. Runs in O(candidates).
   * Failover calls it again with the nodes already tried removed, so repeated calls yield an
   * order over the fleet.
   */
  select(candidates: readonly FleetNode[], request: BalancerRequest): FleetNode | undefined;
  /** Called when a request is sent to `node` (after `select`). */
  onStart?(node: FleetNode): void;
  /** Called once per `onStart`, when that request to `node` is over (streams: after the last byte). */
  onFinish?(node: FleetNode, outcome: RequestOutcome): void;
}

/** Lets tests pin "now" so metric freshness is deterministic. */
export interface BalancerOptions {
  now?: () => number;
}
