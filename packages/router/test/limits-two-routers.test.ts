/**
 * A budget shared by two routers on one database: 50 concurrent requests spread over both
 * cannot overspend it, because reservations are atomic in the database (a conditional UPDATE
 * per counter), not a read-then-write in either router. Runs on SQLite (two routers on one
 * file) and, in the suite's PostgreSQL run, on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeNode, startFakeNode } from './proxy/helpers/fake-node.js';
import { gpuNodeRegistration, startTestRouter, type TestRouter } from './support/router-harness.js';

describe('a token budget shared by two routers', () => {
  let a: TestRouter;
  let b: TestRouter;
  let holding: FakeNode;

  beforeAll(async () => {
    holding = await startFakeNode('held-for-two', { kind: 'hold' });
    a = await startTestRouter({ LLM_ROUTER_FIRST_BYTE_TIMEOUT: '30' });
    b = await startTestRouter(
      { LLM_ROUTER_FIRST_BYTE_TIMEOUT: '30' },
      { reuse: { dataDir: a.dataDir, databaseUrl: a.databaseUrl } },
    );
    for (const router of [a, b]) {
      const reg = await router.call('POST', '/v0/nodes', {
        body: gpuNodeRegistration({ base_url: holding.url, models: [{ id: 'held', ready: true }] }),
        headers: { authorization: `Bearer ${await router.createKey(['node:register'])}` },
      });
      expect(reg.status).toBe(201);
    }
  });
  afterAll(async () => {
    holding.release();
    await a.close();
    await b.stop();
    await holding.close();
  });

  it('admits exactly as many reservations as the budget holds, over both routers', async () => {
    const maxTokens = 30;
    const body = JSON.stringify({
      model: 'held',
      max_tokens: maxTokens,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const reserve = Math.ceil(Buffer.byteLength(body) / 4) + maxTokens;
    const budget = reserve * 9 + 1;
    const created = await a.call('POST', '/v0/api-keys', {
      body: { name: 'shared budget', scopes: ['api:inference'], limits: { tokens_per_month: budget } },
      headers: { authorization: `Bearer ${await a.adminToken()}` },
    });
    expect(created.status).toBe(201);
    const headers = { authorization: `Bearer ${created.body.key}` };
    let refused = 0;
    const pending = Array.from({ length: 50 }, (_, i) =>
      (i % 2 === 0 ? a : b).call('POST', '/v1/chat/completions', { raw: body, headers }).then((r) => {
        if (r.status === 429) refused++;
        return r;
      }),
    );
    const deadline = Date.now() + 30_000;
    while (refused + holding.requests.length < 50 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(holding.requests.length).toBe(9);
    expect(refused).toBe(41);
    holding.release();
    const results = await Promise.all(pending);
    expect(results.filter((r) => r.status === 200).length).toBe(9);
    // Both routers took part in admitting.
    expect(results.filter((r, i) => r.status === 200 && i % 2 === 0).length).toBeGreaterThan(0);
    expect(results.filter((r, i) => r.status === 200 && i % 2 === 1).length).toBeGreaterThan(0);
  });
});
