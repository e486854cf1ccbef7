/**
 * A node that crashes and comes straight back (before the router noticed it was gone) takes its
 * place again: it proves its identity with the token it kept, so it is not refused as an
 * impostor and keeps its id.
 */
import { afterAll, expect, it } from 'vitest';
import { modelsDir, startNodeProcess, startRouterProcess, stopAll, waitUntil } from '../support/processes.js';

afterAll(() => stopAll());

it('a restarted node re-registers under its own id while the router still has it online', async () => {
  const router = await startRouterProcess({ LLM_ROUTER_ALLOW_NO_GPU: 'true', LLM_ROUTER_NODE_TIMEOUT: '60' });
  const admin = await router.createKey('admin:*');
  const nodeKey = await router.createKey('node:register');
  const models = modelsDir(['stories260K']);
  const nodes = async () =>
    (await (
      await fetch(`${router.url}/v0/nodes`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as Array<{
      id: string;
      status: string;
      last_seen: string;
    }>;

  const first = await startNodeProcess({ routerUrl: router.url, apiKey: nodeKey, models });
  await waitUntil(async () => (await nodes()).some((n) => n.status === 'online'), 30_000, 'the node online');
  const [before] = await nodes();
  await first.stop('SIGKILL');

  await startNodeProcess({
    routerUrl: router.url,
    apiKey: nodeKey,
    models,
    port: first.port,
    stateDir: first.stateDir,
  });
  // A fresh heartbeat from the same id proves it registered again instead of being refused.
  await waitUntil(
    async () => {
      const [now] = await nodes();
      return now.status === 'online' && now.last_seen > before.last_seen;
    },
    30_000,
    'the restarted node to heartbeat',
  );
  const after = await nodes();
  expect(after).toHaveLength(1);
  expect(after[0].id).toBe(before.id);
});
