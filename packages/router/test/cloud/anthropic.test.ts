/**
 * Anthropic conformance: every golden transcript through the router (read by the openai SDK),
 * and the same transcripts read by the official @anthropic-ai/sdk straight from the fake, which
 * proves the fake speaks the Messages API (JSON and SSE) as the real service does.
 */
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from './support/fake-upstream.js';
import { loadTranscripts } from './support/golden.js';
import { describeGoldenTranscripts } from './support/golden-suite.js';
import { startRouter, type TestRouter } from './support/router-app.js';

const KEY = 'sk-ant-test-key';

describeGoldenTranscripts('anthropic', (url) => ({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_API_BASE_URL: url }));

type Block = Anthropic.Messages.ContentBlock;

function summarise(content: Block[]) {
  return {
    text: content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join(''),
    tools: content.flatMap((block) =>
      block.type === 'tool_use' ? [{ id: block.id, name: block.name, arguments: block.input }] : [],
    ),
  };
}

describe('the fake Anthropic upstream, read by @anthropic-ai/sdk 1.14.0', () => {
  let fake: FakeUpstream;
  let sdk: Anthropic;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
    sdk = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await fake?.close();
  });

  for (const golden of loadTranscripts('anthropic')) {
    it(golden.name, async () => {
      fake.reset();
      fake.on('/v1/messages', golden.upstream.response);
      const params = golden.upstream.request.body as Anthropic.Messages.MessageCreateParams;
      const expected = golden.expect;
      if (expected.error) {
        // An explicit timeout: the SDK refuses large non-streamed max_tokens without one.
        const error = await sdk.messages.create(params, { timeout: 10_000 }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(APIError);
        expect((error as APIError).error).toMatchObject({ error: { type: expected.error.code } });
        return;
      }
      if (expected.stream_error) {
        const stream = sdk.messages.stream(params as Anthropic.Messages.MessageStreamParams);
        let text = '';
        stream.on('text', (delta) => {
          text += delta;
        });
        await expect(stream.finalMessage()).rejects.toThrow(expected.stream_error.message_contains);
        expect(text).toBe(expected.stream_error.content_before);
        return;
      }
      const message =
        params.stream === true
          ? await sdk.messages.stream(params as Anthropic.Messages.MessageStreamParams).finalMessage()
          : await sdk.messages.create({ ...params, stream: false }, { timeout: 10_000 });
      const { text, tools } = summarise(message.content);
      expect(text).toBe(expected.content ?? '');
      expect(tools).toEqual(expected.tool_calls ?? []);
      if (expected.usage) expect(message.usage.output_tokens).toBe(expected.usage.completion_tokens);
      // The SDK authenticates with a bearer token; the router with x-api-key. The fake takes both.
      expect(fake.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
    });
  }
});

describe('what the router sends to Anthropic', () => {
  let fake: FakeUpstream;
  let router: TestRouter;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
    // The base URL with its `/v1` must work like the bare root.
    router = await startRouter({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_API_BASE_URL: `${fake.url}/v1/` });
  });
  afterAll(async () => {
    await router?.close();
    await fake?.close();
  });

  it('authenticates with x-api-key and pins anthropic-version, under the alias prefix too', async () => {
    const [golden] = loadTranscripts('anthropic').filter((g) => g.name === 'chat-text');
    fake.reset();
    fake.on('/v1/messages', golden.upstream.response);
    const completion = await router.client.chat.completions.create({
      model: 'ahtnorpic:claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'Hello, Claude' }],
    });
    expect(completion.model).toBe('anthropic:claude-sonnet-4-6');
    expect(fake.requests[0].url).toBe('/v1/messages');
    expect(fake.requests[0].headers['x-api-key']).toBe(KEY);
    expect(fake.requests[0].headers['anthropic-version']).toBe('2023-06-01');
    expect(fake.requests[0].json).toMatchObject({ model: 'claude-sonnet-4-6', max_tokens: 4096 });
  });

  it('answers embeddings with a clear 400 and sends nothing', async () => {
    fake.reset();
    const error = await router.client.embeddings
      .create({ model: 'anthropic:claude-sonnet-4-6', input: 'hello' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400, code: 'unsupported_endpoint' });
    expect((error as Error).message).toContain('no embeddings');
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects n > 1 with a 400 naming the field, before calling Anthropic', async () => {
    fake.reset();
    const error = await router.client.chat.completions
      .create({ model: 'anthropic:claude-sonnet-4-6', n: 2, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400, param: 'n' });
    expect(fake.requests).toHaveLength(0);
  });

  it('turns json_object into a system instruction, since Anthropic has no JSON mode switch', async () => {
    const [golden] = loadTranscripts('anthropic').filter((g) => g.name === 'chat-text');
    fake.reset();
    fake.on('/v1/messages', golden.upstream.response);
    await router.client.chat.completions.create({
      model: 'anthropic:claude-sonnet-4-6',
      response_format: { type: 'json_object' },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'List two colours as JSON.' },
      ],
    });
    expect(fake.requests[0].json).toMatchObject({
      system: 'Be brief.\n\nRespond with a single valid JSON object and nothing else.',
    });
  });
});
