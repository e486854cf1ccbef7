/** `round_robin`: every candidate in turn, least recently picked first. */
import type { FleetNode } from '../fleet/types.js';
import { pickBest } from './node-signals.js';
import { compareRotation, markPicked } from './rotation.js';
import type { BalancerPolicy } from './types.js';

export function createRoundRobinPolicy(): BalancerPolicy {
  return {
    name: 'round_robin',
    select(candidates: readonly FleetNode[]) {
      const chosen = pickBest(candidates, compareRotation);
      if (chosen) markPicked(chosen);
      return chosen;
    },
  };
}
