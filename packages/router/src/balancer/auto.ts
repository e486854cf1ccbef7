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
 * Selection runs on every request over every candidate (1,000 nodes in bench/fleet-scale.ts;
 * bench/select.ts times it alone), so it is built to touch each node as little as possible:
 * - one pass in the usual case: tier 1's scan checks freshness as it goes and hands over to
 *   tier 2 at the first stale node, instead of a separate "all fresh?" pass first;
 * - each tier is its own loop calling its comparisons directly (no comparator passed in, no
 *   closures), so the JIT can inline them, and nothing is allocated;
 * - a node that has more requests in progress than the best so far is passed over at once,
 *   and the best node's load (and, in tier 1, its CPU, the key that nearly always decides a
 *   tie) is kept in a local rather than read again for every comparison;
 * - the round-robin rank is a field on the node (rotation.ts), not a map lookup: with an idle
 *   fleet nearly every node ties down to it.
 * The choices are the same as the straightforward version's (test/balancer/auto-equivalence.test.ts).
 */
import type { FleetNode } from '../fleet/types.js';
import {
  ascendingMissingLast,
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
  return {
    name: 'auto',
    select(candidates: readonly FleetNode[]) {
      if (candidates.length === 0) return undefined;
      const at = now();
      let chosen = bestCool(candidates, at);
      if (chosen === SOME_STALE) chosen = bestAnyFreshness(candidates, at);
      else if (chosen === undefined) chosen = bestBusy(candidates);
      if (chosen) markPicked(chosen);
      return chosen;
    },
  };
}

/** What `bestCool` answers when a candidate's metrics are not fresh: tier 2 decides instead. */
const SOME_STALE = null;

/**
 * Tier 1 among cool nodes, provided every candidate is fresh (else `SOME_STALE`): fewest
 * combined active, then `compareCoolTie`. Undefined when every node is above 80 % CPU.
 */
function bestCool(candidates: readonly FleetNode[], at: number): FleetNode | undefined | null {
  let best: FleetNode | undefined;
  let bestActive = 0;
  let bestCpu: number | null = null;
  for (let i = 0; i < candidates.length; i++) {
    const node = candidates[i] as FleetNode;
    if (!hasFreshMetrics(node, at)) return SOME_STALE;
    if (!isCpuCool(node)) continue;
    // Every candidate seen so far is fresh, so its heartbeat count always counts.
    const active = node.stats.inFlight + node.metrics.activeRequests;
    if (best !== undefined) {
      if (active > bestActive) continue;
      // CPU, the first tie key, nearly always decides: the full chain only when it ties too.
      if (
        active === bestActive &&
        (ascendingMissingLast(node.metrics.cpuUsage, bestCpu) || compareCoolTie(node, best)) >= 0
      )
        continue;
    }
    best = node;
    bestActive = active;
    bestCpu = node.metrics.cpuUsage;
  }
  return best;
}

/** Tier 1 among cool nodes with the same combined active count. */
function compareCoolTie(a: FleetNode, b: FleetNode): number {
  return (
    compareUsage(a, b) ||
    compareCapability(a, b) ||
    compareLatency(a, b) ||
    a.stats.totalAssigned - b.stats.totalAssigned ||
    compareRotation(a, b)
  );
}

/** Tier 1 when every node is above 80 % CPU (rare): usage, capability, round-robin. */
function bestBusy(candidates: readonly FleetNode[]): FleetNode | undefined {
  let best: FleetNode | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const node = candidates[i] as FleetNode;
    if (
      best === undefined ||
      (compareUsage(node, best) || compareCapability(node, best) || compareRotation(node, best)) < 0
    )
      best = node;
  }
  return best;
}

/** Tier 2, some metrics stale or missing: fewest combined active, capability, round-robin. */
function bestAnyFreshness(candidates: readonly FleetNode[], at: number): FleetNode | undefined {
  let best: FleetNode | undefined;
  let bestActive = 0;
  for (let i = 0; i < candidates.length; i++) {
    const node = candidates[i] as FleetNode;
    const active = combinedActive(node, at);
    if (best !== undefined) {
      if (active > bestActive) continue;
      if (active === bestActive && (compareCapability(node, best) || compareRotation(node, best)) >= 0)
        continue;
    }
    best = node;
    bestActive = active;
  }
  return best;
}
