/**
 * The single-pass `auto` policy must choose exactly what the straightforward version
 * (auto-reference.ts: closures, a filtered copy, `pickBest`) chooses, over random fleets and
 * over whole sequences of picks, failovers and finished requests, since both keep a
 * round-robin memory.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/balancer/index.js';
import type { FleetNode } from '../../src/fleet/types.js';
import { createReferenceAutoPolicy } from './auto-reference.js';
import { node, now } from './fixtures.js';

const nodeShape = fc.record({
  freshness: fc.constantFrom('fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'stale', 'none'),
  cpuUsage: fc.constantFrom(null, 10, 10, 80, 81, 95),
  memoryUsage: fc.constantFrom(null, 1),
  gpuUsage: fc.constantFrom(null, 1),
  gpuMemoryUsage: fc.constantFrom(null, 1),
  gpuCapabilityScore: fc.constantFrom(null, 1, 2),
  activeRequests: fc.integer({ min: 0, max: 2 }),
  averageResponseTimeMs: fc.constantFrom(null, 1),
  inFlight: fc.integer({ min: 0, max: 2 }),
  totalAssigned: fc.integer({ min: 0, max: 2 }),
  successes: fc.integer({ min: 0, max: 1 }),
  latencySumMs: fc.constantFrom(0, 1),
});
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

/** Steps: a pick, a failover walk (pick, drop, repeat), or a finished request changing load. */
const step = fc.oneof(
  fc.record({ kind: fc.constant('pick' as const) }),
  fc.record({ kind: fc.constant('failover' as const) }),
  fc.record({
    kind: fc.constant('finish' as const),
    index: fc.nat(),
    inFlight: fc.integer({ min: 0, max: 2 }),
  }),
);

describe('auto policy: single pass chooses as the reference does', () => {
  it('over random fleets and sequences of picks, failovers and load changes', () => {
    fc.assert(
      fc.property(
        fc.array(nodeShape, { minLength: 1, maxLength: 12 }),
        fc.array(step, { minLength: 1, maxLength: 30 }),
        (shapes, steps) => {
          // Two copies of the fleet so each policy sees its own (identical) nodes.
          const mine = build(shapes);
          const theirs = build(shapes).map((n, i) => ({
            ...n,
            registeredAt: (mine[i] as FleetNode).registeredAt,
          }));
          const fast = createBalancer('auto', { now });
          const reference = createReferenceAutoPolicy({ now });
          for (const s of steps) {
            if (s.kind === 'pick') {
              expect(fast.select(mine, { model: 'm' })?.id).toBe(
                reference.select(theirs, { model: 'm' })?.id,
              );
            } else if (s.kind === 'failover') {
              const left = [...mine];
              const leftRef = [...theirs];
              for (;;) {
                const a = fast.select(left, { model: 'm' });
                const b = reference.select(leftRef, { model: 'm' });
                expect(a?.id).toBe(b?.id);
                if (!a || !b) break;
                left.splice(left.indexOf(a), 1);
                leftRef.splice(leftRef.indexOf(b), 1);
              }
            } else {
              const i = s.index % mine.length;
              (mine[i] as FleetNode).stats.inFlight = s.inFlight;
              (theirs[i] as FleetNode).stats.inFlight = s.inFlight;
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
