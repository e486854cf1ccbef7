/**
 * `/v1` inference routes: body validation, 404 vs 503, model-aware routing, the cloud hand-off
 * and one `onRequestFinished` record per request.
 */
import { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/balancer/index.js';
import type { CloudForwardInput, CloudGateway } from '../../src/cloud/types.js';
import { FakeFleet, makeFleetNode } from '../proxy/helpers/fake-fleet.js';
import { type FakeNode, startFakeNode } from '../proxy/helpers/fake-node.js';
import { eventually, postRaw, startTestRouter, type TestRouter } from '../proxy/helpers/test-router.js';

/** A cloud gateway stub: `openai:` models are answered here, without any network. */
function stubCloud(): CloudGateway & { calls: CloudForwardInput[] } {
  const calls: CloudForwardInput[] = [];
  return {
    calls,
    parseModel: (model) =>
      model.startsWith('openai:') && model.length > 'openai:'.length
        ? { provider: 'openai', model: model.slice('openai:'.length) }
        : null,
    async forward(input) {
      calls.push(input);
      input.reply.code(200).send({
        id: 'chatcmpl-cloud',
        object: 'chat.completion',
        created: 0,
        model: input.model.slice('openai:'.length),
        choices: [
          { index: 0, message: { role: 'assistant', content: 'from the cloud' }, finish_reason: 'stop' },
        ],
      });
      return {
        nodeId: null,
        cloudProvider: 'openai',
        status: 200,
        success: true,
        errorMessage: null,
        streamed: false,
        promptTokens: 11,
        completionTokens: 2,
        failedAttempts: [],
      };
    },
    listModels: async () => [{ id: 'openai:gpt-4o-mini', provider: 'openai' }],
    keyPresence: () => ({
      openai_key_present: true,
      google_key_present: false,
      anthropic_key_present: false,
    }),
    forwardNative: () => Promise.reject(new Error('not used by these tests')),
  };
}

describe('/v1 inference routes', () => {
  const nodes: Record<string, FakeNode> = {};
  let fleet: FakeFleet;
  let cloud: ReturnType<typeof stubCloud>;
  let router: TestRouter;

  beforeAll(async () => {
    for (const name of ['a', 'b', 'c']) nodes[name] = await startFakeNode(name);
    fleet = new FakeFleet([
      makeFleetNode({ id: 'a', baseUrl: nodes.a.url, models: ['chat-1'] }),
      makeFleetNode({ id: 'b', baseUrl: nodes.b.url, models: ['chat-2', 'org/embed-1'] }),
      makeFleetNode({ id: 'c', baseUrl: nodes.c.url, models: ['chat-1', 'chat-2'] }),
      // Known models with no node able to serve them right now.
      makeFleetNode({ id: 'loading', models: [{ id: 'warming', ready: false }] }),
      makeFleetNode({ id: 'gone', status: 'offline', models: ['offline-only'] }),
    ]);
    cloud = stubCloud();
    router = await startTestRouter({ fleet, cloud, balancer: createBalancer('least_loaded') });
  });

  afterAll(async () => {
    await router.close();
    for (const node of Object.values(nodes)) await node.close();
  });

  const chat = (body: unknown) => postRaw(router.url, '/v1/chat/completions', JSON.stringify(body));

  it.each([
    ['a JSON array', [1, 2], null],
    ['a JSON string', 'hello', null],
    ['no model', { messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ['a numeric model', { model: 5, messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ['no messages', { model: 'chat-1' }, 'messages'],
    ['an unknown role', { model: 'chat-1', messages: [{ role: 'robot', content: 'x' }] }, 'messages.0.role'],
    [
      'temperature out of range',
      { model: 'chat-1', messages: [{ role: 'user', content: 'x' }], temperature: 5 },
      'temperature',
    ],
  ])('rejects %s with an OpenAI-shaped 400', async (_label, body, param) => {
    const before = router.finished.length;
    const res = await chat(body);
    expect(res.status).toBe(400);
    const error = JSON.parse(res.text).error;
    expect(error).toMatchObject({ type: 'invalid_request_error', param });
    expect(error.message).toEqual(expect.any(String));
    expect(router.finished.length).toBe(before + 1);
    expect(router.finished.at(-1)).toMatchObject({ status: 400, success: false, nodeId: null });
  });

  it('rejects invalid JSON and validates completions and embeddings bodies too', async () => {
    const broken = await postRaw(router.url, '/v1/chat/completions', '{"model":');
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.text).error.type).toBe('invalid_request_error');
    const completion = await postRaw(router.url, '/v1/completions', JSON.stringify({ model: 'chat-1' }));
    expect(JSON.parse(completion.text).error.param).toBe('prompt');
    const embedding = await postRaw(router.url, '/v1/embeddings', JSON.stringify({ model: 'org/embed-1' }));
    expect(JSON.parse(embedding.text).error.param).toBe('input');
  });

  it('answers 404 model_not_found for a model no node has', async () => {
    const error = await router.client.chat.completions
      .create({ model: 'nobody-has-this', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe('model_not_found');
    expect((error as NotFoundError).param).toBe('model');
    expect(router.finished.at(-1)).toMatchObject({ model: 'nobody-has-this', status: 404, nodeId: null });
  });

  it.each([
    ['only on a node still loading it', 'warming'],
    ['only on an offline node', 'offline-only'],
  ])('answers 503 no_available_nodes for a model %s', async (_label, model) => {
    const res = await chat({ model, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text).error).toMatchObject({
      code: 'no_available_nodes',
      type: 'service_unavailable',
    });
    expect(router.finished.at(-1)).toMatchObject({ model, status: 503, success: false, nodeId: null });
  });

  it('sends every request to a node that has its model ready', async () => {
    const served: Record<string, Set<string>> = { 'chat-1': new Set(), 'chat-2': new Set() };
    for (let i = 0; i < 12; i++) {
      const model = i % 2 === 0 ? 'chat-1' : 'chat-2';
      const res = await router.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: `${i}` }],
      });
      const servedBy = res.choices[0].message.content!.replace('hello from ', '');
      served[model].add(servedBy);
    }
    // chat-1 lives on a and c, chat-2 on b and c: each request landed on one of its holders,
    // and the balancer spread each model over all of them.
    expect([...served['chat-1']].sort()).toEqual(['a', 'c']);
    expect([...served['chat-2']].sort()).toEqual(['b', 'c']);
    for (const name of ['a', 'b', 'c']) {
      const holder = fleet.get(name)!;
      for (const request of nodes[name].requests) {
        expect(holder.models.map((m) => m.id)).toContain(request.body.model);
      }
    }
  });

  it('routes a model id containing a slash, and embeddings, to the node that has it', async () => {
    const res = await router.client.embeddings.create({
      model: 'org/embed-1',
      input: 'x',
      encoding_format: 'float',
    });
    expect(res.data[0].embedding).toEqual([0.5, -0.25, 1]);
    expect(nodes.b.requests.at(-1)!.path).toBe('/v1/embeddings');
    expect(router.finished.at(-1)).toMatchObject({
      kind: 'embeddings',
      nodeId: 'b',
      success: true,
      streamed: false,
    });
  });

  it('hands a cloud-prefixed model to the cloud gateway and records it', async () => {
    const before = Object.values(nodes).reduce((n, node) => n + node.requests.length, 0);
    const res = await router.client.chat.completions.create({
      model: 'openai:gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0].message.content).toBe('from the cloud');
    expect(cloud.calls.at(-1)).toMatchObject({
      model: 'openai:gpt-4o-mini',
      kind: 'chat',
    });
    expect(cloud.calls.at(-1)!.body).toMatchObject({ model: 'openai:gpt-4o-mini' });
    expect(Object.values(nodes).reduce((n, node) => n + node.requests.length, 0)).toBe(before);
    expect(router.finished.at(-1)).toMatchObject({
      kind: 'chat',
      model: 'openai:gpt-4o-mini',
      cloudProvider: 'openai',
      nodeId: null,
      status: 200,
      success: true,
      promptTokens: 11,
      completionTokens: 2,
      apiKeyId: 'key-123',
    });
  });

  it('records a completed request with its node, usage and body', async () => {
    await router.client.completions.create({ model: 'chat-2', prompt: 'once' });
    await eventually(() => router.finished.at(-1)?.kind === 'completions');
    const record = router.finished.at(-1)!;
    expect(record).toMatchObject({
      model: 'chat-2',
      status: 200,
      success: true,
      streamed: false,
      promptTokens: 7,
      completionTokens: 3,
      errorMessage: null,
      requestBody: { model: 'chat-2', prompt: 'once' },
      clientIp: '127.0.0.1',
    });
    expect(['b', 'c']).toContain(record.nodeId);
    expect(record.durationMs).toBeGreaterThanOrEqual(0);
    expect(record.timeToFirstTokenMs).toBeUndefined();
    // Non-stream replies reach history as the node's JSON text, unparsed on the request path.
    expect(JSON.parse(record.responseBody as string).choices[0].text).toBe(`once upon ${record.nodeId}`);
  });
});
