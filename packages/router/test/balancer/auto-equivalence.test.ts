/**
 * The `auto` policy must choose exactly what the straightforward version (auto-reference.ts:
 * closures, a filtered copy, `pickBest`) chooses, over random fleets and over whole sequences
 * of picks, failovers, finished requests, heartbeats and time passing, since both keep a
 * round-robin memory. Both of its paths are checked: the scan (any list) and the index it
 * keeps for the fleet's frozen candidate lists, which learns of changes from the change log
 * (fleet/selection-changes.ts), as the registry's changes reach it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/balancer/index.js';
import { METRICS_FRESH_MS } from '../../src/balancer/node-signals.js';
import { noteSelectionChange, SELECTION_CHANGE_LOG_SIZE } from '../../src/fleet/selection-changes.js';
import type { FleetNode } from '../../src/fleet/types.js';
import { createReferenceAutoPolicy } from './auto-reference.js';
import { NOW, node } from './fixtures.js';

const metricsShape = {
  cpuUsage: fc.constantFrom(null, 10, 10, 80, 81, 95),
  memoryUsage: fc.constantFrom(null, 1),
  gpuUsage: fc.constantFrom(null, 1),
  gpuMemoryUsage: fc.constantFrom(null, 1),
  gpuCapabilityScore: fc.constantFrom(null, 1, 2),
  activeRequests: fc.integer({ min: 0, max: 2 }),
  averageResponseTimeMs: fc.constantFrom(null, 1),
};
const nodeFields = () => ({
  freshness: fc.constantFrom('fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'stale', 'none'),
  ...metricsShape,
  inFlight: fc.integer({ min: 0, max: 2 }),
  totalAssigned: fc.integer({ min: 0, max: 2 }),
  successes: fc.integer({ min: 0, max: 1 }),
  latencySumMs: fc.constantFrom(0, 1),
});
const nodeShape = fc.record(nodeFields());
type Shape = typeof nodeShape extends fc.Arbitrary<infer T> ? T : never;

function build(shapes: Shape[]): FleetNode[] {
  return shapes.map((s, i) => {
    const { freshness, inFlight, totalAssigned, successes, latencySumMs, ...metrics } = s;
    return node(
      `n${i}`,
      { ...metrics, stale: freshness === 'stale', fresh: freshness === 'none' ? false : undefined },
      { inFlight, totalAssigned, successes, latencySumMs },
    );
  });
}

/**
 * Steps: a pick, a failover walk, a finished request, a heartbeat (some without metrics), or
 * time passing (up to `maxWaitMs`, which can leave heartbeats stale).
 */
function steps(maxWaitMs: number, missing: fc.Arbitrary<boolean>) {
  return fc.oneof(
    fc.record({ kind: fc.constant('pick' as const) }),
    fc.record({ kind: fc.constant('failover' as const) }),
    fc.record({
      kind: fc.constant('finish' as const),
      index: fc.nat(),
      inFlight: fc.integer({ min: 0, max: 2 }),
    }),
    fc.record({
      kind: fc.constant('heartbeat' as const),
      index: fc.nat(),
      metrics: fc.record(metricsShape),
      missing,
    }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: maxWaitMs }) }),
  );
}
const step = steps(METRICS_FRESH_MS + 10_000, fc.boolean());
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/** Three copies of one fleet: the index's (frozen), the scan's and the reference's. */
function fleets(shapes: Shape[]) {
  const indexed = build(shapes);
  const copy = () =>
    build(shapes).map((n, i) => ({ ...n, registeredAt: (indexed[i] as FleetNode).registeredAt }));
  return { indexed: Object.freeze(indexed), scanned: copy(), reference: copy() };
}

function run(shapes: Shape[], steps: Step[]): void {
  let clock = NOW;
  const now = () => clock;
  const { indexed, scanned, reference } = fleets(shapes);
  const fast = createBalancer('auto', { now });
  const slow = createReferenceAutoPolicy({ now });
  const pickAll = (lists: readonly (readonly FleetNode[])[]) =>
    lists.map((list, i) => (i === 2 ? slow : fast).select(list, { model: 'm' }));
  // As the registry changes a node: the change, then its note for the balancers.
  const change = (i: number, apply: (n: FleetNode) => void) => {
    for (const list of [indexed, scanned, reference]) {
      const n = list[i % list.length] as FleetNode;
      apply(n);
      noteSelectionChange(n);
    }
  };
  for (const s of steps) {
    if (s.kind === 'pick') {
      const [a, b, c] = pickAll([indexed, scanned, reference]);
      expect([a?.id, b?.id]).toEqual([c?.id, c?.id]);
    } else if (s.kind === 'failover') {
      const left = [[...indexed], [...scanned], [...reference]];
      for (;;) {
        const chosen = pickAll(left);
        expect(chosen.map((n) => n?.id)).toEqual(Array(3).fill(chosen[2]?.id));
        if (!chosen[2]) break;
        left.forEach((list, i) => {
          list.splice(list.indexOf(chosen[i] as FleetNode), 1);
        });
      }
    } else if (s.kind === 'finish') {
      change(s.index, (n) => {
        n.stats.inFlight = s.inFlight;
        n.stats.successes++;
        n.stats.latencySumMs += 1;
      });
    } else if (s.kind === 'heartbeat') {
      change(s.index, (n) => {
        n.metrics = { ...n.metrics, ...s.metrics, updatedAt: s.missing ? null : clock };
      });
    } else {
      clock += s.ms;
    }
  }
}

describe('auto policy: the scan and the index choose as the reference does', () => {
  it('over random fleets and sequences of picks, failovers, finished requests, heartbeats and time', () => {
    fc.assert(
      fc.property(
        fc.array(nodeShape, { minLength: 1, maxLength: 12 }),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        run,
      ),
      { numRuns: 1000 },
    );
  });

  it('over a large fleet with many changes between picks', () => {
    fc.assert(
      fc.property(
        // Every node fresh and staying so, mostly: one stale node sends every pick to tier 2,
        // which does not use the index.
        fc.array(fc.record({ ...nodeFields(), freshness: fc.constant('fresh') }), {
          minLength: 100,
          maxLength: 300,
        }),
        fc.array(steps(1_000, fc.constantFrom(...Array(40).fill(false), true)), {
          minLength: 50,
          maxLength: 300,
        }),
        run,
      ),
      { numRuns: 30 },
    );
  });

  it('an index that fell further behind than the change log rebuilds, and still agrees', () => {
    const shapes = Array.from(
      { length: 50 },
      (_, i): Shape => ({
        freshness: 'fresh',
        cpuUsage: 10,
        memoryUsage: null,
        gpuUsage: null,
        gpuMemoryUsage: null,
        gpuCapabilityScore: null,
        activeRequests: i % 3,
        averageResponseTimeMs: null,
        inFlight: 0,
        totalAssigned: 0,
        successes: 0,
        latencySumMs: 0,
      }),
    );
    const { indexed, reference } = fleets(shapes);
    const fast = createBalancer('auto', { now: () => NOW });
    const slow = createReferenceAutoPolicy({ now: () => NOW });
    // Two picks: the second makes the list's index.
    for (let i = 0; i < 2; i++) {
      expect(fast.select(indexed, { model: 'm' })?.id).toBe(slow.select(reference, { model: 'm' })?.id);
    }
    // The best node gets busy, then the log wraps around many times without it.
    for (const list of [indexed, reference]) {
      const first = list.find((n) => n.metrics.activeRequests === 0) as FleetNode;
      first.metrics = { ...first.metrics, activeRequests: 9 };
      noteSelectionChange(first);
    }
    const bystander = node('elsewhere');
    for (let i = 0; i < 3 * SELECTION_CHANGE_LOG_SIZE; i++) noteSelectionChange(bystander);
    for (let i = 0; i < 100; i++) {
      expect(fast.select(indexed, { model: 'm' })?.id).toBe(slow.select(reference, { model: 'm' })?.id);
    }
  });
});
