/**
 * The router plus two real llama.cpp nodes serving the shared stories260K model, driven with the
 * official openai SDK. Node A has `stories260K` and `alpha`; node B has `stories260K` and `beta`
 * (copies of the same file), which makes model-aware routing observable.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  modelsDir,
  type RouterProcess,
  type RunningProcess,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  waitUntil,
} from '../support/processes.js';

/** The OpenAI-shaped error of a refused request. */
const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { type: string; param?: string | null } }).error;

let router: RouterProcess;
let nodeA: RunningProcess;
let nodeB: RunningProcess;
let apiKey: string;
let client: OpenAI;

async function nodeRequestCount(node: RunningProcess): Promise<number> {
  const metrics = (await (await fetch(`${node.url}/metrics`)).json()) as { total_requests: number };
  return metrics.total_requests;
}

beforeAll(async () => {
  router = await startRouterProcess({ LLM_ROUTER_ALLOW_NO_GPU: 'true' });
  const nodeKey = await router.createKey('node:register');
  apiKey = await router.createKey('api:inference');
  [nodeA, nodeB] = await Promise.all([
    startNodeProcess({ routerUrl: router.url, apiKey: nodeKey, models: modelsDir(['stories260K', 'alpha']) }),
    startNodeProcess({ routerUrl: router.url, apiKey: nodeKey, models: modelsDir(['stories260K', 'beta']) }),
  ]);
  client = new OpenAI({ apiKey, baseURL: `${router.url}/v1`, maxRetries: 0 });
  await waitUntil(
    async () => {
      const models = await client.models.list();
      const ready = (id: string) =>
        models.data.some((m) => m.id === id && (m as unknown as { ready: boolean }).ready);
      return ready('stories260K') && ready('alpha') && ready('beta');
    },
    60_000,
    'both nodes online with their models',
  );
});

afterAll(() => stopAll());

describe('inference through the router', () => {
  it('answers a chat completion with usage', async () => {
    const res = await client.chat.completions.create({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Tell me a story about a cat.' }],
      max_tokens: 24,
      temperature: 0,
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].message.role).toBe('assistant');
    expect(res.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(res.usage?.completion_tokens).toBeGreaterThan(0);
    expect(res.usage?.completion_tokens).toBeLessThanOrEqual(24);
    expect(res.usage?.total_tokens).toBe(
      (res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0),
    );
  });

  it('streams a chat completion chunk by chunk, with a final usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 30,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let contentChunks = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) {
        text += delta;
        contentChunks++;
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(contentChunks).toBeGreaterThan(3);
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(30);
  });

  it('gives the same answer twice at temperature 0, whichever node serves it', async () => {
    const ask = () =>
      client.completions.create({
        model: 'stories260K',
        prompt: 'Once upon a time',
        max_tokens: 40,
        temperature: 0,
      });
    const answers = await Promise.all([ask(), ask(), ask(), ask()]);
    const texts = answers.map((a) => a.choices[0].text);
    expect(new Set(texts).size).toBe(1);
    // The model is trained on children's stories: greedy decoding continues the classic opening.
    expect(texts[0]).toMatch(/there was a little/i);
    expect(answers[0].object).toBe('text_completion');
  });

  it('returns embeddings as floats and as base64 (the SDK default)', async () => {
    const asFloat = await client.embeddings.create({
      model: 'stories260K',
      input: ['hello', 'world'],
      encoding_format: 'float',
    });
    expect(asFloat.data).toHaveLength(2);
    expect(asFloat.data[0].embedding.length).toBe(64);
    const asBase64 = await client.embeddings.create({ model: 'stories260K', input: 'hello' });
    expect(asBase64.data[0].embedding.length).toBe(64);
    asBase64.data[0].embedding.forEach((v, i) => {
      expect(v).toBeCloseTo(asFloat.data[0].embedding[i], 5);
    });
  });

  it('lists the fleet models with the nodes that have each', async () => {
    const models = await client.models.list();
    const byId = new Map(
      models.data.map((m) => [m.id, m as unknown as { ready: boolean; nodes: unknown[] }]),
    );
    expect(byId.get('stories260K')?.nodes).toHaveLength(2);
    expect(byId.get('alpha')?.nodes).toHaveLength(1);
    const one = await client.models.retrieve('beta');
    expect(one.id).toBe('beta');
  });

  it('sends every request to a node that has its model', async () => {
    const [aBefore, bBefore] = await Promise.all([nodeRequestCount(nodeA), nodeRequestCount(nodeB)]);
    const ask = (model: string) =>
      client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
    const results = await Promise.all([...Array(6)].flatMap(() => [ask('alpha'), ask('beta')]));
    expect(results.every((r) => r.choices[0].message.content !== undefined)).toBe(true);
    const [aAfter, bAfter] = await Promise.all([nodeRequestCount(nodeA), nodeRequestCount(nodeB)]);
    expect(aAfter - aBefore).toBe(6);
    expect(bAfter - bBefore).toBe(6);
  });

  it('answers an unknown model with 404 model_not_found', async () => {
    const error = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('passes a node 400 through: a prompt longer than the context', async () => {
    const error = await client.completions
      .create({ model: 'stories260K', prompt: 'once upon a time '.repeat(3000), max_tokens: 4 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
  });
});

describe('auth on /v1', () => {
  const chat = (key: string) =>
    new OpenAI({ apiKey: key, baseURL: `${router.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
      .then(
        () => 200,
        (e: { status?: number }) => e.status,
      );

  it('refuses no key, an unknown key, the wrong scope and an expired key', async () => {
    const noKey = await fetch(`${router.url}/v1/models`);
    expect(noKey.status).toBe(401);
    expect((await errorOf(noKey)).type).toBe('authentication_error');
    expect(await chat('sk_wrongwrongwrongwrongwrongwrong00')).toBe(401);
    expect(await chat(await router.createKey('node:register'))).toBe(403);
    const expiring = await router.createKey('api:inference', ['--expires-in-days', '0.00001']);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await chat(expiring)).toBe(401);
    expect(await chat(await router.createKey('admin:*'))).toBe(200);
  });

  it('accepts the key as X-API-Key too', async () => {
    const res = await fetch(`${router.url}/v1/models`, { headers: { 'x-api-key': apiKey } });
    expect(res.status).toBe(200);
  });
});

describe('bad input on /v1 gets a clear 4xx and the router stays up', () => {
  const post = (path: string, body: string, contentType = 'application/json') =>
    fetch(`${router.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': contentType },
      body,
    });

  it.each(['/v1/chat/completions', '/v1/completions', '/v1/embeddings'])('%s', async (path) => {
    const malformed = await post(path, '{"model": "stories260K", ');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).type).toBe('invalid_request_error');

    const missingModel = await post(path, JSON.stringify({ messages: [], prompt: 'x', input: 'x' }));
    expect(missingModel.status).toBe(400);
    expect((await errorOf(missingModel)).param).toBe('model');

    const wrongType = await post(path, JSON.stringify({ model: 42, messages: 'hi', prompt: 7, input: 7 }));
    expect(wrongType.status).toBe(400);

    const oversized = await post(
      path,
      JSON.stringify({ model: 'stories260K', prompt: 'x'.repeat(11 * 1024 * 1024) }),
    );
    expect(oversized.status).toBe(413);

    const health = await fetch(`${router.url}/health`);
    expect(health.status).toBe(200);
  });
});
