import { describe, expect, it } from 'vitest';
import { AdmissionController } from '../../src/admission/controller.js';
import { renderPrometheusSamples, routingMetricSamples } from '../../src/admission/metrics.js';
import { PrefixIndex } from '../../src/balancer/prefix-index.js';
import { makeFleetNode } from '../proxy/helpers/fake-fleet.js';

describe('routing metric samples', () => {
  it('exposes queue depth, rejections, waits and the prefix index as Prometheus text', async () => {
    const node = makeFleetNode({ id: 'a', models: [{ id: 'm', ready: true, sequences: 1, queue_limit: 0 }] });
    const admission = new AdmissionController(
      { candidatesFor: () => [node] },
      { queueMax: 0, queueTimeoutMs: 1000 },
    );
    const ticket = await admission.admit('m', 'normal', new AbortController().signal);
    admission.begin('a', 'm');
    ticket.release();
    await expect(admission.admit('m', 'high', new AbortController().signal)).rejects.toMatchObject({
      code: 'queue_full',
    });
    const index = new PrefixIndex({ maxEntries: 10 });
    const text = renderPrometheusSamples(routingMetricSamples(admission.stats(), index.stats()));
    admission.close();
    expect(text).toContain('# TYPE llm_router_queue_depth gauge');
    expect(text).toContain('llm_router_queue_depth{priority="high"} 0');
    expect(text).toContain('llm_router_queue_admitted_total 1');
    expect(text).toContain('llm_router_queue_rejections_total{reason="full"} 1');
    expect(text).toContain('llm_router_queue_rejections_total{reason="timeout"} 0');
    expect(text).toContain('llm_router_prefix_index_entries 0');
    // Every sample line is `name{labels} value` with a HELP and TYPE before it.
    for (const line of text.trim().split('\n')) {
      expect(line).toMatch(
        /^(# (HELP|TYPE) llm_router_\w+ .+|llm_router_\w+(\{[a-z_]+="[^"]*"\})? [0-9.e+-]+)$/,
      );
    }
    expect(routingMetricSamples(admission.stats(), null).some((s) => s.name.includes('prefix'))).toBe(false);
  });
});
