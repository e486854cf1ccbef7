import { describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/balancer/index.js';
import { metricsScore } from '../../src/balancer/metrics.js';
import { NOW, node, now, picks } from './fixtures.js';

const select = () => {
  const policy = createBalancer('metrics', { now });
  return (c: ReturnType<typeof node>[]) => policy.select(c, { model: 'm' });
};
const first = (...nodes: ReturnType<typeof node>[]) => select()(nodes)?.id;

describe('metrics policy', () => {
  it('scores cpu + mem + gpu + gpu_mem + 10 x combined active (missing GPU counts 0)', () => {
    expect(
      metricsScore(node('a', { cpuUsage: 10, memoryUsage: 20, gpuUsage: 30, gpuMemoryUsage: 40 }), NOW),
    ).toBe(100);
    expect(
      metricsScore(node('b', { cpuUsage: 10, memoryUsage: 20, activeRequests: 1 }, { inFlight: 2 }), NOW),
    ).toBe(60);
  });

  it('picks the lowest score', () => {
    expect(
      first(
        node('a', { cpuUsage: 50, memoryUsage: 50 }),
        node('b', { cpuUsage: 20, memoryUsage: 20 }, { inFlight: 1 }),
      ),
    ).toBe('b');
    expect(
      first(
        node('a', { cpuUsage: 10, memoryUsage: 10 }, { inFlight: 3 }),
        node('b', { cpuUsage: 20, memoryUsage: 20 }),
      ),
    ).toBe('b');
  });

  it('breaks score ties (within 1e-4) by GPU capability, then round-robin', () => {
    expect(
      first(
        node('a', { cpuUsage: 10, memoryUsage: 10, gpuCapabilityScore: 1 }, { inFlight: 2 }),
        node('b', { cpuUsage: 20.00001, memoryUsage: 20, gpuCapabilityScore: 9 }),
      ),
    ).toBe('b');
    const same = { cpuUsage: 10, memoryUsage: 10 };
    expect(picks(select(), [node('a', same), node('b', same)], 3)).toEqual(['a', 'b', 'a']);
  });

  it('scores only fresh nodes at or below 80 % CPU', () => {
    expect(
      first(
        node('stale', { cpuUsage: 0, memoryUsage: 0, stale: true }),
        node('fresh', { cpuUsage: 50, memoryUsage: 50 }),
      ),
    ).toBe('fresh');
    expect(
      first(node('hot', { cpuUsage: 81, memoryUsage: 0 }), node('warm', { cpuUsage: 70, memoryUsage: 70 })),
    ).toBe('warm');
  });

  it('falls back to round-robin over every candidate when none qualifies', () => {
    const hot = [node('a', { cpuUsage: 90, memoryUsage: 1 }), node('b', { cpuUsage: 95, memoryUsage: 1 })];
    expect(picks(select(), hot, 4)).toEqual(['a', 'b', 'a', 'b']);
    const unknown = [node('a', { fresh: false }), node('b', { fresh: false }), node('c', { stale: true })];
    expect(picks(select(), unknown, 3)).toEqual(['a', 'b', 'c']);
    expect(select()([])).toBeUndefined();
  });
});

describe('createBalancer', () => {
  it.each(['auto', 'metrics', 'round_robin', 'least_loaded'] as const)('builds the %s policy', (mode) => {
    expect(createBalancer(mode).name).toBe(mode);
  });
});
