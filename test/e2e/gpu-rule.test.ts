/**
 * The GPU rule in both directions with real processes: a CPU-only node is refused by a router
 * that requires GPUs, and accepted once the router allows CPU nodes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { modelsDir, startNodeProcess, startRouterProcess, stopAll, waitUntil } from '../support/processes.js';

afterAll(() => stopAll());

async function listNodes(routerUrl: string, adminKey: string): Promise<Array<{ status: string }>> {
  const res = await fetch(`${routerUrl}/v0/nodes`, { headers: { authorization: `Bearer ${adminKey}` } });
  return (await res.json()) as Array<{ status: string }>;
}

describe('GPU rule', () => {
  it('a router that requires GPUs refuses a CPU-only node, which keeps running and says why', async () => {
    const router = await startRouterProcess();
    const adminKey = await router.createKey('admin:*');
    const node = await startNodeProcess({
      routerUrl: router.url,
      apiKey: await router.createKey('node:register'),
      models: modelsDir(['stories260K']),
    });
    await waitUntil(
      () => /GPU hardware is required/.test(node.output()),
      20_000,
      'the refusal in the node log',
    );
    expect(await listNodes(router.url, adminKey)).toEqual([]);
    expect(node.child.exitCode).toBeNull();
    await node.stop();
    await router.stop();
  });

  it('a router with LLM_ROUTER_ALLOW_NO_GPU=true accepts the same node', async () => {
    const router = await startRouterProcess({ LLM_ROUTER_ALLOW_NO_GPU: 'true' });
    const adminKey = await router.createKey('admin:*');
    await startNodeProcess({
      routerUrl: router.url,
      apiKey: await router.createKey('node:register'),
      models: modelsDir(['stories260K']),
    });
    await waitUntil(
      async () => (await listNodes(router.url, adminKey)).some((n) => n.status === 'online'),
      30_000,
      'the CPU node to come online',
    );
  });
});
