/**
 * The `auto` policy as first written (closures and `pickBest` over the candidate list), kept
 * only as the reference that auto-equivalence.test.ts compares the single-pass version with.
 *
 * `auto` (the default): upstream's tiered order (contract §3), kept key for key.
 *
 * 1. When every candidate has fresh metrics (≤ 120 s):
 *    - among nodes with CPU ≤ 80 %: combined active ↑, usage (cpu, mem, gpu, gpu_mem) ↑ with
 *      missing last, GPU capability ↓, effective average latency ↑, total assigned ↑, RR rank;
 *    - if every node is above 80 %: usage ↑, capability ↓, RR rank.
 * 2. Otherwise: combined active ↑, capability ↓, RR rank.
 *
 * Unlike upstream, a chosen node that is still initializing is never answered with a 503: the
 * candidates are already limited to online nodes with the model ready.
 */

import {
  type Compare,
  combinedActive,
  compareCapability,
  compareUsage,
  effectiveAverageMs,
  hasFreshMetrics,
  isCpuCool,
  pickBest,
} from '../../src/balancer/node-signals.js';
import { compareRotation, markPicked } from '../../src/balancer/rotation.js';
import type { BalancerOptions, BalancerPolicy } from '../../src/balancer/types.js';
import type { FleetNode } from '../../src/fleet/types.js';

/**
 * Latency ascending, but a node with no latency yet sorts first: otherwise a node that has
 * never been measured would lose every tie to a measured one and never get measured.
 */
function compareLatency(a: FleetNode, b: FleetNode): number {
  const x = effectiveAverageMs(a);
  const y = effectiveAverageMs(b);
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
  return x - y;
}

export function createReferenceAutoPolicy(options: BalancerOptions = {}): BalancerPolicy {
  const now = options.now ?? Date.now;

  return {
    name: 'auto',
    select(candidates: readonly FleetNode[]) {
      if (candidates.length === 0) return undefined;
      const at = now();
      const byActive: Compare<FleetNode> = (a, b) => combinedActive(a, at) - combinedActive(b, at);
      let chosen: FleetNode | undefined;
      if (candidates.every((node) => hasFreshMetrics(node, at))) {
        const cool = candidates.filter(isCpuCool);
        chosen =
          cool.length > 0
            ? pickBest(
                cool,
                (a, b) =>
                  byActive(a, b) ||
                  compareUsage(a, b) ||
                  compareCapability(a, b) ||
                  compareLatency(a, b) ||
                  a.stats.totalAssigned - b.stats.totalAssigned ||
                  compareRotation(a, b),
              )
            : pickBest(
                candidates,
                (a, b) => compareUsage(a, b) || compareCapability(a, b) || compareRotation(a, b),
              );
      } else {
        chosen = pickBest(
          candidates,
          (a, b) => byActive(a, b) || compareCapability(a, b) || compareRotation(a, b),
        );
      }
      if (chosen) markPicked(chosen);
      return chosen;
    },
  };
}
