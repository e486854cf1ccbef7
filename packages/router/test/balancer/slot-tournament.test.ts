/**
 * The tournament must name the first slot in the order after any batch of key changes,
 * replayed in any order and any number of times: balancers learn of changes afterwards, in
 * batches, with a node noted several times.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotTournament } from '../../src/balancer/slot-tournament.js';

describe('SlotTournament', () => {
  it('names the first slot after batches of changes replayed in any order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }),
        fc.array(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 5 }), fc.nat({ max: 2 }))), {
          maxLength: 8,
        }),
        fc.infiniteStream(fc.nat()),
        (initial, batches, order) => {
          const keys = [...initial];
          const before = (a: number, b: number) =>
            (keys[a] as number) < (keys[b] as number) || (keys[a] === keys[b] && a < b);
          const firstByScan = () =>
            keys.reduce((best, _, i) => (best === -1 || before(i, best) ? i : best), -1);
          const tournament = new SlotTournament(keys.length, before);
          expect(tournament.first()).toBe(firstByScan());
          for (const batch of batches) {
            if (keys.length === 0) break;
            const changed: number[] = [];
            for (const [slot, key, repeats] of batch) {
              keys[slot % keys.length] = key;
              for (let r = 0; r <= repeats; r++) changed.push(slot % keys.length);
            }
            // Replayed after all the changes, shuffled.
            const shuffled = changed
              .map((slot) => [order.next().value as number, slot] as const)
              .sort((x, y) => x[0] - y[0]);
            for (const [, slot] of shuffled) tournament.update(slot);
            expect(tournament.first()).toBe(firstByScan());
          }
          tournament.rebuild();
          expect(tournament.first()).toBe(firstByScan());
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('has no first slot when the list is empty, and its one slot when it has one', () => {
    expect(new SlotTournament(0, () => false).first()).toBe(-1);
    const one = new SlotTournament(1, () => false);
    one.update(0);
    expect(one.first()).toBe(0);
  });
});
