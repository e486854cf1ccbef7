/**
 * Failover before the first byte (refused connection, 5xx, first-byte timeout), no failover
 * for a node's 4xx, and the 502/503/504 answers when every attempt fails.
 */
import { APIError, BadRequestError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeFleet, makeFleetNode } from './helpers/fake-fleet.js';
import { type FakeNode, refusedUrl, startFakeNode } from './helpers/fake-node.js';
import { eventually, postRaw, startTestRouter, type TestRouter } from './helpers/test-router.js';

const CHAT = { model: 'm1', messages: [{ role: 'user' as const, content: 'hi' }] };
const SERVER_ERROR = JSON.stringify({ error: { code: 500, message: 'slot crashed', type: 'server_error' } });
const CONTEXT_EXCEEDED = JSON.stringify({
  error: {
    code: 400,
    message: 'the request exceeds the available context size',
    type: 'invalid_request_error',
    param: 'messages',
  },
});

describe('failover', () => {
  let first: FakeNode;
  let second: FakeNode;
  let refused: string;
  let fleet: FakeFleet;
  let router: TestRouter;

  beforeAll(async () => {
    first = await startFakeNode('first');
    second = await startFakeNode('second');
    refused = await refusedUrl();
    fleet = new FakeFleet([]);
    // A short first-byte timeout so a hanging node fails over quickly.
    router = await startTestRouter({ fleet, config: { firstByteTimeoutMs: 400, maxAttempts: 3 } });
  });

  afterAll(async () => {
    await router.close();
    await first.close();
    await second.close();
  });

  afterEach(() => {
    first.fault = { kind: 'none' };
    second.fault = { kind: 'none' };
    expect(fleet.totalInFlight()).toBe(0);
    expect(fleet.ends).toBe(fleet.begins);
  });

  /** Round-robin with fresh node ids puts the first node listed first. */
  function useNodes(...urls: string[]) {
    fleet.nodes = urls.map((url, i) => makeFleetNode({ id: `n${i}-${Math.random()}`, baseUrl: url }));
    return fleet.nodes.map((n) => n.id);
  }

  it('moves on from a node that refuses connections', async () => {
    const [dead, alive] = useNodes(refused, second.url);
    const res = await router.client.chat.completions.create(CHAT);
    expect(res.choices[0].message.content).toBe('hello from second');
    await eventually(() => router.finished.length > 0 && router.finished.at(-1)!.nodeId === alive);
    const record = router.finished.at(-1)!;
    expect(record.success).toBe(true);
    expect(record.failedAttempts).toEqual([expect.objectContaining({ nodeId: dead, kind: 'connect' })]);
    expect(fleet.outcomes.find((o) => o.nodeId === dead)?.success).toBe(false);
  });

  it('moves on from a node that answers 500', async () => {
    first.fault = { kind: 'status', status: 500, body: SERVER_ERROR };
    useNodes(first.url, second.url);
    const before = first.requests.length;
    const res = await router.client.chat.completions.create(CHAT);
    expect(res.choices[0].message.content).toBe('hello from second');
    expect(first.requests.length).toBe(before + 1);
    expect(router.finished.at(-1)!.failedAttempts[0]).toMatchObject({ kind: 'upstream' });
    expect(router.finished.at(-1)!.failedAttempts[0].message).toContain('slot crashed');
  });

  it('moves on from a node that sends no headers before the first-byte timeout, and aborts it', async () => {
    first.fault = { kind: 'hang' };
    useNodes(first.url, second.url);
    const aborted = first.abortedByPeer;
    const stream = await router.client.chat.completions.create({ ...CHAT, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('hello from second');
    await eventually(() => first.abortedByPeer === aborted + 1);
    expect(router.finished.at(-1)!.failedAttempts[0]).toMatchObject({ kind: 'timeout' });
  });

  it('moves on from a node that dies in the middle of a non-stream body', async () => {
    first.fault = { kind: 'die', afterEvents: 0 };
    useNodes(first.url, second.url);
    const res = await router.client.chat.completions.create(CHAT);
    expect(res.choices[0].message.content).toBe('hello from second');
  });

  it('moves on from a node that answers 404 for a model it has just unloaded', async () => {
    const gone = JSON.stringify({
      error: {
        message: "The model 'm1' does not exist on this node",
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
    first.fault = { kind: 'status', status: 404, body: gone };
    useNodes(first.url, second.url);
    const before = first.requests.length;
    const res = await router.client.chat.completions.create(CHAT);
    expect(res.choices[0].message.content).toBe('hello from second');
    expect(first.requests.length).toBe(before + 1);
    expect(router.finished.at(-1)!.failedAttempts[0]).toMatchObject({ kind: 'upstream' });
    expect(router.finished.at(-1)!.failedAttempts[0].message).toContain('404');
  });

  it('passes a 400 from a node through as is, without trying another node', async () => {
    first.fault = { kind: 'status', status: 400, body: CONTEXT_EXCEEDED };
    useNodes(first.url, second.url);
    const secondBefore = second.requests.length;
    const error = await router.client.chat.completions.create(CHAT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).message).toContain('exceeds the available context size');
    expect((error as BadRequestError).param).toBe('messages');
    expect(second.requests.length).toBe(secondBefore);
    expect(router.finished.at(-1)).toMatchObject({ status: 400, success: false, failedAttempts: [] });
    // The node answered correctly: a client's 400 is not held against it.
    expect(fleet.outcomes.at(-1)!.success).toBe(true);
  });

  it('wraps a 4xx body that is not OpenAI-shaped', async () => {
    first.fault = { kind: 'status', status: 422, body: 'unprocessable prompt' };
    useNodes(first.url);
    const res = await postRaw(router.url, '/v1/chat/completions', JSON.stringify(CHAT));
    expect(res.status).toBe(422);
    expect(JSON.parse(res.text)).toEqual({
      error: {
        message: 'unprocessable prompt',
        type: 'invalid_request_error',
        param: null,
        code: 'node_upstream_error',
      },
    });
  });

  it('answers 502 when every node fails with a server error', async () => {
    first.fault = { kind: 'status', status: 500, body: SERVER_ERROR };
    second.fault = { kind: 'status', status: 503, body: 'loading model' };
    useNodes(first.url, second.url);
    const res = await postRaw(router.url, '/v1/chat/completions', JSON.stringify(CHAT));
    expect(res.status).toBe(502);
    const body = JSON.parse(res.text);
    expect(body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_error' });
    expect(body.error.message).toContain('2 nodes tried');
    expect(router.finished.at(-1)).toMatchObject({ status: 502, success: false });
    expect(router.finished.at(-1)!.failedAttempts).toHaveLength(2);
  });

  it('answers 504 when every node times out before the first byte', async () => {
    first.fault = { kind: 'hang' };
    useNodes(first.url);
    const error = await router.client.chat.completions.create(CHAT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(504);
    expect((error as APIError).code).toBe('upstream_timeout');
  });

  it('answers 503 when no node can be reached', async () => {
    useNodes(refused, await refusedUrl());
    const res = await postRaw(router.url, '/v1/chat/completions', JSON.stringify(CHAT));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text).error).toMatchObject({
      type: 'service_unavailable',
      code: 'no_available_nodes',
    });
  });

  it('tries at most maxAttempts nodes', async () => {
    first.fault = { kind: 'status', status: 500, body: SERVER_ERROR };
    const crashing = await startFakeNode('crashing', { kind: 'status', status: 500, body: SERVER_ERROR });
    const spare = await startFakeNode('spare', { kind: 'status', status: 500, body: SERVER_ERROR });
    try {
      useNodes(first.url, crashing.url, spare.url, second.url);
      const secondBefore = second.requests.length;
      const res = await postRaw(router.url, '/v1/chat/completions', JSON.stringify(CHAT));
      expect(res.status).toBe(502);
      expect(JSON.parse(res.text).error.message).toContain('3 nodes tried');
      expect(second.requests.length).toBe(secondBefore);
    } finally {
      await crashing.close();
      await spare.close();
    }
  });
});
