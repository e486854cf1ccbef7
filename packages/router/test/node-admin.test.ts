import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gpuNodeRegistration,
  heartbeat,
  startTestRouter,
  type TestRouter,
} from './support/router-harness.js';

describe('fleet administration', () => {
  let router: TestRouter;
  let admin: Record<string, string>;
  let nodeKey: string;
  let logsServer: Server;
  let logsUrl: string;
  let logsRequests: string[] = [];

  beforeAll(async () => {
    router = await startTestRouter({ LLM_ROUTER_REQUIRE_NODE_APPROVAL: 'true' });
    admin = { authorization: `Bearer ${await router.adminToken()}` };
    nodeKey = await router.createKey(['node:register']);
    // Stands in for a node's log endpoint.
    logsServer = createServer((req, res) => {
      logsRequests.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          entries: [{ timestamp: 't', level: 'info', message: 'model loaded' }],
          path: '/x.jsonl',
        }),
      );
    });
    await new Promise<void>((r) => logsServer.listen(0, '127.0.0.1', r));
    logsUrl = `http://127.0.0.1:${(logsServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await router.stop();
    await new Promise((r) => logsServer.close(r));
  });

  const register = (overrides: Record<string, unknown> = {}) =>
    router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: logsUrl, ...overrides }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
  const beat = (id: string, token: string, overrides: Record<string, unknown> = {}) =>
    router.call('POST', '/v0/health', {
      body: heartbeat(id, overrides),
      headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': token },
    });
  const statusOf = (id: string) => router.registry.get(id)?.status;

  it('keeps a new node pending until approved, then routes to it', async () => {
    const reg = await register();
    const { node_id: id, node_token: token } = reg.body;
    expect(statusOf(id)).toBe('pending');
    expect((await beat(id, token)).body.node_status).toBe('pending');
    expect(router.registry.candidatesFor('stories260K').map((n) => n.id)).not.toContain(id);
    const approved = await router.call('POST', `/v0/nodes/${id}/approve`, { headers: admin });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('online');
    expect(router.registry.candidatesFor('stories260K').map((n) => n.id)).toContain(id);
    const twice = await router.call('POST', `/v0/nodes/${id}/approve`, { headers: admin });
    expect(twice.status).toBe(400);
    expect(twice.body.error.code).toBe('not_pending');
  });

  it('does not let a pending node skip approval by going offline and coming back', async () => {
    const reg = await register();
    const { node_id: id, node_token: token } = reg.body;
    const disconnected = await router.call('POST', `/v0/nodes/${id}/disconnect`, { headers: admin });
    expect(disconnected.status).toBe(202);
    expect(statusOf(id)).toBe('offline');
    await beat(id, token);
    expect(statusOf(id)).toBe('pending');
    // Re-registering, even with its own token, does not skip it either.
    await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: logsUrl, node_id: id }),
      headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': token },
    });
    expect(statusOf(id)).toBe('pending');
  });

  it('an approved node stays approved when it re-registers with its token', async () => {
    const reg = await register();
    await router.call('POST', `/v0/nodes/${reg.body.node_id}/approve`, { headers: admin });
    const again = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: logsUrl, node_id: reg.body.node_id }),
      headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': reg.body.node_token },
    });
    expect(again.status).toBe(200);
    expect(statusOf(reg.body.node_id)).toBe('online');
  });

  it('a node claimed by its id without its token loses its approval', async () => {
    const reg = await register();
    const id = reg.body.node_id;
    await router.call('POST', `/v0/nodes/${id}/approve`, { headers: admin });
    // Online: the id cannot be claimed at all.
    expect((await register({ node_id: id })).status).toBe(409);
    // Offline: it can, but an admin must approve it again.
    await router.call('POST', `/v0/nodes/${id}/disconnect`, { headers: admin });
    expect((await register({ node_id: id })).status).toBe(200);
    expect(statusOf(id)).toBe('pending');
  });

  it('disconnect forces a node offline and its next heartbeat brings it back', async () => {
    const reg = await register();
    const { node_id: id, node_token: token } = reg.body;
    await router.call('POST', `/v0/nodes/${id}/approve`, { headers: admin });
    await router.call('POST', `/v0/nodes/${id}/disconnect`, { headers: admin });
    expect(router.registry.candidatesFor('stories260K').map((n) => n.id)).not.toContain(id);
    await beat(id, token);
    expect(statusOf(id)).toBe('online');
  });

  it('sets, trims and clears custom name, tags and notes', async () => {
    const id = (await register()).body.node_id;
    const set = await router.call('PUT', `/v0/nodes/${id}/settings`, {
      body: { custom_name: '  rack 3  ', tags: ['gpu', ' a100 ', '', 'gpu'], notes: 'spare' },
      headers: admin,
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ custom_name: 'rack 3', tags: ['gpu', 'a100'], notes: 'spare' });
    const cleared = await router.call('PUT', `/v0/nodes/${id}/settings`, {
      body: { custom_name: '', tags: [], notes: null },
      headers: admin,
    });
    expect(cleared.body).toMatchObject({ custom_name: null, tags: [], notes: null });
    const bad = await router.call('PUT', `/v0/nodes/${id}/settings`, {
      body: { tags: 'gpu' },
      headers: admin,
    });
    expect(bad.status).toBe(400);
    expect((await router.call('PUT', '/v0/nodes/nope/settings', { body: {}, headers: admin })).status).toBe(
      404,
    );
  });

  it('persists settings to the database', async () => {
    const id = (await register()).body.node_id;
    await router.call('PUT', `/v0/nodes/${id}/settings`, { body: { custom_name: 'kept' }, headers: admin });
    const rows = await router.db
      .selectFrom('nodes')
      .select(['id', 'custom_name'])
      .where('id', '=', id)
      .execute();
    expect(rows[0].custom_name).toBe('kept');
  });

  it('deletes a node: it disappears and its token stops working', async () => {
    const reg = await register();
    const { node_id: id, node_token: token } = reg.body;
    expect((await router.call('DELETE', `/v0/nodes/${id}`, { headers: admin })).status).toBe(204);
    expect(router.registry.get(id)).toBeUndefined();
    expect((await beat(id, token)).status).toBe(404);
    expect((await router.call('DELETE', `/v0/nodes/${id}`, { headers: admin })).status).toBe(404);
  });

  it('serves a bounded per-node metrics history from heartbeats', async () => {
    const reg = await register();
    const { node_id: id, node_token: token } = reg.body;
    for (let i = 0; i < 5; i++) await beat(id, token, { cpu_usage: 10 + i });
    const res = await router.call('GET', `/v0/dashboard/metrics/${id}`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body.samples.map((s: { cpu_usage: number }) => s.cpu_usage)).toEqual([10, 11, 12, 13, 14]);
    expect((await router.call('GET', '/v0/dashboard/metrics/unknown', { headers: admin })).status).toBe(404);
  });

  it('proxies a node’s log tail with the limit clamped to 1..1000, and 503 for an offline node', async () => {
    const reg = await register();
    const id = reg.body.node_id;
    await router.call('POST', `/v0/nodes/${id}/approve`, { headers: admin });
    logsRequests = [];
    const res = await router.call('GET', `/v0/nodes/${id}/logs?limit=5000`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body.entries[0].message).toBe('model loaded');
    expect(res.body.source).toBe('node:gpu-host');
    expect(logsRequests).toEqual(['/v0/logs?tail=1000']);
    expect((await router.call('GET', `/v0/nodes/${id}/logs?limit=abc`, { headers: admin })).status).toBe(400);
    await router.call('POST', `/v0/nodes/${id}/disconnect`, { headers: admin });
    expect((await router.call('GET', `/v0/nodes/${id}/logs`, { headers: admin })).status).toBe(503);
  });

  it('answers 502 when the node cannot be reached for its logs', async () => {
    const reg = await register({ base_url: 'http://127.0.0.1:9' });
    await router.call('POST', `/v0/nodes/${reg.body.node_id}/approve`, { headers: admin });
    const res = await router.call('GET', `/v0/nodes/${reg.body.node_id}/logs`, { headers: admin });
    expect(res.status).toBe(502);
  });
});
