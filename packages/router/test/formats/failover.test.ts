/**
 * The inference seam under the new formats: Messages and Responses requests to local models get
 * the same failover, mid-stream failure handling, idle timeout and client-abort behaviour as
 * chat completions (fake nodes inject the faults), and a stored response lives in the database.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResponseStore } from '../../src/responses/store.js';
import { openDatabase, type RouterDatabase } from '../../src/store/database.js';
import { FakeFleet, makeFleetNode } from '../proxy/helpers/fake-fleet.js';
import { type FakeNode, refusedUrl, startFakeNode } from '../proxy/helpers/fake-node.js';
import { eventually, startTestRouter, type TestRouter } from '../proxy/helpers/test-router.js';

describe('Messages and Responses over the node seam', () => {
  let first: FakeNode;
  let second: FakeNode;
  let refused: string;
  let fleet: FakeFleet;
  let router: TestRouter;
  let db: RouterDatabase;
  let store: ResponseStore;
  let anthropic: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    first = await startFakeNode('first');
    second = await startFakeNode('second');
    refused = await refusedUrl();
    fleet = new FakeFleet([]);
    db = await openDatabase(':memory:');
    store = new ResponseStore(db);
    router = await startTestRouter({
      fleet,
      config: { idleTimeoutMs: 300, maxAttempts: 3 },
      responses: store,
    });
    anthropic = new Anthropic({ apiKey: 'sk-test', baseURL: router.url, maxRetries: 0 });
    openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${router.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await router.close();
    await first.close();
    await second.close();
    await db.destroy();
  });
  afterEach(() => {
    first.fault = { kind: 'none' };
    second.fault = { kind: 'none' };
    expect(fleet.totalInFlight()).toBe(0);
  });

  function useNodes(...urls: string[]) {
    fleet.nodes = urls.map((url, i) => makeFleetNode({ id: `n${i}-${Math.random()}`, baseUrl: url }));
    return fleet.nodes.map((n) => n.id);
  }

  it('fails over a Messages request from a dead node and records both attempts', async () => {
    const [dead, alive] = useNodes(refused, second.url);
    const message = await anthropic.messages.create({
      model: 'm1',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'hello from second' }]);
    expect(second.requests.at(-1)?.path).toBe('/v1/chat/completions');
    expect(router.finished.at(-1)).toMatchObject({
      requestType: 'messages',
      nodeId: alive,
      success: true,
      failedAttempts: [{ nodeId: dead, kind: 'connect' }],
    });
  });

  it('fails over a 5xx before the first byte for a Responses request', async () => {
    useNodes(first.url, second.url);
    first.fault = { kind: 'status', status: 500, body: '{"error":{"message":"slot crashed"}}' };
    const response = await openai.responses.create({ model: 'm1', input: 'hi' });
    expect(response.output_text).toBe('hello from second');
    expect(router.finished.at(-1)).toMatchObject({ requestType: 'responses', success: true });
    const stored = await store.get(response.id, 'key:key-123');
    expect(stored?.response.output).toEqual(response.output);
    expect(stored?.conversation).toEqual([{ role: 'user', content: 'hi' }]);
    expect(await store.deleteBefore(Date.now() + 1)).toBeGreaterThan(0);
    expect(await store.get(response.id, 'key:key-123')).toBeUndefined();
  });

  it('answers 404 for ids no response can have (NUL, spaces) instead of passing them to the database', async () => {
    for (const id of ['%00', 'resp%20x', 'a'.repeat(300)]) {
      const got = await fetch(`${router.url}/v1/responses/${id}`, {
        headers: { authorization: 'Bearer sk-test' },
      });
      expect(got.status).toBe(404);
      expect(((await got.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
      const deleted = await fetch(`${router.url}/v1/responses/${id}`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer sk-test' },
      });
      expect(deleted.status).toBe(404);
    }
  });

  it('answers in the endpoint shape when every node fails', async () => {
    useNodes(refused);
    const error = await anthropic.messages
      .create({ model: 'm1', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(error.status).toBe(503);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    const failed = await openai.responses.create({ model: 'm1', input: 'hi' }).catch((e) => e);
    expect(failed.status).toBe(503);
    expect(failed.error).toMatchObject({ code: 'no_available_nodes' });
  });

  it('ends a stream with the format error event when the node dies or stalls mid-stream', async () => {
    useNodes(first.url);
    first.fault = { kind: 'die', afterEvents: 2 };
    const messages = anthropic.messages.stream({
      model: 'm1',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const broken = await messages.finalMessage().catch((e) => e);
    expect(String(broken)).toMatch(/"type":"error".*(stream broke|stalled)/);
    expect(router.finished.at(-1)).toMatchObject({ requestType: 'messages', success: false, streamed: true });

    first.fault = { kind: 'stall', afterEvents: 2 };
    const responses = openai.responses.stream({ model: 'm1', input: 'hi' });
    const stalled = await responses.finalResponse().catch((e) => e);
    expect(String(stalled)).toMatch(/stalled/);
    expect(router.finished.at(-1)).toMatchObject({
      requestType: 'responses',
      success: false,
      streamed: true,
    });
  });

  it('aborts the node when a Messages stream client leaves', async () => {
    useNodes(first.url);
    first.fault = { kind: 'gate' };
    const before = first.abortedByPeer;
    const controller = new AbortController();
    const stream = anthropic.messages.stream(
      { model: 'm1', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
      { signal: controller.signal },
    );
    for await (const event of stream) {
      if (event.type === 'content_block_delta' || event.type === 'message_start') break;
    }
    controller.abort();
    await eventually(() => first.abortedByPeer > before);
    await eventually(() => router.finished.at(-1)?.status === 499);
    first.release();
  });
});
