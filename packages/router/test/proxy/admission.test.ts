/**
 * Admission control on the request path, against real HTTP fake nodes: a node reporting one
 * sequence takes one request at a time; the next waits in the router queue, one more is refused
 * (503 queue_full with Retry-After), a wait past the timeout is refused (503 queue_timeout), a
 * client that leaves the queue never reaches a node, and a bad x-priority is a 400.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdmissionController } from '../../src/admission/controller.js';
import { FakeFleet, makeFleetNode } from './helpers/fake-fleet.js';
import { type FakeNode, startFakeNode } from './helpers/fake-node.js';
import { eventually, startTestRouter, type TestRouter } from './helpers/test-router.js';

let router: TestRouter | undefined;
let node: FakeNode | undefined;
let admission: AdmissionController | undefined;

afterEach(async () => {
  node?.release();
  admission?.close();
  await router?.close();
  await node?.close();
  router = node = admission = undefined;
});

async function setup(queueMax: number, queueTimeoutMs: number) {
  node = await startFakeNode('solo', { kind: 'gate' });
  // One sequence and no node-side queue: capacity 1.
  const fleet = new FakeFleet([
    makeFleetNode({
      id: 'solo',
      baseUrl: node.url,
      models: [{ id: 'm1', ready: true, sequences: 1, queue_limit: 0 }],
    }),
  ]);
  admission = new AdmissionController(fleet, { queueMax, queueTimeoutMs, recheckMs: 20 });
  router = await startTestRouter({ fleet, admission });
  return { fleet, node, admission, router };
}

const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], ...extra });

function post(url: string, body: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal,
  });
}

/** Starts a stream that holds the node's only sequence until `node.release()`. */
async function occupy(url: string) {
  const response = await post(url, chatBody({ stream: true }));
  const reader = response.body!.getReader();
  await reader.read();
  return async () => {
    while (!(await reader.read()).done) {}
  };
}

describe('admission control through the router', () => {
  it('queues while the node is full, refuses past the queue bound, then serves the queued request', async () => {
    const { router, node, admission } = await setup(1, 10_000);
    const drainFirst = await occupy(router.url);
    const queued = post(router.url, chatBody());
    await eventually(() => admission.stats().queue_depth === 1);

    const refused = await post(router.url, chatBody());
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const error = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.error.code).toBe('queue_full');
    expect(error.error.message).toMatch(/router queue is full/);
    expect(node.requests).toHaveLength(1);

    node.release();
    await drainFirst();
    const served = await queued;
    expect(served.status).toBe(200);
    expect(node.requests).toHaveLength(2);
    await eventually(() => router.finished.length === 3);
    const record = router.finished.find((f) => f.success && !f.streamed)!;
    expect(record.queueWaitMs).toBeGreaterThan(0);
    expect(router.finished.find((f) => f.status === 503)!.errorMessage).toMatch(/queue is full/);
  });

  it('refuses a request that waited past the timeout with 503 queue_timeout', async () => {
    const { router, node } = await setup(10, 150);
    const drainFirst = await occupy(router.url);
    const timedOut = await post(router.url, chatBody());
    expect(timedOut.status).toBe(503);
    expect(timedOut.headers.get('retry-after')).not.toBeNull();
    const error = (await timedOut.json()) as { error: { code: string; message: string } };
    expect(error.error.code).toBe('queue_timeout');
    expect(error.error.message).toMatch(/Waited \d+ s in the router queue/);
    expect(node.requests).toHaveLength(1);
    node.release();
    await drainFirst();
  });

  it('lets a client that disconnects leave the queue at once, never reaching a node', async () => {
    const { router, node, admission } = await setup(10, 10_000);
    const drainFirst = await occupy(router.url);
    const client = new AbortController();
    const leaving = post(router.url, chatBody(), {}, client.signal).catch((e: Error) => e);
    await eventually(() => admission.stats().queue_depth === 1);
    client.abort();
    await leaving;
    await eventually(() => admission.stats().queue_depth === 0);
    expect(admission.stats().abandoned_total).toBe(1);
    node.release();
    await drainFirst();
    // The next request is served at once: the departed one holds no slot.
    const next = await post(router.url, chatBody());
    expect(next.status).toBe(200);
    expect(node.requests).toHaveLength(2);
  });

  it('does not hold embeddings back: a node embeds outside its generation sequences', async () => {
    const { router, node, admission } = await setup(0, 10_000);
    const drainFirst = await occupy(router.url);
    const embedded = await fetch(`${router.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm1', input: 'hello' }),
    });
    expect(embedded.status).toBe(200);
    expect(admission.stats().rejected_full_total).toBe(0);
    node.release();
    await drainFirst();
  });

  it('fails over onto a full node by waiting for room there, not by giving up', async () => {
    const { router, node, fleet } = await setup(10, 10_000);
    const drainFirst = await occupy(router.url);
    const broken = await startFakeNode('broken', {
      kind: 'status',
      status: 500,
      body: '{"error":{"message":"boom"}}',
    });
    try {
      fleet.nodes.push(
        makeFleetNode({
          id: 'broken',
          baseUrl: broken.url,
          models: [{ id: 'm1', ready: true, sequences: 1, queue_limit: 0 }],
        }),
      );
      const pending = post(router.url, chatBody());
      await eventually(() => broken.requests.length === 1);
      node.release();
      await drainFirst();
      const response = await pending;
      expect(response.status).toBe(200);
      expect(node.requests).toHaveLength(2);
      await eventually(() => router.finished.some((f) => f.failedAttempts.length === 1));
    } finally {
      await broken.close();
    }
  });

  it('rejects an unknown x-priority with a 400 naming the header', async () => {
    const { router } = await setup(10, 10_000);
    const response = await post(router.url, chatBody(), { 'x-priority': 'urgent' });
    expect(response.status).toBe(400);
    const error = (await response.json()) as { error: { param: string; message: string } };
    expect(error.error.param).toBe('x-priority');
    expect(error.error.message).toMatch(/high, normal, low/);
    const ok = await post(router.url, chatBody(), { 'x-priority': 'HIGH' });
    expect(ok.status).toBe(200);
  });
});
