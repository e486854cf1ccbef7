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
 * - the fleet's own candidate lists (frozen, fleet/routing-lookup.ts) get an index from their
 *   second pick on (`SelectionIndex`) that keeps each tier's order as a tournament tree (slot-tournament.ts),
 *   brought up to date from the nodes whose keys changed since the last pick
 *   (fleet/selection-changes.ts): a pick then reads a few nodes per change instead of every
 *   node, which is what keeps its tail short at 1,000 nodes. The lists failover and admission
 *   filter are one-off copies and are scanned, and so is a list with a stale heartbeat (a
 *   node's load figure then expires with time, which no change announces).
 * The choices are the same as the straightforward version's (test/balancer/auto-equivalence.test.ts).
 */
import {
  changedNodeAt,
  SELECTION_CHANGE_LOG_SIZE,
  selectionChangeCount,
} from '../fleet/selection-changes.js';
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
import { SlotTournament } from './slot-tournament.js';
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
  // A list's index, or null while the list has had one pick only.
  const indexes = new WeakMap<readonly FleetNode[], SelectionIndex | null>();
  /**
   * The index of a list that cannot change (the fleet's own), made on its second pick: making
   * one costs a few scans, which a list replaced before its second pick (a fleet changing
   * faster than requests arrive) would never earn back.
   */
  const indexOf = (candidates: readonly FleetNode[]): SelectionIndex | undefined => {
    if (!Object.isFrozen(candidates)) return undefined;
    const index = indexes.get(candidates);
    if (index) return index;
    if (index === undefined) {
      indexes.set(candidates, null);
      return undefined;
    }
    const made = new SelectionIndex(candidates);
    indexes.set(candidates, made);
    return made;
  };
  return {
    name: 'auto',
    select(candidates: readonly FleetNode[]) {
      if (candidates.length === 0) return undefined;
      const at = now();
      const index = indexOf(candidates);
      let chosen = index ? index.first(at) : bestCool(candidates, at);
      if (chosen === SOME_STALE) chosen = bestAnyFreshness(candidates, at);
      else if (chosen === undefined) chosen = bestBusy(candidates);
      if (chosen) markPicked(chosen);
      return chosen;
    },
  };
}

/** What `bestCool` (and the index) answer when a candidate's metrics are not fresh: tier 2 scans. */
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

/** Tier 1 among nodes above 80 % CPU: usage, capability, round-robin. */
function compareBusy(a: FleetNode, b: FleetNode): number {
  return compareUsage(a, b) || compareCapability(a, b) || compareRotation(a, b);
}

/** Tier 1 when every node is above 80 % CPU (rare). */
function bestBusy(candidates: readonly FleetNode[]): FleetNode | undefined {
  let best: FleetNode | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const node = candidates[i] as FleetNode;
    if (best === undefined || compareBusy(node, best) < 0) best = node;
  }
  return best;
}

/**
 * Tier 1 as one order over every candidate, for the index: cool nodes first, by combined
 * active then `compareCoolTie` (`bestCool`), then the busy ones by `compareBusy` (`bestBusy`,
 * which decides only when no node is cool). Assumes fresh metrics, as tier 1 does.
 */
function compareTierOne(a: FleetNode, b: FleetNode): number {
  const cool = isCpuCool(a);
  if (cool !== isCpuCool(b)) return cool ? -1 : 1;
  if (!cool) return compareBusy(a, b);
  return (
    a.stats.inFlight + a.metrics.activeRequests - (b.stats.inFlight + b.metrics.activeRequests) ||
    compareCoolTie(a, b)
  );
}

/**
 * Tier 2 as one order, for the index, when no candidate's metrics are stale (some are missing):
 * then a node's heartbeat count counts exactly when it has metrics, and the order does not
 * depend on the time. As `bestAnyFreshness` otherwise.
 */
function compareTierTwo(a: FleetNode, b: FleetNode): number {
  return activeWithoutStale(a) - activeWithoutStale(b) || compareCapability(a, b) || compareRotation(a, b);
}

function activeWithoutStale(node: FleetNode): number {
  return node.stats.inFlight + (node.metrics.updatedAt === null ? 0 : node.metrics.activeRequests);
}

/** Oldest heartbeat first, nodes with none yet after every one that has. */
function compareMetricsAge(a: FleetNode, b: FleetNode): number {
  return ascendingMissingLast(a.metrics.updatedAt, b.metrics.updatedAt);
}

/**
 * `auto`'s choice over one unchanging candidate list without reading every node: a tournament
 * in each tier's order and one by heartbeat age, and a count of nodes without metrics. Every
 * candidate is fresh when none is missing and the oldest heartbeat is fresh (tier 1); with
 * some missing and none stale, tier 2's order is the time-free one above. Only when some
 * heartbeat is stale does the caller scan.
 *
 * Before each pick the index replays the matches of each node noted as changed since the last
 * one (once per node, however often it was noted), or every match if it fell further behind
 * than the change log. Only the tier in use is kept current; the other is rebuilt when the
 * fleet moves to it (a node's first heartbeat), and the age order only when a heartbeat came.
 */
class SelectionIndex {
  private readonly slots = new Map<FleetNode, number>();
  private readonly tierOne: SlotTournament;
  private readonly tierTwo: SlotTournament;
  private readonly oldest: SlotTournament;
  /** Per slot, the heartbeat time the age order was last played with (NaN: none). */
  private readonly heartbeatAt: Float64Array;
  /** Nodes without metrics (NaN in `heartbeatAt`): tier 1 needs none. */
  private missing = 0;
  /** Which tier's tournament was kept current: 1 or 2, 0 for neither yet. */
  private current: 0 | 1 | 2 = 0;
  /** Per slot, the catch-up that last replayed it, so that each is replayed once per pick. */
  private readonly replayedIn: Float64Array;
  private catchUps = 0;
  private readUpTo = selectionChangeCount();

  constructor(private readonly nodes: readonly FleetNode[]) {
    nodes.forEach((node, slot) => {
      this.slots.set(node, slot);
    });
    // Equal keys go by position in the list, as the scans keep the first of equals.
    const by = (compare: (a: FleetNode, b: FleetNode) => number) => (x: number, y: number) => {
      const order = compare(nodes[x] as FleetNode, nodes[y] as FleetNode);
      return order < 0 || (order === 0 && x < y);
    };
    this.tierOne = new SlotTournament(nodes.length, by(compareTierOne));
    this.tierTwo = new SlotTournament(nodes.length, by(compareTierTwo));
    this.oldest = new SlotTournament(nodes.length, by(compareMetricsAge));
    this.heartbeatAt = new Float64Array(nodes.length);
    this.replayedIn = new Float64Array(nodes.length);
    this.readHeartbeats();
  }

  /** As the scans would choose; `SOME_STALE` when some heartbeat is stale (then scan). */
  first(at: number): FleetNode | null {
    this.catchUp();
    const oldest = this.nodes[this.oldest.first()] as FleetNode;
    if (oldest.metrics.updatedAt !== null && !hasFreshMetrics(oldest, at)) return SOME_STALE;
    const tier = this.missing === 0 ? 1 : 2;
    const tournament = tier === 1 ? this.tierOne : this.tierTwo;
    if (tier !== this.current) {
      tournament.rebuild();
      this.current = tier;
    }
    return this.nodes[tournament.first()] as FleetNode;
  }

  private catchUp(): void {
    const end = selectionChangeCount();
    if (end - this.readUpTo > SELECTION_CHANGE_LOG_SIZE) {
      this.oldest.rebuild();
      this.readHeartbeats();
      this.current = 0;
    } else {
      const pass = ++this.catchUps;
      for (let at = this.readUpTo; at < end; at++) {
        const slot = this.slots.get(changedNodeAt(at));
        if (slot === undefined || this.replayedIn[slot] === pass) continue;
        this.replayedIn[slot] = pass;
        if (this.current === 1) this.tierOne.update(slot);
        else if (this.current === 2) this.tierTwo.update(slot);
        const heartbeatAt = (this.nodes[slot] as FleetNode).metrics.updatedAt ?? Number.NaN;
        const before = this.heartbeatAt[slot] as number;
        if (Object.is(heartbeatAt, before)) continue;
        this.heartbeatAt[slot] = heartbeatAt;
        this.missing += (Number.isNaN(heartbeatAt) ? 1 : 0) - (Number.isNaN(before) ? 1 : 0);
        this.oldest.update(slot);
      }
    }
    this.readUpTo = end;
  }

  private readHeartbeats(): void {
    this.missing = 0;
    this.nodes.forEach((node, slot) => {
      this.heartbeatAt[slot] = node.metrics.updatedAt ?? Number.NaN;
      if (node.metrics.updatedAt === null) this.missing++;
    });
  }
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
