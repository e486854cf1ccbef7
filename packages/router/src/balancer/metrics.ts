/**
 * `metrics`: upstream's score mode. Score = cpu + mem + gpu + gpu_mem + 10 × combined active,
 * lowest wins; scores within 1e-4 are ties, broken by GPU capability ↓ then RR rank.
 * Only nodes with fresh metrics and CPU ≤ 80 % are scored; when none qualifies the policy falls
 * back to plain round-robin over every candidate (so a fleet without metrics still works).
 */
import type { FleetNode } from '../fleet/types.js';
import {
  CPU_BUSY_PERCENT,
  combinedActive,
  compareCapability,
  hasFreshMetrics,
  pickBest,
} from './node-signals.js';
import { compareRotation, markPicked } from './rotation.js';
import type { BalancerOptions, BalancerPolicy } from './types.js';

const SCORE_TIE = 1e-4;
const ACTIVE_REQUEST_WEIGHT = 10;

export function metricsScore(node: FleetNode, now: number): number {
  const m = node.metrics;
  return (
    (m.cpuUsage ?? 0) +
    (m.memoryUsage ?? 0) +
    (m.gpuUsage ?? 0) +
    (m.gpuMemoryUsage ?? 0) +
    ACTIVE_REQUEST_WEIGHT * combinedActive(node, now)
  );
}

export function createMetricsPolicy(options: BalancerOptions = {}): BalancerPolicy {
  const now = options.now ?? Date.now;
  return {
    name: 'metrics',
    select(candidates: readonly FleetNode[]) {
      const at = now();
      const scored = candidates.filter(
        (node) =>
          hasFreshMetrics(node, at) &&
          node.metrics.cpuUsage !== null &&
          node.metrics.cpuUsage <= CPU_BUSY_PERCENT,
      );
      // Scores are computed once per node, not once per comparison.
      const scores = new Map(scored.map((node) => [node.id, metricsScore(node, at)]));
      const chosen =
        scored.length > 0
          ? pickBest(scored, (a, b) => {
              const diff = scores.get(a.id)! - scores.get(b.id)!;
              if (Math.abs(diff) > SCORE_TIE) return diff;
              return compareCapability(a, b) || compareRotation(a, b);
            })
          : pickBest(candidates, compareRotation);
      if (chosen) markPicked(chosen);
      return chosen;
    },
  };
}
