/**
 * Several routers on one database (SQLite file here; PostgreSQL with LISTEN/NOTIFY in the
 * suite's second run): a node heartbeating to router A only is served through router B; a key
 * revoked on A stops working on B within 2 s; when A goes away the node's heartbeats move to B
 * (its token, issued by A, is accepted there) and B keeps serving. An admin's node changes on
 * A (rename, delete) reach B within 2 s, and so does the first change of a topic ever made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterClient } from '../../node/src/agent/router-client.js';
import { ChangeFeed } from '../src/store/change-feed.js';
import { type FakeNode, refusedUrl, startFakeNode } from './proxy/helpers/fake-node.js';
import {
  gpuNodeRegistration,
  heartbeat,
  startTestRouter,
  type TestRouter,
} from './support/router-harness.js';

async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

describe('several routers sharing one database', () => {
  let a: TestRouter;
  let b: TestRouter;
  let node: FakeNode;
  let nodeKey: string;
  let nodeId: string;
  let nodeToken: string;
  let aClosed = false;

  beforeAll(async () => {
    node = await startFakeNode('shared-node');
    a = await startTestRouter({ LLM_ROUTER_NODE_TIMEOUT: '3', LLM_ROUTER_HEALTH_CHECK_INTERVAL: '0.2' });
    b = await startTestRouter(
      { LLM_ROUTER_NODE_TIMEOUT: '3', LLM_ROUTER_HEALTH_CHECK_INTERVAL: '0.2' },
      { reuse: { dataDir: a.dataDir, databaseUrl: a.databaseUrl } },
    );
    nodeKey = await a.createKey(['node:register']);
    const reg = await a.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: node.url, models: [{ id: 'shared-model', ready: true }] }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    expect(reg.status).toBe(201);
    nodeId = reg.body.node_id;
    nodeToken = reg.body.node_token;
  });
  afterAll(async () => {
    if (!aClosed) await a.close();
    await b.stop();
    await node.close();
  });

  const beatTo = (router: TestRouter) =>
    router.call('POST', '/v0/health', {
      body: heartbeat(nodeId, {
        models: [{ id: 'shared-model', ready: true }],
        loaded_models: ['shared-model'],
      }),
      headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': nodeToken },
    });

  it('serves through B a node that heartbeats to A only', async () => {
    expect((await beatTo(a)).status).toBe(200);
    const key = await a.createKey(['api:inference']);
    const chat = () =>
      b.call('POST', '/v1/chat/completions', {
        body: { model: 'shared-model', messages: [{ role: 'user', content: 'hi' }] },
        headers: { authorization: `Bearer ${key}` },
      });
    await within(3000, async () => (await chat()).status === 200);
    const res = await chat();
    expect(res.body.choices[0].message.content).toBe('hello from shared-node');
    expect(b.registry.get(nodeId)?.status).toBe('online');
  });

  it('stops a key revoked on A from working on B within 2 s', async () => {
    const created = await a.call('POST', '/v0/api-keys', {
      body: { name: 'revoke me', scopes: ['api:inference'] },
      headers: { authorization: `Bearer ${await a.adminToken()}` },
    });
    const use = () =>
      b.call('GET', '/v1/models', { headers: { authorization: `Bearer ${created.body.key}` } });
    expect((await use()).status).toBe(200);
    const revoked = await a.call('DELETE', `/v0/api-keys/${created.body.id}`, {
      headers: { authorization: `Bearer ${await a.adminToken()}` },
    });
    expect(revoked.status).toBe(204);
    await within(2000, async () => (await use()).status === 401);
  });

  it("applies an admin's rename and deletion of a node on A on B within 2 s", async () => {
    const admin = { authorization: `Bearer ${await a.adminToken()}` };
    const other = await a.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({
        base_url: 'http://127.0.0.1:9',
        models: [{ id: 'other-model', ready: true }],
      }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    expect(other.status).toBe(201);
    const otherId: string = other.body.node_id;
    await within(3000, async () => b.registry.get(otherId) !== undefined);

    const renamed = await a.call('PUT', `/v0/nodes/${otherId}/settings`, {
      body: { custom_name: 'renamed on A', tags: ['rack-2'] },
      headers: admin,
    });
    expect(renamed.status).toBe(200);
    await within(2000, async () => b.registry.get(otherId)?.customName === 'renamed on A');
    expect(b.registry.get(otherId)?.tags).toEqual(['rack-2']);

    expect((await a.call('DELETE', `/v0/nodes/${otherId}`, { headers: admin })).status).toBe(204);
    await within(2000, async () => b.registry.get(otherId) === undefined);
    // The node the other tests use is untouched.
    expect(b.registry.get(nodeId)).toBeDefined();
  });

  it("reports a topic's very first change to the other replicas (no LISTEN needed)", async () => {
    const here = await ChangeFeed.start(a.db, a.databaseUrl);
    const there = await ChangeFeed.start(b.db, a.databaseUrl);
    try {
      let fired = 0;
      there.on('models', () => fired++);
      const before = await b.db
        .selectFrom('change_versions')
        .selectAll()
        .where('topic', '=', 'models')
        .execute();
      expect(before).toEqual([]); // no model changed yet in this database: this is the first
      await here.notify('models');
      await within(2000, async () => fired > 0);
    } finally {
      await here.close();
      await there.close();
    }
  });

  it('moves the node to B when A is gone; B keeps serving', async () => {
    const key = await b.createKey(['api:inference']);
    await a.close();
    aClosed = true;
    // The node's agent fails over: A refuses connections, so its heartbeat goes to B.
    const client = new RouterClient([a.url, b.url], nodeKey);
    const reply = await client.heartbeat(
      heartbeat(nodeId, { models: [{ id: 'shared-model', ready: true }], loaded_models: ['shared-model'] }),
      nodeToken,
      new AbortController().signal,
    );
    expect(reply.status).toBe(200);
    expect(client.routerUrl).toBe(b.url);
    // Past A's last heartbeat's timeout, B still has the node online through its own heartbeats.
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await beatTo(b)).status).toBe(200);
    }
    const res = await b.call('POST', '/v1/chat/completions', {
      body: { model: 'shared-model', messages: [{ role: 'user', content: 'still there?' }] },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
  });

  it('lets a node registered with several router URLs register with the first one that answers', async () => {
    const client = new RouterClient([await refusedUrl(), b.url], nodeKey);
    const reply = await client.register(
      gpuNodeRegistration({ base_url: node.url }) as never,
      new AbortController().signal,
    );
    expect(reply.status).toBe(201);
    expect(client.routerUrl).toBe(b.url);
  });
});
