/**
 * OpenAI (and OpenAI-compatible) passthrough: golden transcripts plus the promises that make it
 * a passthrough — the client's bytes go out with only the model renamed, and SSE is relayed as
 * it arrives, not after the upstream finishes.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from './support/fake-upstream.js';
import { loadTranscripts } from './support/golden.js';
import { describeGoldenTranscripts } from './support/golden-suite.js';
import { startRouter, type TestRouter } from './support/router-app.js';

const KEY = 'sk-openai-test';

describeGoldenTranscripts('openai', (url) => ({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${url}/v1` }));

describe('OpenAI passthrough', () => {
  let fake: FakeUpstream;
  let router: TestRouter;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
    // The bare root, as upstream's docs wrote it: `/v1` is added.
    router = await startRouter({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.url });
  });
  afterAll(async () => {
    await router?.close();
    await fake?.close();
  });

  it('sends the client bytes unchanged apart from the model, with the provider key', async () => {
    const [golden] = loadTranscripts('openai').filter((g) => g.name === 'chat-text');
    fake.reset();
    fake.on('/chat/completions', golden.upstream.response);
    const raw =
      '{ "messages":[{"role":"user","content":"model: \\"openai:x\\""}],\n  "temperature": 1.0, "top_p": 1e0,' +
      ' "metadata": {"model": "keep-me"}, "model" : "openai:gpt-4o" }';
    const response = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual((golden.upstream.response as { body: unknown }).body);
    expect(fake.requests[0].url).toBe('/v1/chat/completions');
    expect(fake.requests[0].raw).toBe(raw.replace('"model" : "openai:gpt-4o"', '"model" : "gpt-4o"'));
    expect(fake.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('relays SSE as it arrives, and a client that leaves stops the upstream request', async () => {
    const [golden] = loadTranscripts('openai').filter((g) => g.name === 'chat-stream-tool-calls-parallel');
    const script = golden.upstream.response;
    if (script.kind !== 'sse') throw new Error('fixture should be SSE');
    fake.reset();
    // The upstream sends three events, then holds the stream open.
    fake.on('/chat/completions', { ...script, holdAfter: 3 });
    const body = {
      ...(golden.client.body as unknown as OpenAI.ChatCompletionCreateParamsStreaming),
      stream: true as const,
    };
    const stream = await router.client.chat.completions.create(body);
    const received: unknown[] = [];
    for await (const chunk of stream) {
      received.push(chunk);
      // These arrived while the upstream was still mid-stream: nothing waited for its end.
      if (received.length === 3) break;
    }
    expect(received).toEqual(script.events.slice(0, 3).map((event) => event.data));
    // Leaving (break aborts the SDK's request) must close the upstream connection too.
    await fake.peerClosed;
    await expect.poll(() => router.results.at(-1)?.status).toBe(499);
    expect(router.results.at(-1)?.success).toBe(false);
  });
});
