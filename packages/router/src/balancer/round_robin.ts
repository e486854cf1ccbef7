/** `round_robin`: every candidate in turn, least recently picked first. */
import type { FleetNode } from '../fleet/types.js';
import { pickBest } from './node-signals.js';
import { RoundRobinClock } from './rotation.js';
import type { BalancerPolicy } from './types.js';

export function createRoundRobinPolicy(): BalancerPolicy {
  const clock = new RoundRobinClock();
  return {
    name: 'round_robin',
    select(candidates: readonly FleetNode[]) {
      const chosen = pickBest(candidates, clock.compare);
      if (chosen) clock.markPicked(chosen);
      return chosen;
    },
  };
}
