/**
 * The registry caches each model's candidate list (issue 11: selection at fleet scale); every
 * change that moves a node in or out of a model's candidates must show at once, and a node's
 * router stats (where the round-robin memory lives) outlast those changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBalancer } from '../src/balancer/index.js';
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

  const register = async (name: string, again?: { id: string; token: string }) => {
    const res = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({
        machine_name: name,
        models: [{ id: 'm1', ready: true }],
        ...(again && { node_id: again.id }),
      }),
      headers: { authorization: `Bearer ${nodeKey}`, ...(again && { 'x-node-token': again.token }) },
    });
    expect(res.status).toBe(again ? 200 : 201);
    return { id: res.body.node_id as string, token: res.body.node_token as string };
  };
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
    const beat = (node: { id: string; token: string }, models: Array<{ id: string; ready: boolean }>) =>
      router.call('POST', '/v0/health', {
        body: heartbeat(node.id, { models, loaded_models: [] }),
        headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': node.token },
      });
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

  it('a node keeps its place in the round-robin rotation across heartbeats and re-registration', async () => {
    // The rotation's memory is on the node's router stats (balancer/rotation.ts), which the
    // registry must carry over when a heartbeat or a re-registration replaces the node's state.
    const policy = createBalancer('round_robin');
    const pick = () => policy.select(router.registry.candidatesFor('m1'), { model: 'm1' })?.id;
    const a = await register('a');
    const b = await register('b');
    expect(pick()).toBe(a.id);
    const again = await register('a', a);
    expect(
      (
        await router.call('POST', '/v0/health', {
          body: heartbeat(a.id, { models: [{ id: 'm1', ready: true }], loaded_models: [] }),
          headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': again.token },
        })
      ).status,
    ).toBe(200);
    // Had `a` lost its last pick it would go first again (never picked, registered first).
    expect([pick(), pick(), pick()]).toEqual([b.id, a.id, b.id]);
  });
});
