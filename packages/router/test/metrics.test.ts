/**
 * Prometheus `/metrics` on the router: who may read it (admin, `metrics:read`, not inference
 * keys), the unauthenticated listener on LLM_ROUTER_METRICS_ADDR, what a routed request adds,
 * gauges other modules register, and that promtool accepts the output.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtoolCheckMetrics } from '../../../test/support/promtool.js';
import { type FakeNode, startFakeNode } from './proxy/helpers/fake-node.js';
import { gpuNodeRegistration, startTestRouter, type TestRouter } from './support/router-harness.js';

/** The value of one series in an exposition, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('router /metrics', () => {
  let router: TestRouter;
  let node: FakeNode;
  let nodeId: string;
  let inferenceKey: string;
  let metricsKey: string;

  beforeAll(async () => {
    router = await startTestRouter({ LLM_ROUTER_METRICS_ADDR: '127.0.0.1:0' });
    node = await startFakeNode('alpha');
    const nodeKey = await router.createKey(['node:register']);
    inferenceKey = await router.createKey(['api:inference']);
    metricsKey = await router.createKey(['metrics:read']);
    const registered = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: node.url, models: [{ id: 'm1', ready: true }] }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    expect(registered.status).toBe(201);
    nodeId = registered.body.node_id;
  });
  afterAll(async () => {
    await router.stop();
    await node.close();
  });

  const scrape = (headers: Record<string, string> = {}) => fetch(`${router.url}/metrics`, { headers });

  it('needs a metrics:read or admin key; inference keys and strangers are refused', async () => {
    expect((await scrape()).status).toBe(401);
    const refused = await scrape({ authorization: `Bearer ${inferenceKey}` });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('insufficient_scope');
    const scraper = await scrape({ authorization: `Bearer ${metricsKey}` });
    expect(scraper.status).toBe(200);
    expect(scraper.headers.get('content-type')).toContain('text/plain');
    const admin = await scrape({ authorization: `Bearer ${await router.createKey(['admin:*'])}` });
    expect(admin.status).toBe(200);
    // A metrics:read key opens nothing else.
    const other = await router.call('GET', '/v0/nodes', {
      headers: { authorization: `Bearer ${metricsKey}` },
    });
    expect(other.status).toBe(403);
  });

  it('counts a routed request by kind, model, status class and backend, with tokens and failures', async () => {
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: inferenceKey });
    await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
    const stream = await client.chat.completions.create({
      model: 'm1',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _chunk of stream) {
    }
    await expect(client.chat.completions.create({ model: 'nope', messages: [] })).rejects.toThrow();
    const text = await (await scrape({ authorization: `Bearer ${metricsKey}` })).text();
    expect(
      sample(
        text,
        `llm_router_requests_total{kind="chat",model="m1",status_class="2xx",backend="${nodeId}"}`,
      ),
    ).toBe(2);
    // A request that reached no backend does not lend its (client-chosen) model name to a label.
    expect(text).toMatch(
      /llm_router_requests_total\{kind="chat",model="none",status_class="4xx",backend="none"\} 1/,
    );
    expect(text).not.toContain('model="nope"');
    expect(sample(text, 'llm_router_request_duration_seconds_count{kind="chat",streamed="false"}')).toBe(2);
    expect(sample(text, 'llm_router_request_duration_seconds_count{kind="chat",streamed="true"}')).toBe(1);
    expect(sample(text, 'llm_router_time_to_first_token_seconds_count{kind="chat"}')).toBe(1);
    expect(sample(text, 'llm_router_overhead_seconds_count{kind="chat"}')).toBe(2);
    expect(sample(text, 'llm_router_tokens_total{kind="chat",model="m1",type="prompt"}')).toBeGreaterThan(0);
    expect(sample(text, 'llm_router_nodes{state="online"}')).toBe(1);
    expect(sample(text, `llm_router_node_in_flight_requests{node="${nodeId}"}`)).toBe(0);
    expect(sample(text, `llm_router_node_heartbeat_age_seconds{node="${nodeId}"}`)).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'llm_router_history_dropped_rows_total')).toBe(0);
    expect(text).toContain('llm_router_history_queue_rows');
    expect(text).toContain('llm_router_process_resident_memory_bytes');
  });

  it('counts a failover by the failed attempt reason', async () => {
    const broken = await startFakeNode('broken');
    broken.fault = { kind: 'status', status: 500, body: '{"error":{"message":"boom"}}' };
    const nodeKey = await router.createKey(['node:register']);
    await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({
        machine_name: 'broken',
        base_url: broken.url,
        models: [{ id: 'm2', ready: true }],
      }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({
        machine_name: 'good',
        base_url: node.url,
        models: [{ id: 'm2', ready: true }],
      }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    const auth = { authorization: `Bearer ${inferenceKey}` };
    // Whichever node the balancer picks first, a few requests make the broken one fail over.
    for (let i = 0; i < 4; i++) {
      const res = await router.call('POST', '/v1/chat/completions', {
        body: { model: 'm2', messages: [{ role: 'user', content: 'hi' }] },
        headers: auth,
      });
      expect(res.status).toBe(200);
    }
    const text = await (await scrape({ authorization: `Bearer ${metricsKey}` })).text();
    expect(sample(text, 'llm_router_failovers_total{reason="upstream"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'llm_router_attempt_failures_total{reason="upstream"}')).toBeGreaterThanOrEqual(1);
    await broken.close();
  });

  it('serves other modules’ gauges registered through registerGauge', async () => {
    router.metrics.registerGauge({
      name: 'llm_router_test_queue_length',
      help: 'A queue another module owns.',
      labelNames: ['model'],
      collect: () => [{ value: 3, labels: { model: 'm1' } }],
    });
    const text = await (await scrape({ authorization: `Bearer ${metricsKey}` })).text();
    expect(sample(text, 'llm_router_test_queue_length{model="m1"}')).toBe(3);
  });

  it('serves /metrics without auth on LLM_ROUTER_METRICS_ADDR, and nothing else there', async () => {
    expect(router.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${router.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('llm_router_requests_total');
    expect((await fetch(`${router.metricsUrl}/v1/models`)).status).toBe(404);
  });

  it('passes promtool check metrics', async () => {
    const text = await (await scrape({ authorization: `Bearer ${metricsKey}` })).text();
    // Admission control's queue figures are on the same registry.
    expect(text).toContain('# TYPE llm_router_queue_rejections_total counter');
    expect(text).toMatch(/^llm_router_queue_depth\{priority="normal"\} 0$/m);
    const result = await promtoolCheckMetrics(text);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });
});
