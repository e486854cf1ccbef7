/**
 * Kill a real node while a batch of requests is running: requests that had not started
 * streaming fail over to the other node, nobody sees an error, and the dead node goes offline.
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

let router: RouterProcess;
let victim: RunningProcess;
let survivor: RunningProcess;
let adminKey: string;
let client: OpenAI;

async function nodeStatuses(): Promise<Array<{ id: string; status: string; base_url: string }>> {
  const res = await fetch(`${router.url}/v0/nodes`, { headers: { authorization: `Bearer ${adminKey}` } });
  return (await res.json()) as Array<{ id: string; status: string; base_url: string }>;
}

beforeAll(async () => {
  router = await startRouterProcess({
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    LLM_ROUTER_NODE_TIMEOUT: '3',
    LLM_ROUTER_HEALTH_CHECK_INTERVAL: '0.5',
    LLM_ROUTER_LOAD_BALANCER_MODE: 'round_robin',
  });
  const nodeKey = await router.createKey('node:register');
  adminKey = await router.createKey('admin:*');
  client = new OpenAI({
    apiKey: await router.createKey('api:inference'),
    baseURL: `${router.url}/v1`,
    maxRetries: 0,
  });
  [victim, survivor] = await Promise.all([
    startNodeProcess({ routerUrl: router.url, apiKey: nodeKey, models: modelsDir(['stories260K']) }),
    startNodeProcess({ routerUrl: router.url, apiKey: nodeKey, models: modelsDir(['stories260K']) }),
  ]);
  await waitUntil(
    async () => (await nodeStatuses()).filter((n) => n.status === 'online').length === 2,
    60_000,
    'two online nodes',
  );
});

afterAll(() => stopAll());

describe('failover when a node dies', () => {
  it('completes every request of a batch although one node is killed mid-batch', async () => {
    const batch = [...Array(16)].map((_, i) =>
      client.chat.completions.create({
        model: 'stories260K',
        messages: [{ role: 'user', content: `Story number ${i}` }],
        max_tokens: 300,
        temperature: 0,
      }),
    );
    // Wait until the victim is busy with part of the batch, then kill it without warning.
    await waitUntil(
      async () => {
        const m = (await (await fetch(`${victim.url}/metrics`)).json()) as {
          active_requests: number;
          queued_requests: number;
        };
        return m.active_requests + m.queued_requests >= 2;
      },
      20_000,
      'the victim to hold requests',
    );
    victim.child.kill('SIGKILL');
    const results = await Promise.allSettled(batch);
    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures).toEqual([]);
    for (const r of results) {
      if (r.status === 'fulfilled') expect(r.value.choices[0].message.content?.length).toBeGreaterThan(0);
    }
  });

  it('keeps serving new requests from the surviving node', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await client.chat.completions.create({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 8,
      });
      expect(res.choices[0].message.content).toBeDefined();
    }
  });

  it('marks the dead node offline after the timeout', async () => {
    const victimUrl = victim.url;
    await waitUntil(
      async () => (await nodeStatuses()).find((n) => n.base_url === victimUrl)?.status === 'offline',
      15_000,
      'the killed node to go offline',
    );
    const survivorEntry = (await nodeStatuses()).find((n) => n.base_url === survivor.url);
    expect(survivorEntry?.status).toBe('online');
  });

  it('ends a stream cut by a dying node with an error event, not a hang', async () => {
    // Only the survivor is left; kill it while it streams.
    const stream = await client.chat.completions.create({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'A long story' }],
      max_tokens: 2000,
      temperature: 0,
      stream: true,
    });
    let chunks = 0;
    const consume = (async () => {
      for await (const chunk of stream) {
        chunks++;
        if (chunks === 3) survivor.child.kill('SIGKILL');
        void chunk;
      }
    })();
    const error = await consume.then(
      () => null,
      (e: unknown) => e,
    );
    expect(chunks).toBeGreaterThanOrEqual(3);
    expect(error).toBeInstanceOf(Error);
  });
});
