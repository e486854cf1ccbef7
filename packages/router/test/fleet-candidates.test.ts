/**
 * The registry caches each model's candidate list and what the fleet says about each model
 * (issue 11: selection at fleet scale); every change that moves a node in or out of a model's
 * candidates, or changes what it declares, must show at once, and a node's router stats (where
 * the round-robin memory lives) outlast those changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBalancer } from '../src/balancer/index.js';
import { toRow } from '../src/fleet/node-row.js';
import { servesOnlyEmbeddings } from '../src/fleet/types.js';
import { makeFleetNode } from './proxy/helpers/fake-fleet.js';
import {
  gpuNodeRegistration,
  heartbeat,
  startTestRouter,
  type TestRouter,
} from './support/router-harness.js';

describe('candidate lists stay current', () => {
  let router: TestRouter;
  let nodeKey: string;
  beforeAll(async () => {
    router = await startTestRouter();
    nodeKey = await router.createKey(['node:register']);
  });
  afterAll(() => router.stop());

  type Models = Array<{ id: string; ready: boolean; capabilities?: string[] }>;
  const register = async (
    name: string,
    again?: { id: string; token: string },
    models: Models = [{ id: 'm1', ready: true }],
  ) => {
    const res = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ machine_name: name, models, ...(again && { node_id: again.id }) }),
      headers: { authorization: `Bearer ${nodeKey}`, ...(again && { 'x-node-token': again.token }) },
    });
    expect(res.status).toBe(again ? 200 : 201);
    return { id: res.body.node_id as string, token: res.body.node_token as string };
  };
  const beat = (node: { id: string; token: string }, models: Models) =>
    router.call('POST', '/v0/health', {
      body: heartbeat(node.id, { models, loaded_models: [] }),
      headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': node.token },
    });
  const ids = () => router.registry.candidatesFor('m1').map((n) => n.id);

  it('follows registration, heartbeats, disconnect, expiry and removal', async () => {
    expect(ids()).toEqual([]);
    expect(router.registry.isModelKnown('m1')).toBe(false);
    const a = await register('a');
    expect(ids()).toEqual([a.id]);
    expect(router.registry.isModelKnown('m1')).toBe(true);
    const b = await register('b');
    expect(ids()).toEqual([a.id, b.id]);

    // A heartbeat that reports m1 not ready takes b out; the next one puts it back.
    expect((await beat(b, [{ id: 'm1', ready: false }])).status).toBe(200);
    expect(ids()).toEqual([a.id]);
    expect(
      (
        await beat(b, [
          { id: 'm1', ready: true },
          { id: 'm2', ready: true },
        ])
      ).status,
    ).toBe(200);
    expect(ids()).toEqual([a.id, b.id]);
    expect(router.registry.candidatesFor('m2').map((n) => n.id)).toEqual([b.id]);

    await router.registry.disconnect(a.id);
    expect(ids()).toEqual([b.id]);
    router.registry.expireSilentNodes(0, Date.now() + 1000);
    expect(ids()).toEqual([]);
    expect((await beat(b, [{ id: 'm1', ready: true }])).status).toBe(200);
    expect(ids()).toEqual([b.id]);
    await router.registry.remove(b.id);
    expect(ids()).toEqual([]);
    expect(router.registry.isModelKnown('m2')).toBe(false);
  });

  it('keeps the cached list through heartbeats that only refresh load, and sees their new figures', async () => {
    // 1,000 nodes heartbeat 100 times a second: rebuilding every list on each would cost more
    // than the heartbeats themselves. The list holds the node objects, so load stays current.
    const c = await register('c', undefined, [{ id: 'm3', ready: true }]);
    const before = router.registry.candidatesFor('m3');
    expect(before.map((n) => n.id)).toEqual([c.id]);
    const res = await router.call('POST', '/v0/health', {
      body: heartbeat(c.id, {
        models: [{ id: 'm3', ready: true, busy_sequences: 2, queued_requests: 1 }],
        loaded_models: [],
        cpu_usage: 77,
        active_requests: 5,
      }),
      headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': c.token },
    });
    expect(res.status).toBe(200);
    const after = router.registry.candidatesFor('m3');
    expect(after).toBe(before);
    expect(after[0]?.metrics).toMatchObject({ cpuUsage: 77, activeRequests: 5 });
    // A change of readiness is a change of candidates.
    expect((await beat(c, [{ id: 'm3', ready: false }])).status).toBe(200);
    expect(router.registry.candidatesFor('m3')).toEqual([]);
    await router.registry.remove(c.id);
  });

  it('a node keeps its place in the round-robin rotation across heartbeats and re-registration', async () => {
    // The rotation's memory is on the node's router stats (balancer/rotation.ts), which the
    // registry must carry over when a heartbeat or a re-registration replaces the node's state.
    const policy = createBalancer('round_robin');
    const pick = () => policy.select(router.registry.candidatesFor('m1'), { model: 'm1' })?.id;
    const a = await register('a');
    const b = await register('b');
    expect(pick()).toBe(a.id);
    const again = await register('a', a);
    expect((await beat(again, [{ id: 'm1', ready: true }])).status).toBe(200);
    // Had `a` lost its last pick it would go first again (never picked, registered first).
    expect([pick(), pick(), pick()]).toEqual([b.id, a.id, b.id]);
  });

  it("auto's index over a model's list follows heartbeats and requests as the registry applies them", async () => {
    // The fleet's lists are frozen, so `auto` keeps an index per list and learns of changes
    // from the change log the registry writes. Four nodes, so that a changed node's match is
    // not replayed by the chosen node's own update: each step fails if its note is missing.
    const policy = createBalancer('auto');
    const models = [{ id: 'm4', ready: true }];
    const list = () => router.registry.candidatesFor('m4');
    const pick = () => policy.select(list(), { model: 'm4' })?.id;
    const beatWith = (node: { id: string; token: string }, cpu: number) =>
      router.call('POST', '/v0/health', {
        body: heartbeat(node.id, { models, loaded_models: [], cpu_usage: cpu }),
        headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': node.token },
      });
    const nodes = [];
    for (const [name, cpu] of [
      ['idx-a', 50],
      ['idx-x', 30],
      ['idx-b', 20],
      ['idx-y', 40],
    ] as const) {
      const node = await register(name, undefined, models);
      expect((await beatWith(node, cpu)).status).toBe(200);
      nodes.push(node);
    }
    const [a, , b] = nodes as [{ id: string; token: string }, unknown, { id: string; token: string }];
    const before = list();
    expect(Object.isFrozen(before)).toBe(true);
    // The first pick of a list scans it; the second makes its index.
    expect([pick(), pick()]).toEqual([b.id, b.id]); // lowest CPU
    expect((await beatWith(a, 10)).status).toBe(200);
    expect(list()).toBe(before); // a load-only heartbeat keeps the list, and so its index
    expect(pick()).toBe(a.id);
    router.registry.beginRequest(a.id); // a now has a request in progress
    expect([pick(), pick()]).toEqual([b.id, b.id]);
    router.registry.endRequest(a.id, { success: true, latencyMs: 5 });
    expect(pick()).toBe(a.id);
    expect((await beatWith(a, 90)).status).toBe(200); // above 80 %: after every cool node
    expect(pick()).toBe(b.id);
    for (const node of nodes) await router.registry.remove(node.id);
  });

  it('knows which models are embeddings-only, current after registration, heartbeats and removal', async () => {
    // The registry answers from its cache; the straightforward walk over every node must agree.
    const check = (expected: Record<string, boolean>) => {
      for (const [model, only] of Object.entries(expected)) {
        expect(router.registry.servesOnlyEmbeddings(model), model).toBe(only);
        expect(servesOnlyEmbeddings(router.registry.all(), model), model).toBe(only);
      }
    };
    const x = await register('x', undefined, [
      { id: 'emb', ready: true, capabilities: ['embeddings'] },
      { id: 'gen', ready: true },
      { id: 'both', ready: true, capabilities: ['chat', 'embeddings'] },
    ]);
    check({ emb: true, gen: false, both: false, unknown: false });
    // Another node that lists `emb` for chat too: no longer embeddings-only anywhere.
    const y = await register('y', undefined, [
      { id: 'emb', ready: false, capabilities: ['embeddings', 'chat'] },
    ]);
    check({ emb: false });
    expect((await beat(y, [{ id: 'emb', ready: true, capabilities: ['embeddings'] }])).status).toBe(200);
    check({ emb: true });
    // A node that declares nothing for it serves text generation (llama.cpp's default).
    expect((await beat(y, [{ id: 'emb', ready: true }])).status).toBe(200);
    check({ emb: false });
    // Any state counts, offline included; only removal forgets the node's entry.
    await router.registry.disconnect(y.id);
    check({ emb: false });
    await router.registry.remove(y.id);
    check({ emb: true });
    await router.registry.remove(x.id);
    check({ emb: false, gen: false });
  });

  it('knows a node another replica registered as soon as it is adopted, and follows its heartbeats', async () => {
    expect(router.registry.isModelKnown('remote-model')).toBe(false);
    const row = toRow(makeFleetNode({ id: 'remote-node', models: ['remote-model'] }), 'hash');
    // The other replica's first heartbeat record carries its registration time, no newer than the row.
    router.registry.adoptRemote(row, {
      lastSeen: row.last_seen,
      models: [{ id: 'remote-model', ready: true }],
      activeRequests: 0,
      initializing: false,
    });
    expect(router.registry.isModelKnown('remote-model')).toBe(true);
    router.registry.adoptRemote(row, {
      lastSeen: row.last_seen + 500,
      models: [{ id: 'remote-model', ready: true }],
      activeRequests: 0,
      initializing: false,
    });
    const list = router.registry.candidatesFor('remote-model');
    expect(list.map((n) => n.id)).toEqual(['remote-node']);
    // A later heartbeat that only moves load keeps the list (and shows the new figure)...
    router.registry.adoptRemote(row, {
      lastSeen: row.last_seen + 1000,
      models: [{ id: 'remote-model', ready: true, busy_sequences: 3 }],
      activeRequests: 4,
      initializing: false,
    });
    expect(router.registry.candidatesFor('remote-model')).toBe(list);
    expect(list[0]?.metrics.activeRequests).toBe(4);
    // ...one whose model is no longer ready takes the node out, and back in when it is again.
    router.registry.adoptRemote(row, {
      lastSeen: row.last_seen + 2000,
      models: [{ id: 'remote-model', ready: false }],
      activeRequests: 0,
      initializing: false,
    });
    expect(router.registry.candidatesFor('remote-model')).toEqual([]);
    router.registry.adoptRemote(row, {
      lastSeen: row.last_seen + 3000,
      models: [{ id: 'remote-model', ready: true }],
      activeRequests: 0,
      initializing: false,
    });
    expect(router.registry.candidatesFor('remote-model').map((n) => n.id)).toEqual(['remote-node']);
    // A node disapproved on the other replica leaves the candidates with its next heartbeat.
    router.registry.adoptRemote(
      { ...row, approved: 0 },
      {
        lastSeen: row.last_seen + 4000,
        models: [{ id: 'remote-model', ready: true }],
        activeRequests: 0,
        initializing: false,
      },
    );
    expect(router.registry.candidatesFor('remote-model')).toEqual([]);
    await router.registry.remove('remote-node');
  });
});
