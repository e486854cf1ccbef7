/**
 * How cloud requests fail: missing keys (nothing sent), unreachable and hanging providers,
 * streams that break in the middle, clients that leave — and the metrics that count it all.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, FakeUpstream, type SseScriptEvent } from './support/fake-upstream.js';
import { loadTranscripts } from './support/golden.js';
import { ADMIN_HEADER, startRouter, type TestRouter } from './support/router-app.js';

/** A streamed chat request, typed so the openai SDK returns its stream type. */
const streamingChat = (model: string) => ({
  model,
  messages: [{ role: 'user' as const, content: 'Hello' }],
  stream: true as const,
});

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'Hello' }],
  ...extra,
});

async function postJson(router: TestRouter, path: string, body: unknown) {
  const response = await fetch(`${router.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The `data:` payloads of an SSE body, in order. */
function ssePayloads(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));
}

function anthropicStreamEvents(): SseScriptEvent[] {
  const [golden] = loadTranscripts('anthropic').filter((g) => g.name === 'chat-stream-text');
  if (golden.upstream.response.kind !== 'sse') throw new Error('fixture should be SSE');
  return golden.upstream.response.events;
}

describe('a provider key that is not set', () => {
  let fake: FakeUpstream;
  let router: TestRouter;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
    // Base URLs point at the fake so that anything sent would be counted.
    router = await startRouter({
      OPENAI_BASE_URL: fake.url,
      ANTHROPIC_API_BASE_URL: fake.url,
      GOOGLE_API_BASE_URL: fake.url,
    });
  });
  afterAll(async () => {
    await router?.close();
    await fake?.close();
  });

  for (const [prefix, variable] of [
    ['openai', 'OPENAI_API_KEY'],
    ['anthropic', 'ANTHROPIC_API_KEY'],
    ['ahtnorpic', 'ANTHROPIC_API_KEY'],
    ['google', 'GOOGLE_API_KEY'],
  ]) {
    it(`gives 401 naming ${variable} for ${prefix}: and sends nothing upstream`, async () => {
      const reply = await postJson(
        router,
        '/v1/chat/completions',
        chat(`${prefix}:some-model`, { stream: true }),
      );
      expect(reply.status).toBe(401);
      expect(JSON.parse(reply.text)).toEqual({
        error: {
          message: `${variable} is required for ${prefix === 'ahtnorpic' ? 'anthropic' : prefix}: models`,
          type: 'authentication_error',
          param: null,
          code: 'missing_provider_key',
        },
      });
      expect(fake.requests).toHaveLength(0);
    });
  }

  it('reports every key as absent and lists no cloud models', async () => {
    expect(router.gateway.keyPresence()).toEqual({
      openai_key_present: false,
      google_key_present: false,
      anthropic_key_present: false,
    });
    expect(await router.gateway.listModels()).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('providers that cannot be reached or do not answer', () => {
  it('answers 502 when the connection is refused', async () => {
    const port = await closedPort();
    const router = await startRouter({
      ANTHROPIC_API_KEY: 'k',
      ANTHROPIC_API_BASE_URL: `http://127.0.0.1:${port}`,
    });
    try {
      const error = await router.client.chat.completions
        .create(chat('anthropic:claude-sonnet-4-6') as never)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 502, code: 'upstream_unreachable' });
      expect(router.results).toMatchObject([{ status: 502, success: false }]);
    } finally {
      await router.close();
    }
  });

  it('answers 504 when the provider accepts the request and never answers', async () => {
    const fake = await FakeUpstream.start();
    const router = await startRouter({
      GOOGLE_API_KEY: 'k',
      GOOGLE_API_BASE_URL: fake.url,
      LLM_ROUTER_CLOUD_TIMEOUT: '0.2',
    });
    try {
      fake.on(':streamGenerateContent', { kind: 'hang' });
      const error = await router.client.chat.completions
        .create(chat('google:gemini-2.5-flash', { stream: true }) as never)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 504, code: 'upstream_timeout' });
      expect(fake.requests).toHaveLength(1);
    } finally {
      await router.close();
      await fake.close();
    }
  });
});

describe('a client that leaves while the provider is still thinking', () => {
  it('aborts the upstream request and records 499', async () => {
    const fake = await FakeUpstream.start();
    const router = await startRouter({ GOOGLE_API_KEY: 'k', GOOGLE_API_BASE_URL: fake.url });
    try {
      fake.on(':generateContent', { kind: 'hang' });
      const controller = new AbortController();
      const request = router.client.chat.completions.create(
        { model: 'google:gemini-2.5-flash', messages: [{ role: 'user', content: 'Hello' }] },
        { signal: controller.signal },
      );
      await expect.poll(() => fake.requests.length).toBe(1);
      controller.abort();
      await expect(request).rejects.toThrow();
      await fake.peerClosed;
      await expect.poll(() => router.results.at(-1)).toMatchObject({ status: 499, success: false });
    } finally {
      await router.close();
      await fake.close();
    }
  });
});

describe('streams that break in the middle', () => {
  let fake: FakeUpstream;
  let router: TestRouter;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
    router = await startRouter({
      ANTHROPIC_API_KEY: 'k',
      ANTHROPIC_API_BASE_URL: fake.url,
      OPENAI_API_KEY: 'k',
      OPENAI_BASE_URL: `${fake.url}/v1`,
      LLM_ROUTER_CLOUD_IDLE_TIMEOUT: '0.3',
    });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await router?.close();
    await fake?.close();
  });

  it('ends with an SSE error event and [DONE] when the provider drops the connection', async () => {
    fake.on('/v1/messages', { kind: 'sse', events: anthropicStreamEvents(), cutAfter: 4 });
    const reply = await postJson(
      router,
      '/v1/chat/completions',
      chat('anthropic:claude-sonnet-4-6', { stream: true }),
    );
    expect(reply.status).toBe(200);
    const payloads = ssePayloads(reply.text);
    expect(payloads.at(-1)).toBe('[DONE]');
    const error = JSON.parse(payloads.at(-2) ?? '{}');
    expect(error).toMatchObject({ error: { type: 'upstream_error', code: 'upstream_connection_error' } });
    // The content that did arrive was relayed before the failure.
    expect(JSON.parse(payloads[1]).choices[0].delta.content).toBe('Hello');
    expect(router.results.at(-1)).toMatchObject({ status: 502, success: false, promptTokens: 25 });
  });

  it('raises the error in the openai SDK after the text that did arrive', async () => {
    fake.on('/v1/messages', { kind: 'sse', events: anthropicStreamEvents(), cutAfter: 5 });
    const stream = await router.client.chat.completions.create(streamingChat('anthropic:claude-sonnet-4-6'));
    let text = '';
    const consume = async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
      }
    };
    await expect(consume()).rejects.toThrow(/connection failed/);
    expect(text).toBe('Hello! How can I help?');
  });

  it('treats a stream that ends without message_stop as cut short', async () => {
    const events = anthropicStreamEvents().filter((event) => event.event !== 'message_stop');
    fake.on('/v1/messages', { kind: 'sse', events });
    const reply = await postJson(
      router,
      '/v1/chat/completions',
      chat('anthropic:claude-sonnet-4-6', { stream: true }),
    );
    const payloads = ssePayloads(reply.text);
    expect(JSON.parse(payloads.at(-2) ?? '{}')).toMatchObject({
      error: { code: 'upstream_stream_incomplete' },
    });
    expect(payloads.at(-1)).toBe('[DONE]');
  });

  it('gives up with a 504 error event when the provider goes silent mid-stream', async () => {
    fake.on('/v1/messages', { kind: 'sse', events: anthropicStreamEvents(), holdAfter: 4 });
    const reply = await postJson(
      router,
      '/v1/chat/completions',
      chat('anthropic:claude-sonnet-4-6', { stream: true }),
    );
    const payloads = ssePayloads(reply.text);
    expect(JSON.parse(payloads.at(-2) ?? '{}')).toMatchObject({ error: { code: 'upstream_timeout' } });
    expect(router.results.at(-1)).toMatchObject({ status: 504, success: false });
  });

  it('ends an OpenAI passthrough stream that breaks the same way', async () => {
    const [golden] = loadTranscripts('openai').filter((g) => g.name === 'chat-stream-tool-calls-parallel');
    if (golden.upstream.response.kind !== 'sse') throw new Error('fixture should be SSE');
    fake.on('/chat/completions', { ...golden.upstream.response, cutAfter: 3 });
    const reply = await postJson(router, '/v1/chat/completions', golden.client.body);
    const payloads = ssePayloads(reply.text);
    expect(payloads).toHaveLength(5);
    expect(JSON.parse(payloads[3])).toMatchObject({ error: { type: 'upstream_error' } });
    expect(payloads[4]).toBe('[DONE]');
  });

  it('stops the Anthropic request when the client leaves a translated stream', async () => {
    fake.on('/v1/messages', { kind: 'sse', events: anthropicStreamEvents(), holdAfter: 4 });
    const stream = await router.client.chat.completions.create(streamingChat('anthropic:claude-sonnet-4-6'));
    for await (const chunk of stream) {
      // Leaving the loop aborts the SDK's request: the client hangs up mid-stream.
      if (chunk.choices[0]?.delta.content === 'Hello') break;
    }
    await fake.peerClosed;
    await expect.poll(() => router.results.at(-1)?.status).toBe(499);
  });

  it('counts requests by provider and status, with latency and time to first token', async () => {
    const denied = await fetch(`${router.url}/v0/metrics/cloud`);
    expect(denied.status).toBe(403);
    const response = await fetch(`${router.url}/v0/metrics/cloud`, { headers: ADMIN_HEADER });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    // Earlier tests in this block: three 502/504 Anthropic failures, one 499, one OpenAI 502.
    expect(text).toMatch(/cloud_requests_total\{provider="anthropic",status="502"\} 3/);
    expect(text).toMatch(/cloud_requests_total\{provider="anthropic",status="504"\} 1/);
    expect(text).toMatch(/cloud_requests_total\{provider="anthropic",status="499"\} 1/);
    expect(text).toMatch(/cloud_requests_total\{provider="openai",status="502"\} 1/);
    expect(text).toMatch(/cloud_request_latency_seconds_count\{provider="anthropic"\} 5/);
    expect(text).toMatch(/cloud_time_to_first_token_seconds_count\{provider="anthropic"\} 5/);
    expect(text).toMatch(/cloud_request_latency_seconds_bucket\{le="\+Inf",provider="openai"\} 1/);
  });
});
