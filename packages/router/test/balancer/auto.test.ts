import { describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/balancer/index.js';
import { failoverOrder, node, now, picks } from './fixtures.js';

const select = () => {
  const policy = createBalancer('auto', { now });
  return (c: ReturnType<typeof node>[]) => policy.select(c, { model: 'm' });
};
const first = (...nodes: ReturnType<typeof node>[]) => select()(nodes)?.id;
const cool = { cpuUsage: 20, memoryUsage: 30 };

describe('auto policy, every node with fresh metrics', () => {
  it('prefers the fewest combined active requests (heartbeat + router in-flight)', () => {
    expect(
      first(
        node('a', cool, { inFlight: 2 }),
        node('b', { ...cool, activeRequests: 1 }, { inFlight: 1 }),
        node('c', { ...cool, activeRequests: 1 }),
      ),
    ).toBe('c');
  });

  it('leaves out nodes above 80 % CPU while any node is at or below it', () => {
    expect(
      first(
        node('busy', { cpuUsage: 81, memoryUsage: 1 }),
        node('ok', { cpuUsage: 80, memoryUsage: 90 }, { inFlight: 3 }),
      ),
    ).toBe('ok');
  });

  it('then orders by cpu, mem, gpu, gpu_mem with missing values last', () => {
    expect(
      first(node('a', { cpuUsage: 30, memoryUsage: 50 }), node('b', { cpuUsage: 30, memoryUsage: 40 })),
    ).toBe('b');
    expect(
      first(node('a', { cpuUsage: 40, memoryUsage: 1 }), node('b', { cpuUsage: 30, memoryUsage: 99 })),
    ).toBe('b');
    expect(first(node('a', { ...cool, gpuUsage: null }), node('b', { ...cool, gpuUsage: 95 }))).toBe('b');
    expect(
      first(
        node('a', { ...cool, gpuUsage: 5, gpuMemoryUsage: 60 }),
        node('b', { ...cool, gpuUsage: 5, gpuMemoryUsage: 10 }),
      ),
    ).toBe('b');
  });

  it('then by GPU capability score, highest first', () => {
    expect(
      first(node('a', { ...cool, gpuCapabilityScore: 100 }), node('b', { ...cool, gpuCapabilityScore: 500 })),
    ).toBe('b');
    expect(
      first(node('a', { ...cool, gpuCapabilityScore: null }), node('b', { ...cool, gpuCapabilityScore: 1 })),
    ).toBe('b');
  });

  it('then by effective average latency: heartbeat value, else the router-measured mean', () => {
    expect(
      first(
        node('a', { ...cool, averageResponseTimeMs: 200 }),
        node('b', { ...cool, averageResponseTimeMs: 100 }),
      ),
    ).toBe('b');
    // a: router measured 1000 ms over 2 requests = 500 ms; b: heartbeat says 300 ms.
    expect(
      first(
        node('a', cool, { successes: 1, failures: 1, latencySumMs: 1000 }),
        node('b', { ...cool, averageResponseTimeMs: 300 }, { successes: 9, latencySumMs: 9 }),
      ),
    ).toBe('b');
    // A node never measured goes before a measured one, so it gets measured.
    expect(first(node('a', { ...cool, averageResponseTimeMs: 50 }), node('b', cool))).toBe('b');
  });

  it('then by fewest requests assigned in total', () => {
    expect(first(node('a', cool, { totalAssigned: 10 }), node('b', cool, { totalAssigned: 3 }))).toBe('b');
  });

  it('finally rotates round-robin among exact ties', () => {
    expect(picks(select(), [node('a', cool), node('b', cool), node('c', cool)], 6)).toEqual([
      'a',
      'b',
      'c',
      'a',
      'b',
      'c',
    ]);
  });

  it('when every node is above 80 % CPU: usage, then capability, then RR (active count no longer leads)', () => {
    expect(
      first(
        node('a', { cpuUsage: 95, memoryUsage: 10 }),
        node('b', { cpuUsage: 90, memoryUsage: 90, activeRequests: 5 }),
      ),
    ).toBe('b');
    expect(
      first(
        node('a', { cpuUsage: 90, memoryUsage: 50, gpuCapabilityScore: 1 }),
        node('b', { cpuUsage: 90, memoryUsage: 50, gpuCapabilityScore: 2 }),
      ),
    ).toBe('b');
    const hot = { cpuUsage: 99, memoryUsage: 99 };
    expect(picks(select(), [node('a', hot), node('b', hot)], 3)).toEqual(['a', 'b', 'a']);
  });
});

describe('auto policy, some metrics stale or missing', () => {
  it('orders by combined active only (a stale heartbeat count is ignored), not by usage', () => {
    expect(
      first(
        node('fresh-idle-cpu', { cpuUsage: 1, memoryUsage: 1 }, { inFlight: 1 }),
        node('stale-busy', { cpuUsage: 99, memoryUsage: 99, activeRequests: 50, stale: true }),
      ),
    ).toBe('stale-busy');
  });

  it('then by capability score, then round-robin', () => {
    expect(
      first(node('a', { gpuCapabilityScore: 10, stale: true }), node('b', { gpuCapabilityScore: 20 })),
    ).toBe('b');
    const never = { fresh: false } as const;
    expect(picks(select(), [node('a', never), node('b', never)], 3)).toEqual(['a', 'b', 'a']);
  });

  it('treats metrics 120 s old as fresh and 121 s old as stale', () => {
    const at120 = node('a', { cpuUsage: 99, memoryUsage: 99 });
    at120.metrics.updatedAt = now() - 120_000;
    // Both fresh: tier 1 drops a (above 80 % CPU) even though it has fewer requests.
    expect(first(at120, node('b', { cpuUsage: 10 }, { inFlight: 1 }))).toBe('b');
    at120.metrics.updatedAt = now() - 121_000;
    expect(first(at120, node('b', { cpuUsage: 10 }, { inFlight: 1 }))).toBe('a');
  });
});

describe('auto policy as a failover order', () => {
  it('returns each candidate once, best first, and nothing for no candidates', () => {
    const nodes = [node('a', cool, { inFlight: 2 }), node('b', cool), node('c', cool, { inFlight: 1 })];
    expect(failoverOrder(select(), nodes)).toEqual(['b', 'c', 'a']);
    expect(select()([])).toBeUndefined();
  });
});
