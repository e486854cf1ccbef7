/**
 * OpenTelemetry export for a cloud model, in process: the router's `route` span and one
 * `attempt` span for the provider call, whose id is the parent the provider receives in its
 * `traceparent`; the exporter's counters on /metrics. (Nodes: test/e2e/otlp.test.ts.)
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, spanAttribute, startCollector } from '../../../test/support/otlp-collector.js';
import { FakeUpstream } from './cloud/support/fake-upstream.js';
import { startTestRouter, type TestRouter } from './support/router-harness.js';

describe('OTLP spans of a cloud request', () => {
  let upstream: FakeUpstream;
  let collector: Collector;
  let router: TestRouter;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    collector = await startCollector();
    router = await startTestRouter({
      ANTHROPIC_API_KEY: 'test-anthropic-key',
      ANTHROPIC_API_BASE_URL: upstream.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_SERVICE_NAME: 'router-under-test',
    });
    client = new OpenAI({
      apiKey: await router.createKey(['api:inference']),
      baseURL: `${router.url}/v1`,
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await router.stop();
    await upstream.close();
    await collector.close();
  });

  it('exports route and attempt spans, and passes the attempt to the provider as the parent', async () => {
    upstream.on('/v1/messages', {
      kind: 'json',
      body: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-test',
        content: [{ type: 'text', text: 'Hello' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 11, output_tokens: 4 },
      },
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await client.chat.completions.create(
      { model: 'anthropic:claude-test', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
    );
    const deadline = Date.now() + 10_000;
    while (collector.spans.filter((s) => s.traceId === traceId).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const spans = collector.spans.filter((s) => s.traceId === traceId);
    const route = spans.find((s) => s.name === 'route');
    const attempt = spans.find((s) => s.name === 'attempt');
    expect(route).toMatchObject({ service: 'router-under-test', parentSpanId: '00f067aa0ba902b7', kind: 2 });
    expect(attempt).toMatchObject({ service: 'router-under-test', parentSpanId: route?.spanId, kind: 3 });
    expect(spanAttribute(route!, 'llm_router.cloud_provider')).toBe('anthropic');
    expect(spanAttribute(route!, 'gen_ai.usage.input_tokens')).toBe(11);
    expect(spanAttribute(route!, 'gen_ai.usage.output_tokens')).toBe(4);
    expect(spanAttribute(attempt!, 'llm_router.cloud_provider')).toBe('anthropic');
    expect(spanAttribute(attempt!, 'http.response.status_code')).toBe(200);
    expect(spanAttribute(attempt!, 'llm_router.outcome')).toBe('ok');
    expect(upstream.requests.at(-1)?.headers.traceparent).toBe(`00-${traceId}-${attempt?.spanId}-01`);

    const metrics = await router.call('GET', '/metrics', {
      headers: { authorization: `Bearer ${await router.createKey(['metrics:read'])}` },
    });
    expect(String(metrics.body)).toMatch(/llm_router_otlp_spans_total\{result="exported"\} [1-9]/);
    expect(String(metrics.body)).toMatch(/llm_router_otlp_spans_total\{result="dropped"\} 0/);
  });
});
