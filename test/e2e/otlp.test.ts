/**
 * OpenTelemetry export end to end: a real router and real llama.cpp nodes (stories260K) with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector written here (an HTTP server that keeps
 * what is posted to /v1/traces). The span tree of a request (client span → router `route` →
 * `attempt` per node call → the node's `generation`, or `embedding` for embeddings), failover,
 * a collector that never answers, and no export at all when the variable is unset.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spanAttribute as attr, type Collector, startCollector } from '../support/otlp-collector.js';
import {
  modelsDir,
  type RouterProcess,
  type RunningProcess,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  waitUntil,
} from '../support/processes.js';

const randomHex = (chars: number) =>
  Array.from({ length: chars }, () => Math.floor(Math.random() * 16).toString(16)).join('');

const ready = async (client: OpenAI, model: string) =>
  (await client.models.list()).data.some(
    (m) => m.id === model && (m as unknown as { ready: boolean; nodes: unknown[] }).ready,
  );

async function chat(client: OpenAI, traceparent: string, stream = false) {
  const options = { headers: { traceparent } };
  const body = {
    model: 'stories260K',
    messages: [{ role: 'user' as const, content: 'Once upon a time' }],
    max_tokens: 12,
    temperature: 0,
  };
  if (!stream) return (await client.chat.completions.create(body, options)).usage;
  const chunks = await client.chat.completions.create(
    { ...body, stream: true, stream_options: { include_usage: true } },
    options,
  );
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of chunks) usage = chunk.usage ?? usage;
  return usage;
}

describe('OTLP export with a collector', () => {
  let collector: Collector;
  let router: RouterProcess;
  let nodeA: RunningProcess;
  let nodeB: RunningProcess;
  let client: OpenAI;
  const otel = (collectorUrl: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=s3cret%21',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });

  beforeAll(async () => {
    collector = await startCollector();
    router = await startRouterProcess({
      ...otel(collector.url),
      LLM_ROUTER_ALLOW_NO_GPU: 'true',
      LLM_ROUTER_LOAD_BALANCER_MODE: 'round_robin',
      // A killed node stays "online" long enough for a request to find out by failing over.
      LLM_ROUTER_NODE_TIMEOUT: '60',
      LLM_ROUTER_HEALTH_CHECK_INTERVAL: '30',
    });
    const nodeKey = await router.createKey('node:register');
    client = new OpenAI({
      apiKey: await router.createKey('api:inference'),
      baseURL: `${router.url}/v1`,
      maxRetries: 0,
    });
    const nodeEnv = { ...otel(collector.url), OTEL_SERVICE_NAME: 'llm-node-test' };
    [nodeA, nodeB] = await Promise.all([
      startNodeProcess({
        routerUrl: router.url,
        apiKey: nodeKey,
        models: modelsDir(['stories260K']),
        env: nodeEnv,
      }),
      startNodeProcess({
        routerUrl: router.url,
        apiKey: nodeKey,
        models: modelsDir(['stories260K']),
        env: nodeEnv,
      }),
    ]);
    await waitUntil(
      async () => {
        const models = (await client.models.list()).data as unknown as {
          id: string;
          nodes: { ready: boolean }[];
        }[];
        const model = models.find((m) => m.id === 'stories260K');
        return model?.nodes.filter((n) => n.ready).length === 2;
      },
      60_000,
      'both nodes online with the model ready',
    );
  });

  afterAll(async () => {
    await stopAll();
    await collector?.close();
  });

  const spansOf = (traceId: string) => collector.spans.filter((s) => s.traceId === traceId);
  const waitForSpans = (traceId: string, names: string[]) =>
    waitUntil(
      () => names.every((name) => spansOf(traceId).some((s) => s.name === name)),
      15_000,
      `spans ${names.join(', ')} of trace ${traceId}`,
    );

  it('exports one trace per request: route ← attempt ← generation, under the client span', async () => {
    const traceId = randomHex(32);
    const clientSpan = randomHex(16);
    const usage = await chat(client, `00-${traceId}-${clientSpan}-01`);
    await waitForSpans(traceId, ['route', 'attempt', 'generation']);
    const spans = spansOf(traceId);
    expect(spans.map((s) => s.name).sort()).toEqual(['attempt', 'generation', 'route']);
    const route = spans.find((s) => s.name === 'route')!;
    const attempt = spans.find((s) => s.name === 'attempt')!;
    const generation = spans.find((s) => s.name === 'generation')!;

    expect(route.parentSpanId).toBe(clientSpan);
    expect(attempt.parentSpanId).toBe(route.spanId);
    expect(generation.parentSpanId).toBe(attempt.spanId);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(3);
    for (const s of spans) {
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(BigInt(s.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(s.startTimeUnixNano));
    }
    // The attempt lies within the route; the generation starts after the attempt, give or take
    // the two processes' clocks (each takes its time origin at its own start).
    expect(BigInt(attempt.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(route.startTimeUnixNano));
    expect(BigInt(attempt.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(route.endTimeUnixNano));
    const skewNs = 50_000_000n;
    expect(BigInt(generation.startTimeUnixNano) + skewNs).toBeGreaterThan(BigInt(attempt.startTimeUnixNano));

    expect(route).toMatchObject({ service: 'llm-router', kind: 2, status: { code: 0 } });
    expect(attr(route, 'gen_ai.request.model')).toBe('stories260K');
    expect(attr(route, 'llm_router.kind')).toBe('chat');
    expect(attr(route, 'http.response.status_code')).toBe(200);
    expect(attr(route, 'gen_ai.usage.input_tokens')).toBe(usage?.prompt_tokens);
    expect(attr(route, 'gen_ai.usage.output_tokens')).toBe(usage?.completion_tokens);
    expect(attr(route, 'llm_router.failovers')).toBe(0);

    expect(attempt).toMatchObject({ service: 'llm-router', kind: 3, status: { code: 0 } });
    expect(attr(attempt, 'llm_router.node_id')).toBe(attr(route, 'llm_router.node_id'));
    expect(attr(attempt, 'llm_router.outcome')).toBe('ok');
    expect(attr(attempt, 'http.response.status_code')).toBe(200);

    expect(generation).toMatchObject({ service: 'llm-node-test', status: { code: 0 } });
    expect(attr(generation, 'gen_ai.request.model')).toBe('stories260K');
    expect(attr(generation, 'gen_ai.usage.input_tokens')).toBe(usage?.prompt_tokens);
    expect(attr(generation, 'gen_ai.usage.output_tokens')).toBe(usage?.completion_tokens);
    expect(attr(generation, 'llm_node.cached_tokens')).toBeGreaterThanOrEqual(0);
    const ttft = attr(generation, 'llm_node.time_to_first_token_ms') as number;
    const generationMs =
      Number(BigInt(generation.endTimeUnixNano) - BigInt(generation.startTimeUnixNano)) / 1e6;
    expect(ttft).toBeGreaterThan(0);
    expect(ttft).toBeLessThanOrEqual(generationMs);

    const post = collector.posts[0];
    expect(post.path).toBe('/v1/traces');
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['x-collector-token']).toBe('s3cret!');
  });

  it('starts a trace for a request without traceparent, and skips one the client did not sample', async () => {
    const res = await client.chat.completions
      .create({ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 })
      .withResponse();
    const traceId = res.response.headers.get('x-trace-id')!;
    await waitForSpans(traceId, ['route', 'attempt', 'generation']);
    expect(spansOf(traceId).find((s) => s.name === 'route')).not.toHaveProperty('parentSpanId');

    const unsampled = randomHex(32);
    await chat(client, `00-${unsampled}-${randomHex(16)}-00`);
    // A sampled request sent after it is exported; the unsampled one never is.
    const after = randomHex(32);
    await chat(client, `00-${after}-${randomHex(16)}-01`);
    await waitForSpans(after, ['route', 'attempt', 'generation']);
    expect(spansOf(unsampled)).toEqual([]);
  });

  it('a stream has the same tree, with the time to first token on the route', async () => {
    const traceId = randomHex(32);
    const usage = await chat(client, `00-${traceId}-${randomHex(16)}-01`, true);
    await waitForSpans(traceId, ['route', 'attempt', 'generation']);
    const route = spansOf(traceId).find((s) => s.name === 'route')!;
    expect(attr(route, 'llm_router.streamed')).toBe(true);
    expect(attr(route, 'llm_router.time_to_first_token_ms')).toBeGreaterThan(0);
    expect(attr(route, 'gen_ai.usage.output_tokens')).toBe(usage?.completion_tokens);
  });

  it("an embeddings request: the node's embedding span under the attempt", async () => {
    const traceId = randomHex(32);
    const res = await client.embeddings.create(
      { model: 'stories260K', input: ['hello', 'world'], encoding_format: 'float' },
      { headers: { traceparent: `00-${traceId}-${randomHex(16)}-01` } },
    );
    expect(res.data).toHaveLength(2);
    await waitForSpans(traceId, ['route', 'attempt', 'embedding']);
    const spans = spansOf(traceId);
    expect(spans.map((s) => s.name).sort()).toEqual(['attempt', 'embedding', 'route']);
    const route = spans.find((s) => s.name === 'route')!;
    const attempt = spans.find((s) => s.name === 'attempt')!;
    const embedding = spans.find((s) => s.name === 'embedding')!;
    expect(attempt.parentSpanId).toBe(route.spanId);
    expect(embedding.parentSpanId).toBe(attempt.spanId);
    expect(attr(route, 'llm_router.kind')).toBe('embeddings');
    expect(embedding).toMatchObject({ service: 'llm-node-test', kind: 2, status: { code: 0 } });
    expect(attr(embedding, 'gen_ai.request.model')).toBe('stories260K');
    expect(attr(embedding, 'llm_node.endpoint')).toBe('embeddings');
    expect(attr(embedding, 'llm_node.input_count')).toBe(2);
    expect(attr(embedding, 'gen_ai.usage.input_tokens')).toBe(res.usage.prompt_tokens);
    expect(attr(embedding, 'gen_ai.usage.input_tokens')).toBeGreaterThan(0);
    expect(attr(embedding, 'llm_node.outcome')).toBe('success');
  });

  it('an input longer than the context is the client’s error: no span says ERROR', async () => {
    const traceId = randomHex(32);
    const error = await client.embeddings
      .create(
        { model: 'stories260K', input: ['once upon a time '.repeat(3000)], encoding_format: 'float' },
        { headers: { traceparent: `00-${traceId}-${randomHex(16)}-01` } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    await waitForSpans(traceId, ['route', 'attempt', 'embedding']);
    const spans = spansOf(traceId);
    for (const span of spans) expect(span.status.code).toBe(0);
    const embedding = spans.find((s) => s.name === 'embedding')!;
    expect(attr(embedding, 'llm_node.outcome')).toBe('invalid_request');
    const route = spans.find((s) => s.name === 'route')!;
    expect(attr(route, 'http.response.status_code')).toBe(400);
  });

  it('a failover is two attempts: the failed one with its reason, then the one that served', async () => {
    nodeB.child.kill('SIGKILL');
    await new Promise((r) => nodeB.child.once('exit', r));
    // Round robin sends one of the next two requests to the dead node first.
    const traceIds = [randomHex(32), randomHex(32)];
    for (const traceId of traceIds) await chat(client, `00-${traceId}-${randomHex(16)}-01`);
    const failedOver = async () => {
      for (const traceId of traceIds) {
        const route = spansOf(traceId).find((s) => s.name === 'route');
        if (route && attr(route, 'llm_router.failovers') === 1) return traceId;
      }
      return null;
    };
    await waitUntil(async () => (await failedOver()) !== null, 15_000, 'a route span with one failover');
    const traceId = (await failedOver())!;
    await waitForSpans(traceId, ['generation']);
    const spans = spansOf(traceId);
    const route = spans.find((s) => s.name === 'route')!;
    const attempts = spans
      .filter((s) => s.name === 'attempt')
      .sort((a, b) => (attr(a, 'llm_router.attempt') as number) - (attr(b, 'llm_router.attempt') as number));
    expect(attempts).toHaveLength(2);
    expect(attempts.every((a) => a.parentSpanId === route.spanId)).toBe(true);
    expect(attr(attempts[0], 'llm_router.outcome')).toBe('connect');
    expect(attr(attempts[0], 'llm_router.failover_reason')).toEqual(expect.any(String));
    expect(attempts[0].status.code).toBe(2);
    expect(attr(attempts[1], 'llm_router.outcome')).toBe('ok');
    expect(attr(attempts[1], 'llm_router.node_id')).not.toBe(attr(attempts[0], 'llm_router.node_id'));
    // Only the node that answered generated, under the second attempt.
    const generations = spans.filter((s) => s.name === 'generation');
    expect(generations.map((g) => g.parentSpanId)).toEqual([attempts[1].spanId]);
    expect(attr(route, 'http.response.status_code')).toBe(200);
    expect(nodeA.child.exitCode).toBeNull();
  });
});

describe('OTLP export to a collector that never answers (router) or is down (node)', () => {
  let collector: Collector;
  let router: RouterProcess;
  let node: RunningProcess;
  let client: OpenAI;

  beforeAll(async () => {
    collector = await startCollector({ answer: 'hang' });
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
    };
    router = await startRouterProcess({ ...otel, LLM_ROUTER_ALLOW_NO_GPU: 'true' });
    const nodeKey = await router.createKey('node:register');
    client = new OpenAI({
      apiKey: await router.createKey('api:inference'),
      baseURL: `${router.url}/v1`,
      maxRetries: 0,
    });
    // Nothing listens there any more: the node's exports are refused at once.
    const down = await startCollector();
    await down.close();
    node = await startNodeProcess({
      routerUrl: router.url,
      apiKey: nodeKey,
      models: modelsDir(['stories260K']),
      env: { ...otel, OTEL_EXPORTER_OTLP_ENDPOINT: down.url },
    });
    await waitUntil(() => ready(client, 'stories260K'), 60_000, 'the node online');
  });

  afterAll(async () => {
    await stopAll();
    await collector?.close();
  });

  it('answers every request while exports hang, without waiting for them, and still shuts down', async () => {
    const durations: number[] = [];
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      const usage = await chat(client, `00-${randomHex(32)}-${randomHex(16)}-01`, i % 2 === 1);
      durations.push(performance.now() - started);
      expect(usage?.completion_tokens).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 60)); // lets the next export start (and hang)
    }
    // Exports were sent and are being held open by the collector while requests went on...
    expect(collector.pending()).toBeGreaterThan(0);
    // ...and no request waited for one (each export is held for up to 3 s).
    expect(Math.max(...durations)).toBeLessThan(2500);
    // Shutdown sends what is left within one export timeout (3 s): the router exits cleanly.
    const stopping = performance.now();
    await router.stop();
    expect(router.child.exitCode).toBe(0);
    expect(performance.now() - stopping).toBeLessThan(5000);
    expect(router.output()).toMatch(/OpenTelemetry export: exporting \d+ spans to .* failed/);
    // The node's collector was down: its spans were refused, and said so once.
    await node.stop();
    expect(node.output()).toMatch(/OpenTelemetry export: exporting \d+ spans to .* failed: .*ECONNREFUSED/);
  });
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('sends nothing, not even to the OTLP default address (127.0.0.1:4318)', async () => {
    // Fails (cannot listen) rather than passing vacuously when something else holds the port.
    const collector = await startCollector({ port: 4318 });
    try {
      const router = await startRouterProcess({
        LLM_ROUTER_ALLOW_NO_GPU: 'true',
        OTEL_SERVICE_NAME: 'not-exporting',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      });
      const nodeKey = await router.createKey('node:register');
      const client = new OpenAI({
        apiKey: await router.createKey('api:inference'),
        baseURL: `${router.url}/v1`,
        maxRetries: 0,
      });
      const node = await startNodeProcess({
        routerUrl: router.url,
        apiKey: nodeKey,
        models: modelsDir(['stories260K']),
        env: { OTEL_BSP_SCHEDULE_DELAY: '50' },
      });
      await waitUntil(() => ready(client, 'stories260K'), 60_000, 'the node online');
      const usage = await chat(client, `00-${randomHex(32)}-${randomHex(16)}-01`);
      expect(usage?.completion_tokens).toBeGreaterThan(0);
      // Shutdown would flush any queued span: after it, nothing can still be on its way.
      await node.stop();
      await router.stop();
      expect(router.output()).not.toMatch(/OpenTelemetry/);
      expect(collector.posts).toEqual([]);
    } finally {
      await stopAll();
      await collector.close();
    }
  });
});
