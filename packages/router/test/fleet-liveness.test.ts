/**
 * Heartbeats accepted by a replica are written to `node_heartbeats` for the other replicas in
 * batches (fleet/fleet-sync.ts): a node new to this replica at once, later heartbeats within
 * the flush period, one row per node holding its latest heartbeat, and what is queued when
 * the router shuts down is written before the database closes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { gpuNodeRegistration, heartbeat, startTestRouter } from './support/router-harness.js';

describe('node liveness for other replicas', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('writes a new node at once, later heartbeats in batches, and the queue on shutdown', async () => {
    const router = await startTestRouter();
    cleanups.push(() => router.stop());
    const db = await openDatabase(router.databaseUrl);
    cleanups.push(() => db.destroy());
    const nodeKey = await router.createKey(['node:register']);
    const register = async (name: string) => {
      const res = await router.call('POST', '/v0/nodes', {
        body: gpuNodeRegistration({ machine_name: name, models: [{ id: 'm', ready: true }] }),
        headers: { authorization: `Bearer ${nodeKey}` },
      });
      expect(res.status).toBe(201);
      return { id: res.body.node_id as string, token: res.body.node_token as string };
    };
    const beat = async (node: { id: string; token: string }, active: number) => {
      const res = await router.call('POST', '/v0/health', {
        body: heartbeat(node.id, {
          models: [{ id: 'm', ready: true }],
          loaded_models: [],
          active_requests: active,
        }),
        headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': node.token },
      });
      expect(res.status).toBe(200);
    };
    const rows = async () =>
      new Map(
        (await db.selectFrom('node_heartbeats').selectAll().execute()).map((r) => [
          r.node_id,
          { lastSeen: Number(r.last_seen), active: Number(r.active_requests) },
        ]),
      );
    const until = async (check: (r: Awaited<ReturnType<typeof rows>>) => boolean) => {
      const started = Date.now();
      for (;;) {
        const current = await rows();
        if (check(current)) return current;
        if (Date.now() - started > 5_000) throw new Error(`not written: ${JSON.stringify([...current])}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    const a = await register('liveness-a');
    const b = await register('liveness-b');
    // New to this replica: written at once (the others are told about it right after).
    await until((r) => r.has(a.id) && r.has(b.id));

    // Later heartbeats: one row per node, each with its latest.
    for (let i = 1; i <= 5; i++) {
      await beat(a, i);
      await beat(b, 10 + i);
    }
    const latest = await until((r) => r.get(a.id)?.active === 5 && r.get(b.id)?.active === 15);
    expect(latest.get(a.id)?.lastSeen).toBe(router.registry.get(a.id)?.lastSeen);

    // Queued when the router shuts down: written before it closes its database.
    await beat(a, 42);
    await router.close();
    expect((await rows()).get(a.id)?.active).toBe(42);
  });
});
