/**
 * After the first streamed byte the client has a 200: node failures must end the stream with an
 * OpenAI-shaped error event and `[DONE]`, never a hang; a client that leaves aborts the node.
 */
import { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeFleet, makeFleetNode } from './helpers/fake-fleet.js';
import { type FakeNode, startFakeNode } from './helpers/fake-node.js';
import { eventually, postRaw, startTestRouter, type TestRouter } from './helpers/test-router.js';

const STREAM_BODY = JSON.stringify({
  model: 'm1',
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
});

/** The `data:` payloads of an SSE body, in order. */
function dataEvents(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

describe('failures after the stream started', () => {
  let node: FakeNode;
  let spare: FakeNode;
  let fleet: FakeFleet;
  let router: TestRouter;

  beforeAll(async () => {
    node = await startFakeNode('flaky');
    spare = await startFakeNode('spare');
    fleet = new FakeFleet([
      makeFleetNode({ id: 'flaky', baseUrl: node.url }),
      makeFleetNode({ id: 'spare', baseUrl: spare.url, status: 'offline' }),
    ]);
    router = await startTestRouter({ fleet, config: { idleTimeoutMs: 300 } });
  });

  afterAll(async () => {
    await router.close();
    await node.close();
    await spare.close();
  });

  afterEach(async () => {
    node.fault = { kind: 'none' };
    await eventually(() => fleet.totalInFlight() === 0);
    expect(fleet.ends).toBe(fleet.begins);
  });

  it('ends with an error event and [DONE] when the node dies mid-stream (no torn event)', async () => {
    node.fault = { kind: 'die', afterEvents: 2 };
    const res = await postRaw(router.url, '/v1/chat/completions', STREAM_BODY);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = dataEvents(res.text);
    expect(events).toHaveLength(4);
    expect(JSON.parse(events[0]).choices[0].delta.role).toBe('assistant');
    expect(JSON.parse(events[1]).choices[0].delta.content).toBe('hello ');
    const error = JSON.parse(events[2]).error;
    expect(error).toMatchObject({ type: 'upstream_error', code: 'upstream_error', param: null });
    expect(error.message).toContain('flaky');
    expect(events[3]).toBe('[DONE]');
    expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
    // The failure is not retried on the spare node (it is offline anyway) and is recorded.
    await eventually(() => router.finished.length > 0);
    expect(router.finished.at(-1)).toMatchObject({
      nodeId: 'flaky',
      status: 200,
      success: false,
      streamed: true,
    });
    expect(router.finished.at(-1)!.responseBody).toEqual({ text: 'hello ', finish_reason: null });
    // Dying mid-stream counts against the node's health.
    expect(fleet.outcomes.at(-1)).toMatchObject({ nodeId: 'flaky', success: false });
  });

  it('surfaces the mid-stream error to the openai SDK after the chunks already received', async () => {
    node.fault = { kind: 'die', afterEvents: 3 };
    const stream = await router.client.chat.completions.create({
      model: 'm1',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('hello from ');
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('stream broke');
  });

  it('ends the stream with a timeout error event when the node goes silent (idle timeout)', async () => {
    node.fault = { kind: 'stall', afterEvents: 2 };
    const aborted = node.abortedByPeer;
    const res = await postRaw(router.url, '/v1/chat/completions', STREAM_BODY);
    const events = dataEvents(res.text);
    expect(events.at(-1)).toBe('[DONE]');
    expect(JSON.parse(events.at(-2)!).error).toMatchObject({
      code: 'upstream_timeout',
      type: 'upstream_error',
    });
    // The router gave up on the node and closed its request, so llama.cpp stops generating.
    await eventually(() => node.abortedByPeer === aborted + 1);
    await eventually(() => router.finished.at(-1)?.errorMessage?.includes('stalled') === true);
  });

  it('aborts the node request when the client disconnects mid-stream', async () => {
    node.fault = { kind: 'gate' };
    const aborted = node.abortedByPeer;
    const stream = await router.client.chat.completions.create({
      model: 'm1',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    expect(fleet.totalInFlight()).toBe(1);
    stream.controller.abort();
    await eventually(() => node.abortedByPeer === aborted + 1);
    await eventually(() => fleet.totalInFlight() === 0);
    await eventually(() => router.finished.at(-1)?.status === 499);
    expect(router.finished.at(-1)).toMatchObject({ success: false, nodeId: 'flaky', streamed: true });
    node.release();
  });

  it('aborts the node request when the client disconnects while waiting for a non-stream reply', async () => {
    node.fault = { kind: 'hang' };
    const aborted = node.abortedByPeer;
    const controller = new AbortController();
    const pending = router.client.chat.completions
      .create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await eventually(() => fleet.totalInFlight() === 1);
    controller.abort();
    await pending;
    await eventually(() => node.abortedByPeer === aborted + 1);
    await eventually(() => router.finished.at(-1)?.status === 499);
    // A client leaving is not the node's fault.
    expect(fleet.outcomes.at(-1)!.success).toBe(true);
  });
});
