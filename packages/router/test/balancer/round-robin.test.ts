import { describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/balancer/index.js';
import { failoverOrder, node, picks } from './fixtures.js';

describe('round_robin policy', () => {
  const select = () => {
    const policy = createBalancer('round_robin');
    return (c: ReturnType<typeof node>[]) => policy.select(c, { model: 'm' });
  };

  it('rotates through every candidate in registration order', () => {
    const nodes = [node('a'), node('b'), node('c')];
    expect(picks(select(), nodes, 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('gives a newly joined node the next request', () => {
    const pick = select();
    const nodes = [node('a'), node('b')];
    expect(picks(pick, nodes, 3)).toEqual(['a', 'b', 'a']);
    nodes.push(node('new'));
    expect(picks(pick, nodes, 3)).toEqual(['new', 'b', 'a']);
  });

  it('stays fair when candidate lists differ per model', () => {
    const pick = select();
    const [a, b, c] = [node('a'), node('b'), node('c')];
    // Model X lives on a and b, model Y on b and c: alternate requests.
    const chosen = Array.from({ length: 9 }, (_, i) => pick(i % 2 === 0 ? [a, b] : [b, c])!.id);
    // The shared node b is never picked twice in a row, and a and c both keep getting turns.
    expect(chosen).toEqual(['a', 'b', 'a', 'c', 'b', 'c', 'a', 'b', 'a']);
  });

  it('yields every node once as a failover order, and nothing for no candidates', () => {
    const pick = select();
    const nodes = [node('a'), node('b'), node('c')];
    expect(new Set(failoverOrder(pick, nodes))).toEqual(new Set(['a', 'b', 'c']));
    expect(pick([])).toBeUndefined();
  });
});
