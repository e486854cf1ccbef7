/**
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
 *
 * Selection runs on every request over every candidate (1,000 nodes in bench/fleet-scale.ts),
 * so it is one pass with no allocation: no filtered copy, no comparator closures, each node's
 * combined active count computed once, and the longer tie-breaks only reached on a tie. The
 * choices are the same as the straightforward version's (test/balancer/auto-equivalence.test.ts).
 */
import type { FleetNode } from '../fleet/types.js';
import {
  combinedActive,
  compareCapability,
  compareUsage,
  effectiveAverageMs,
  hasFreshMetrics,
  isCpuCool,
} from './node-signals.js';
import { compareRotation, markPicked } from './rotation.js';
import type { BalancerOptions, BalancerPolicy } from './types.js';

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

export function createAutoPolicy(options: BalancerOptions = {}): BalancerPolicy {
  const now = options.now ?? Date.now;

  /** Tier 1 among cool nodes, after combined active: usage, capability, latency, assigned (RR last). */
  const coolTieBreak = (a: FleetNode, b: FleetNode): number =>
    compareUsage(a, b) ||
    compareCapability(a, b) ||
    compareLatency(a, b) ||
    a.stats.totalAssigned - b.stats.totalAssigned;

  /** Tier 1 when every node is busy: usage, capability, RR. */
  const busyOrder = (a: FleetNode, b: FleetNode): number =>
    compareUsage(a, b) || compareCapability(a, b) || compareRotation(a, b);

  /** Tier 2 (some metrics stale), after combined active: capability (RR last). */
  const staleTieBreak = compareCapability;

  function allFresh(candidates: readonly FleetNode[], at: number): boolean {
    for (let i = 0; i < candidates.length; i++) {
      if (!hasFreshMetrics(candidates[i] as FleetNode, at)) return false;
    }
    return true;
  }

  /**
   * Fewest combined active first, then `tieBreak`, then the round-robin rank (oldest pick
   * first, then registration); only cool nodes when `coolOnly`. With a large idle fleet nearly
   * every node ties down to the rank, which is why it is a field on the node (rotation.ts).
   */
  function leastActive(
    candidates: readonly FleetNode[],
    at: number,
    coolOnly: boolean,
    tieBreak: (a: FleetNode, b: FleetNode) => number,
  ): FleetNode | undefined {
    let best: FleetNode | undefined;
    let bestActive = 0;
    let bestRank = -1; // not looked up yet
    for (let i = 0; i < candidates.length; i++) {
      const node = candidates[i] as FleetNode;
      if (coolOnly && !isCpuCool(node)) continue;
      // Every candidate is known fresh in the cool tier, so its heartbeat count always counts.
      const active = coolOnly ? node.stats.inFlight + node.metrics.activeRequests : combinedActive(node, at);
      let better = best === undefined || active < bestActive;
      if (!better && active === bestActive) {
        const order = tieBreak(node, best as FleetNode);
        if (order < 0) better = true;
        else if (order === 0) {
          if (bestRank < 0) bestRank = (best as FleetNode).stats.lastPicked;
          const rank = node.stats.lastPicked;
          if (
            rank < bestRank ||
            (rank === bestRank && node.registeredAt < (best as FleetNode).registeredAt)
          ) {
            best = node;
            bestActive = active;
            bestRank = rank;
            continue;
          }
        }
      }
      if (better) {
        best = node;
        bestActive = active;
        bestRank = -1;
      }
    }
    return best;
  }

  return {
    name: 'auto',
    select(candidates: readonly FleetNode[]) {
      if (candidates.length === 0) return undefined;
      const at = now();
      let chosen: FleetNode | undefined;
      if (allFresh(candidates, at)) {
        chosen = leastActive(candidates, at, true, coolTieBreak);
        if (chosen === undefined) {
          // Every node above 80 % CPU: the rare tier, a plain scan.
          for (let i = 0; i < candidates.length; i++) {
            const node = candidates[i] as FleetNode;
            if (chosen === undefined || busyOrder(node, chosen) < 0) chosen = node;
          }
        }
      } else {
        chosen = leastActive(candidates, at, false, staleTieBreak);
      }
      if (chosen) markPicked(chosen);
      return chosen;
    },
  };
}
