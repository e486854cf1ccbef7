/**
 * Google conformance: every golden transcript through the router (read by the openai SDK),
 * and the same transcripts read by the official @google/genai SDK straight from the fake —
 * which also shows that, for the same parameters, the SDK sends the very request the router
 * sends.
 */
import { ApiError, type GenerateContentResponse, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from './support/fake-upstream.js';
import { type GoldenTranscript, loadTranscripts } from './support/golden.js';
import { describeGoldenTranscripts } from './support/golden-suite.js';
import { startRouter, type TestRouter } from './support/router-app.js';

const KEY = 'AIza-test-key';

describeGoldenTranscripts('google', (url) => ({ GOOGLE_API_KEY: KEY, GOOGLE_API_BASE_URL: `${url}/v1beta` }));

type RestBody = Record<string, unknown> & { contents?: unknown; generationConfig?: Record<string, unknown> };

/** The SDK call that produces the golden REST body: REST fields move into `config`. */
function sdkParams(golden: GoldenTranscript) {
  const model = /models\/([^:]+):/.exec(golden.upstream.request.path)?.[1] ?? '';
  const { contents, generationConfig, ...rest } = golden.upstream.request.body as RestBody;
  return { model, contents: contents as never, config: { ...rest, ...generationConfig } as never };
}

/** The SDK always writes `generationConfig`, empty or not; an empty one means the same as none. */
function withoutEmptyConfig(body: unknown): unknown {
  const { generationConfig, ...rest } = body as RestBody;
  return generationConfig && Object.keys(generationConfig).length > 0 ? body : rest;
}

function summarise(responses: GenerateContentResponse[]) {
  let text = '';
  const calls: Array<{ name: string | undefined; arguments: unknown }> = [];
  for (const response of responses) {
    for (const part of response.candidates?.[0]?.content?.parts ?? []) {
      if (part.text !== undefined && !part.thought) text += part.text;
      if (part.functionCall) calls.push({ name: part.functionCall.name, arguments: part.functionCall.args });
    }
  }
  return { text, calls, usage: responses.at(-1)?.usageMetadata };
}

describe('the fake Gemini upstream, read by @google/genai 2.32.0', () => {
  let fake: FakeUpstream;
  let sdk: GoogleGenAI;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
    sdk = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.url } });
  });
  afterAll(async () => {
    await fake?.close();
  });

  for (const golden of loadTranscripts('google')) {
    it(golden.name, async () => {
      fake.reset();
      fake.on(golden.upstream.request.path.split('?')[0], golden.upstream.response);
      const expected = golden.expect;

      if (golden.client.endpoint === 'embeddings') {
        const { requests } = golden.upstream.request.body as {
          requests: Array<{ content: { parts: Array<{ text: string }> }; outputDimensionality?: number }>;
        };
        const dimensions = requests[0].outputDimensionality;
        const result = await sdk.models.embedContent({
          model: 'gemini-embedding-001',
          contents: requests.map((request) => request.content.parts[0].text),
          config: dimensions ? { outputDimensionality: dimensions } : {},
        });
        expect(result.embeddings?.map((embedding) => embedding.values)).toEqual(expected.embeddings);
        expect(fake.requests[0].url).toBe(golden.upstream.request.path);
        expect(fake.requests[0].json).toEqual(golden.upstream.request.body);
        return;
      }

      const params = sdkParams(golden);
      const streaming = golden.upstream.request.path.includes(':streamGenerateContent');
      const responses: GenerateContentResponse[] = [];
      let failure: unknown;
      try {
        if (streaming)
          for await (const chunk of await sdk.models.generateContentStream(params)) responses.push(chunk);
        else responses.push(await sdk.models.generateContent(params));
      } catch (error) {
        failure = error;
      }
      // Same parameters, same request: the router's translation matches the official SDK's.
      expect(fake.requests[0].url).toBe(golden.upstream.request.path);
      expect(withoutEmptyConfig(fake.requests[0].json)).toEqual(golden.upstream.request.body);
      expect(fake.requests[0].headers['x-goog-api-key']).toBe(KEY);

      if (expected.error) {
        expect(failure).toBeInstanceOf(ApiError);
        expect((failure as ApiError).status).toBe(
          golden.upstream.response.kind === 'json' ? golden.upstream.response.status : 0,
        );
        return;
      }
      const { text, calls, usage } = summarise(responses);
      if (expected.stream_error) {
        expect(String(failure)).toContain(expected.stream_error.message_contains);
        expect(text).toBe(expected.stream_error.content_before);
        return;
      }
      expect(failure).toBeUndefined();
      expect(text).toBe(expected.content ?? '');
      expect(calls).toEqual(
        (expected.tool_calls ?? []).map((call) => ({ name: call.name, arguments: call.arguments })),
      );
      if (expected.usage) expect(usage?.totalTokenCount).toBe(expected.usage.total_tokens);
    });
  }
});

describe('what the router sends to Google', () => {
  let fake: FakeUpstream;
  let router: TestRouter;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
    // The bare root (as the SDK takes it) must work like `…/v1beta`.
    router = await startRouter({ GOOGLE_API_KEY: KEY, GOOGLE_API_BASE_URL: fake.url });
  });
  afterAll(async () => {
    await router?.close();
    await fake?.close();
  });

  it('puts the key in x-goog-api-key, never in the URL', async () => {
    const [golden] = loadTranscripts('google').filter((g) => g.name === 'chat-text');
    fake.reset();
    fake.on(':generateContent', golden.upstream.response);
    const completion = await router.client.chat.completions.create({
      model: 'google:gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    expect(completion.model).toBe('google:gemini-2.5-flash');
    expect(completion.id).toBe('mAitaLmkHPPlz7IPvtfUqQ4');
    expect(fake.requests[0].url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(fake.requests[0].headers['x-goog-api-key']).toBe(KEY);
  });

  it('rejects a tool result whose call is not in the conversation, since Gemini matches results by name', async () => {
    fake.reset();
    const error = await router.client.chat.completions
      .create({
        model: 'google:gemini-2.5-flash',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'tool', tool_call_id: 'call_unknown', content: '42' },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400, param: 'messages[1].tool_call_id' });
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects logprobs, which the translation cannot return, and lets logprobs: false through', async () => {
    const [golden] = loadTranscripts('google').filter((g) => g.name === 'chat-text');
    fake.reset();
    fake.on(':generateContent', golden.upstream.response);
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const error = await router.client.chat.completions
      .create({ model: 'google:gemini-2.5-flash', logprobs: true, messages })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400, param: 'logprobs', code: 'unsupported_parameter' });
    expect(fake.requests).toHaveLength(0);
    await router.client.chat.completions.create({
      model: 'google:gemini-2.5-flash',
      logprobs: false,
      messages,
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('rejects a model name that would escape the models/ path', async () => {
    fake.reset();
    const error = await router.client.chat.completions
      .create({ model: 'google:../../v1/files', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 400, param: 'model' });
    expect(fake.requests).toHaveLength(0);
  });
});
