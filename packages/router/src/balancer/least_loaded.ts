/**
 * `least_loaded`: the node with the fewest requests in progress (the node's fresh heartbeat
 * count plus the router's own in-flight count), round-robin among equals.
 */
import type { FleetNode } from '../fleet/types.js';
import { combinedActive, pickBest } from './node-signals.js';
import { compareRotation, markPicked } from './rotation.js';
import type { BalancerOptions, BalancerPolicy } from './types.js';

export function createLeastLoadedPolicy(options: BalancerOptions = {}): BalancerPolicy {
  const now = options.now ?? Date.now;
  return {
    name: 'least_loaded',
    select(candidates: readonly FleetNode[]) {
      const at = now();
      const chosen = pickBest(
        candidates,
        (a, b) => combinedActive(a, at) - combinedActive(b, at) || compareRotation(a, b),
      );
      if (chosen) markPicked(chosen);
      return chosen;
    },
  };
}
