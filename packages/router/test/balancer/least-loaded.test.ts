import { describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/balancer/index.js';
import { failoverOrder, node, now, picks } from './fixtures.js';

describe('least_loaded policy', () => {
  const select = () => {
    const policy = createBalancer('least_loaded', { now });
    return (c: ReturnType<typeof node>[]) => policy.select(c, { model: 'm' });
  };

  it('picks the node with the fewest requests in flight through the router', () => {
    const nodes = [
      node('a', {}, { inFlight: 3 }),
      node('b', {}, { inFlight: 1 }),
      node('c', {}, { inFlight: 2 }),
    ];
    expect(select()(nodes)!.id).toBe('b');
  });

  it("adds the node's fresh heartbeat count, but ignores a stale one", () => {
    const fresh = [node('a', { activeRequests: 4 }, { inFlight: 0 }), node('b', {}, { inFlight: 2 })];
    expect(select()(fresh)!.id).toBe('b');
    const stale = [
      node('a', { activeRequests: 4, stale: true }, { inFlight: 0 }),
      node('b', {}, { inFlight: 2 }),
    ];
    expect(select()(stale)!.id).toBe('a');
  });

  it('rotates among equally loaded nodes', () => {
    const nodes = [node('a'), node('b'), node('c', {}, { inFlight: 1 })];
    expect(picks(select(), nodes, 4)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('orders a failover from least to most loaded', () => {
    const nodes = [
      node('a', {}, { inFlight: 5 }),
      node('b', {}, { inFlight: 0 }),
      node('c', {}, { inFlight: 2 }),
    ];
    expect(failoverOrder(select(), nodes)).toEqual(['b', 'c', 'a']);
  });
});
