/**
 * Faulty nodes as real processes (test/support/fault-node.ts: a node that registers and
 * heartbeats, then misbehaves) behind a real router process, with a real llama.cpp node on
 * stories260K as the healthy alternative. Short timeouts keep each case to seconds:
 * - a node that accepts requests and never answers: every request fails over to the healthy
 *   node at the first-byte timeout, and history records the failed attempt;
 * - a node that trickles a byte every few seconds: a stream it serves is cut at the idle
 *   timeout with an error event and `[DONE]`; a JSON request fails over;
 * - a node whose heartbeats stop while its port stays open: it goes offline after the node
 *   timeout and gets no more traffic.
 * Throughout, the router and the healthy node stay up.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callJson,
  type FaultNodeOptions,
  type FaultNodeProcess,
  modelsDir,
  type RouterProcess,
  type RunningProcess,
  startFaultNode,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  waitUntil,
} from '../support/processes.js';

const FIRST_BYTE_TIMEOUT_MS = 1500;
const IDLE_TIMEOUT_MS = 1500;
const NODE_TIMEOUT_MS = 3000;
/** What a busy 2-core machine may add to a deadline before the router acts on it. */
const SLACK_MS = 3000;

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON replies field by field.
type Json = any;

let router: RouterProcess;
let healthy: RunningProcess;
let healthyId: string;
let adminKey: string;
let nodeKey: string;
let inferenceKey: string;
let client: OpenAI;

const admin = (method: string, path: string) => callJson(router.url, adminKey, method, path);

const statusOf = async (nodeId: string) =>
  ((await admin('GET', '/v0/nodes')).body as Json[]).find((n) => n.id === nodeId)?.status;

async function startFault(fault: FaultNodeOptions['fault']): Promise<FaultNodeProcess> {
  const node = await startFaultNode({ routerUrl: router.url, apiKey: nodeKey, model: 'stories260K', fault });
  await waitUntil(async () => (await statusOf(node.nodeId)) === 'online', 10_000, 'the fault node online');
  return node;
}

/** Stops a fault node and removes it from the router, so the next case starts clean. */
async function retire(node: FaultNodeProcess): Promise<void> {
  await node.stop();
  expect((await admin('DELETE', `/v0/nodes/${node.nodeId}`)).status).toBe(204);
}

async function chat(): Promise<{ content: string; ms: number }> {
  const started = Date.now();
  const res = await client.chat.completions.create({
    model: 'stories260K',
    messages: [{ role: 'user', content: 'Once upon a time' }],
    max_tokens: 8,
    temperature: 0,
  });
  return { content: res.choices[0]?.message.content ?? '', ms: Date.now() - started };
}

/** A raw streamed chat: the SSE text as the client received it, and how long it took. */
async function streamChat(): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${inferenceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 8,
      stream: true,
    }),
  });
  expect(res.status).toBe(200);
  return { text: await res.text(), ms: Date.now() - started };
}

/** History rows of this model, newest first. */
async function history(): Promise<Json[]> {
  return (await admin('GET', '/v0/dashboard/request-responses?per_page=100&model=stories260K')).body.records;
}

beforeAll(async () => {
  router = await startRouterProcess({
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    LLM_ROUTER_LOAD_BALANCER_MODE: 'round_robin',
    LLM_ROUTER_FIRST_BYTE_TIMEOUT: String(FIRST_BYTE_TIMEOUT_MS / 1000),
    LLM_ROUTER_IDLE_TIMEOUT: String(IDLE_TIMEOUT_MS / 1000),
    LLM_ROUTER_NODE_TIMEOUT: String(NODE_TIMEOUT_MS / 1000),
    LLM_ROUTER_HEALTH_CHECK_INTERVAL: '0.5',
  });
  adminKey = await router.createKey('admin:*');
  nodeKey = await router.createKey('node:register');
  inferenceKey = await router.createKey('api:inference');
  client = new OpenAI({ apiKey: inferenceKey, baseURL: `${router.url}/v1`, maxRetries: 0 });
  healthy = await startNodeProcess({
    routerUrl: router.url,
    apiKey: nodeKey,
    models: modelsDir(['stories260K']),
  });
  await waitUntil(
    async () => ((await admin('GET', '/v0/nodes')).body as Json[]).some((n) => n.status === 'online'),
    60_000,
    'the healthy node online',
  );
  healthyId = ((await admin('GET', '/v0/nodes')).body as Json[])[0].id;
});

afterAll(() => stopAll());

describe('fault nodes as real processes', () => {
  it('fails a node that never answers over to the healthy node at the first-byte timeout', async () => {
    const hang = await startFault({ kind: 'hang' });
    const results: Array<{ content: string; ms: number }> = [];
    // Round robin: within a few requests the hanging node gets two of them.
    while (hang.requests() < 2 && results.length < 8) results.push(await chat());
    expect(hang.requests()).toBeGreaterThanOrEqual(2);
    for (const r of results) expect(r.content.length).toBeGreaterThan(0);
    const failedOver = results.filter((r) => r.ms >= FIRST_BYTE_TIMEOUT_MS);
    expect(failedOver.length).toBeGreaterThanOrEqual(2);
    for (const r of failedOver) expect(r.ms).toBeLessThan(FIRST_BYTE_TIMEOUT_MS + SLACK_MS);

    // History: served by the healthy node, with the hanging node's timed-out attempt.
    await waitUntil(
      async () => (await history()).filter((h) => h.failed_attempts.length > 0).length >= 2,
      5000,
      'history to record the failovers',
    );
    const rows = (await history()).filter((h) => h.failed_attempts.length > 0);
    for (const row of rows) {
      expect(row.status).toBe('success');
      expect(row.node_id).toBe(healthyId);
      expect(row.failed_attempts).toEqual([
        {
          node_id: hang.nodeId,
          kind: 'timeout',
          message: expect.stringContaining(`sent no response within ${FIRST_BYTE_TIMEOUT_MS} ms`),
        },
      ]);
    }
    await retire(hang);
  });

  it('cuts a trickling stream at the idle timeout with an error tail; a JSON request fails over', async () => {
    const trickler = await startFault({ kind: 'trickle', afterEvents: 2, everyMs: 3000 });
    const streams: Array<{ text: string; ms: number }> = [];
    while (trickler.requests() < 1 && streams.length < 6) streams.push(await streamChat());
    expect(trickler.requests()).toBe(1);
    const cut = streams.at(-1) as { text: string; ms: number };
    // The two events it sent reached the client, then the router's error event and [DONE].
    const events = cut.text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const error = JSON.parse(events.at(-2) as string).error;
    expect(error.message).toContain(`stalled for ${IDLE_TIMEOUT_MS} ms mid-stream`);
    expect(JSON.parse(events[1] as string).choices[0].delta.content).toBe('hello ');
    expect(cut.ms).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS);
    expect(cut.ms).toBeLessThan(IDLE_TIMEOUT_MS + SLACK_MS);
    // Streams the healthy node served ended normally.
    for (const s of streams.slice(0, -1)) {
      expect(s.text).not.toContain('"error"');
      expect(s.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    }

    // A JSON reply that trickles has sent nothing to the client yet: it fails over.
    const before = trickler.requests();
    const results: Array<{ content: string; ms: number }> = [];
    while (trickler.requests() === before && results.length < 6) results.push(await chat());
    expect(trickler.requests()).toBe(before + 1);
    for (const r of results) expect(r.content.length).toBeGreaterThan(0);

    await waitUntil(
      async () => {
        const rows = await history();
        return (
          rows.some((h) => h.node_id === trickler.nodeId && h.status === 'error') &&
          rows.some((h) => h.failed_attempts.some((a: Json) => a.node_id === trickler.nodeId))
        );
      },
      5000,
      'history to record the cut stream and the failover',
    );
    const cutRow = (await history()).find((h) => h.node_id === trickler.nodeId);
    expect(cutRow.stream).toBe(true);
    expect(cutRow.error_message).toContain('stalled');
    const failedOver = (await history()).find((h) =>
      h.failed_attempts.some((a: Json) => a.node_id === trickler.nodeId),
    );
    expect(failedOver.status).toBe('success');
    expect(failedOver.node_id).toBe(healthyId);
    expect(failedOver.failed_attempts[0].kind).toBe('timeout');
    await retire(trickler);
  });

  it('takes a node whose heartbeats stop offline after the node timeout; it gets no more traffic', async () => {
    const silent = await startFault({ kind: 'none' });
    const served: string[] = [];
    while (!served.includes('hello from fault-none') && served.length < 6)
      served.push((await chat()).content);
    expect(served).toContain('hello from fault-none'); // it really served before

    silent.stopHeartbeats();
    const stoppedAt = Date.now();
    await waitUntil(
      async () => (await statusOf(silent.nodeId)) === 'offline',
      NODE_TIMEOUT_MS + SLACK_MS,
      'the silent node to go offline',
    );
    const offlineAfter = Date.now() - stoppedAt;
    expect(offlineAfter).toBeGreaterThanOrEqual(NODE_TIMEOUT_MS - 1000); // its last beat was ≤1 s before

    await new Promise((resolve) => setTimeout(resolve, 200)); // its request log is printed every 50 ms
    const count = silent.requests();
    for (let i = 0; i < 6; i++) expect((await chat()).content).not.toBe('hello from fault-none');
    expect(silent.requests()).toBe(count);
    expect(silent.child.exitCode).toBeNull(); // it is still there, answering: only silent
    await retire(silent);
  });

  it('kept the router and the healthy node up through all of it', async () => {
    expect(router.child.exitCode).toBeNull();
    expect(healthy.child.exitCode).toBeNull();
    expect(router.output()).not.toMatch(/uncaught|unhandled/i);
    expect(await statusOf(healthyId)).toBe('online');
    expect((await chat()).content.length).toBeGreaterThan(0);
  });
});
