import { describe, expect, it } from 'vitest';
import { promtoolCheckMetrics } from '../../../../test/support/promtool.js';
import { AdmissionController } from '../../src/admission/controller.js';
import { registerRoutingMetrics, routingMetricSamples } from '../../src/admission/metrics.js';
import { PrefixIndex } from '../../src/balancer/prefix-index.js';
import type { FleetView } from '../../src/fleet/types.js';
import { RouterMetrics } from '../../src/observability/metrics.js';
import { makeFleetNode } from '../proxy/helpers/fake-fleet.js';

describe('routing metric samples', () => {
  it('exposes queue depth, rejections, waits and the prefix index on the router Prometheus registry, promtool-clean', async () => {
    const node = makeFleetNode({ id: 'a', models: [{ id: 'm', ready: true, sequences: 1, queue_limit: 0 }] });
    const admission = new AdmissionController(
      { candidatesFor: () => [node] },
      { queueMax: 0, queueTimeoutMs: 1000 },
    );
    const ticket = await admission.admit('m', 'normal', new AbortController().signal);
    admission.begin(node, 'm');
    ticket.release();
    await expect(admission.admit('m', 'high', new AbortController().signal)).rejects.toMatchObject({
      code: 'queue_full',
    });
    const index = new PrefixIndex({ maxEntries: 10 });
    const metrics = new RouterMetrics({ fleet: { all: () => [node] } as unknown as FleetView });
    registerRoutingMetrics(metrics, () => routingMetricSamples(admission.stats(), index.stats()));
    const text = await metrics.render();
    admission.close();
    expect(text).toContain('# TYPE llm_router_queue_depth gauge');
    expect(text).toContain('llm_router_queue_depth{priority="high"} 0');
    expect(text).toContain('llm_router_queue_admitted_total 1');
    expect(text).toContain('llm_router_queue_rejections_total{reason="full"} 1');
    expect(text).toContain('llm_router_queue_rejections_total{reason="timeout"} 0');
    expect(text).toContain('llm_router_prefix_index_entries 0');
    expect(text).toContain('llm_router_prefix_index_checks_total 0');
    expect(text).toContain('llm_router_prefix_index_misses_total 0');
    expect(text).toContain('# TYPE llm_router_queue_rejections_total counter');
    expect(text).toContain('llm_router_queue_wait_seconds_total 0');
    const lint = await promtoolCheckMetrics(text);
    expect(lint.output).toBe('');
    expect(lint.code).toBe(0);
    expect(routingMetricSamples(admission.stats(), null).some((s) => s.name.includes('prefix'))).toBe(false);
  });
});
