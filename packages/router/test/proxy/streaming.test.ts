/**
 * Passthrough: the client's bytes reach the node unchanged, SSE arrives incrementally, and
 * connections to a node are pooled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeFleet, makeFleetNode } from './helpers/fake-fleet.js';
import { type FakeNode, startFakeNode } from './helpers/fake-node.js';
import { eventually, postRaw, startTestRouter, type TestRouter } from './helpers/test-router.js';

describe('proxy passthrough', () => {
  let node: FakeNode;
  let fleet: FakeFleet;
  let router: TestRouter;

  beforeAll(async () => {
    node = await startFakeNode('alpha');
    fleet = new FakeFleet([makeFleetNode({ id: 'a', baseUrl: node.url, models: ['m1'] })]);
    router = await startTestRouter({ fleet });
  });

  afterAll(async () => {
    await router.close();
    await node.close();
  });

  it('forwards the original request bytes unchanged, without the client credentials', async () => {
    // Odd key order, spacing, an unknown field and non-ASCII text: any re-serialisation would show.
    const body =
      '{ "messages":[{"role":"user","content":"h\\u00e9llo 🌍 \\"quoted\\""}],\n  "zeta": {"b":2, "a":1},"model":"m1" }';
    const res = await postRaw(router.url, '/v1/chat/completions', body, { 'x-request-id': 'req-42' });
    expect(res.status).toBe(200);
    const received = node.requests.at(-1)!;
    expect(received.path).toBe('/v1/chat/completions');
    expect(received.raw.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(received.headers.authorization).toBeUndefined();
    expect(received.headers['x-request-id']).toBe('req-42');
    expect(received.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.text).choices[0].message.content).toBe('hello from alpha');
  });

  it('streams chat chunks to the openai SDK before the node has sent the last one', async () => {
    node.fault = { kind: 'gate' };
    try {
      const stream = await router.client.chat.completions.create({
        model: 'm1',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      const iterator = stream[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      expect(first.value.choices[0].delta.role).toBe('assistant');
      // The node is parked behind its gate: the chunk above cannot have come from a buffered reply.
      expect(node.sentLastEvent).toBe(false);
      node.release();
      let text = '';
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        text += next.value.choices[0]?.delta.content ?? '';
      }
      expect(text).toBe('hello from alpha');
      expect(node.sentLastEvent).toBe(true);
    } finally {
      node.fault = { kind: 'none' };
    }
  });

  it('records usage and time to first token from a stream, and releases the in-flight count', async () => {
    const stream = await router.client.chat.completions.create({
      model: 'm1',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: unknown = null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3 });
    await eventually(() => router.finished.some((f) => f.streamed && f.promptTokens === 7));
    const record = router.finished.find((f) => f.streamed && f.promptTokens === 7)!;
    expect(record).toMatchObject({
      kind: 'chat',
      model: 'm1',
      nodeId: 'a',
      status: 200,
      success: true,
      completionTokens: 3,
      apiKeyId: 'key-123',
      clientIp: '127.0.0.1',
    });
    expect(record.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(record.responseBody).toEqual({ text: 'hello from alpha', finish_reason: 'stop' });
    expect(record.requestBody).toMatchObject({ model: 'm1', stream: true });
    expect(fleet.totalInFlight()).toBe(0);
    expect(fleet.ends).toBe(fleet.begins);
  });

  it('streams text completions and answers embeddings (base64 and float) through the SDK', async () => {
    const stream = await router.client.completions.create({ model: 'm1', prompt: 'tell', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('once upon alpha');

    const base64 = await router.client.embeddings.create({ model: 'm1', input: ['a', 'b'] });
    expect(base64.data).toHaveLength(2);
    expect(base64.data[0].embedding).toEqual([0.5, -0.25, 1]);
    const floats = await router.client.embeddings.create({
      model: 'm1',
      input: 'a',
      encoding_format: 'float',
    });
    expect(floats.data[0].embedding).toEqual([0.5, -0.25, 1]);
    await eventually(() => router.finished.some((f) => f.kind === 'embeddings'));
    expect(router.finished.find((f) => f.kind === 'embeddings')).toMatchObject({
      streamed: false,
      promptTokens: 4,
    });
  });

  it('reuses pooled keep-alive connections to a node', async () => {
    const before = node.connections;
    for (let i = 0; i < 5; i++) {
      const res = await router.client.chat.completions.create({
        model: 'm1',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(res.choices[0].message.content).toBe('hello from alpha');
    }
    expect(node.connections - before).toBeLessThanOrEqual(1);
  });
});
