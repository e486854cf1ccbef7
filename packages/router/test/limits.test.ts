/**
 * Per-key and per-user limits through the whole router: rpm, concurrency, token budgets and
 * per-model limits; 429s in the OpenAI shape with Retry-After and x-ratelimit-* headers;
 * reservations settled to real usage; exact admission under concurrency (runs on SQLite and,
 * in the suite's second run, on PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserLimits } from '../src/limits/user-limits.js';
import { type FakeNode, startFakeNode } from './proxy/helpers/fake-node.js';
import { holdingDatabase } from './support/held-queries.js';
import { gpuNodeRegistration, startTestRouter, type TestRouter } from './support/router-harness.js';

/** A chat body of a known size, so the reservation (bytes / 4 + max_tokens) is known. */
const chatBody = (model: string, maxTokens: number) =>
  JSON.stringify({ model, max_tokens: maxTokens, messages: [{ role: 'user', content: 'hello there' }] });
const reserveOf = (body: string, maxTokens: number) => Math.ceil(Buffer.byteLength(body) / 4) + maxTokens;

describe('per-key limits and budgets', () => {
  let router: TestRouter;
  let node: FakeNode;
  let hanging: FakeNode;
  let holding: FakeNode;
  let admin: Record<string, string>;

  beforeAll(async () => {
    router = await startTestRouter({ LLM_ROUTER_FIRST_BYTE_TIMEOUT: '3', LLM_ROUTER_MAX_ATTEMPTS: '1' });
    node = await startFakeNode('limits-node');
    hanging = await startFakeNode('hanging-node', { kind: 'hang' });
    holding = await startFakeNode('holding-node', { kind: 'hold' });
    admin = { authorization: `Bearer ${await router.adminToken()}` };
    const nodeKey = { authorization: `Bearer ${await router.createKey(['node:register'])}` };
    for (const [fake, models] of [
      [node, ['m1', 'm2']],
      [hanging, ['slow']],
      [holding, ['held']],
    ] as const) {
      const reg = await router.call('POST', '/v0/nodes', {
        body: gpuNodeRegistration({ base_url: fake.url, models: models.map((id) => ({ id, ready: true })) }),
        headers: nodeKey,
      });
      expect(reg.status).toBe(201);
    }
  });
  afterAll(async () => {
    await router.stop();
    await node.close();
    await hanging.close();
    await holding.close();
  });

  const keyWith = async (limits: unknown) => {
    const res = await router.call('POST', '/v0/api-keys', {
      body: { name: 'limited', scopes: ['api:inference'], limits },
      headers: admin,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; key: string; limits: unknown };
  };
  const chat = (key: string, model = 'm1', maxTokens = 8) =>
    router.call('POST', '/v1/chat/completions', {
      raw: chatBody(model, maxTokens),
      headers: { authorization: `Bearer ${key}` },
    });

  it('sets limits on create and update and shows them in the key list', async () => {
    const key = await keyWith({ rpm: 5, tokens_per_day: 1000, models: { m2: { rpm: 1 } } });
    expect(key.limits).toEqual({ rpm: 5, tokens_per_day: 1000, models: { m2: { rpm: 1 } } });
    const updated = await router.call('PUT', `/v0/api-keys/${key.id}`, {
      body: { limits: { tpm: 500, concurrent: 2 } },
      headers: admin,
    });
    expect(updated.status).toBe(200);
    expect(updated.body.limits).toEqual({ tpm: 500, concurrent: 2 });
    const list = await router.call('GET', '/v0/api-keys', { headers: admin });
    expect(list.body.api_keys.find((k: { id: string }) => k.id === key.id).limits).toEqual({
      tpm: 500,
      concurrent: 2,
    });
    const cleared = await router.call('PUT', `/v0/api-keys/${key.id}`, {
      body: { limits: null },
      headers: admin,
    });
    expect(cleared.body.limits).toBeNull();
  });

  it('refuses nonsense limits with 400 in the management shape', async () => {
    for (const limits of [
      { rpm: -1 },
      { rpm: 1.5 },
      { rpm: 'ten' },
      { per_hour: 3 },
      { models: { m: { concurrent: 1 } } },
    ]) {
      const res = await router.call('POST', '/v0/api-keys', {
        body: { name: 'bad', scopes: ['api:inference'], limits },
        headers: admin,
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { message: expect.any(String), code: 'validation_error' } });
    }
  });

  it('admits exactly rpm requests out of 20 concurrent ones; the rest get 429 with the headers', async () => {
    const { key } = await keyWith({ rpm: 5 });
    const results = await Promise.all(Array.from({ length: 20 }, () => chat(key)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok.length).toBe(5);
    expect(refused.length).toBe(15);
    const sample = refused[0] as (typeof refused)[number];
    expect(sample.body.error).toEqual({
      message: expect.stringContaining('5 requests per minute'),
      type: 'rate_limit_error',
      param: null,
      code: 'rate_limit_exceeded',
    });
    const retryAfter = Number(sample.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(sample.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(sample.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(sample.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
    // Admitted replies carry the headers too, counting down.
    const remaining = ok.map((r) => Number(r.headers.get('x-ratelimit-remaining-requests'))).sort();
    expect(remaining).toEqual([0, 1, 2, 3, 4]);
  });

  it('cannot overspend a token budget under 50 concurrent requests, and settles to real usage', async () => {
    const maxTokens = 40;
    const body = chatBody('held', maxTokens);
    const reserve = reserveOf(body, maxTokens);
    const budget = reserve * 7 + 3; // room for exactly 7 reservations
    const { id, key } = await keyWith({ tokens_per_day: budget });
    // The node holds every reply until all 50 have been admitted or refused, so all admitted
    // reservations are outstanding at once.
    let refusedSoFar = 0;
    const pending = Array.from({ length: 50 }, () =>
      chat(key, 'held', maxTokens).then((r) => {
        if (r.status === 429) refusedSoFar++;
        return r;
      }),
    );
    await eventually(async () => refusedSoFar + holding.requests.length === 50, 30_000).catch((e) => {
      throw new Error(`${e.message}: refused ${refusedSoFar}, at node ${holding.requests.length}`);
    });
    expect(holding.requests.length).toBe(7);
    expect(await used(`key:${id}`, 'tokens_per_day')).toBe(7 * reserve);
    holding.release();
    const results = await Promise.all(pending);
    expect(results.filter((r) => r.status === 200).length).toBe(7);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBe(43);
    expect(refused[0]?.body.error.code).toBe('budget_exceeded');
    expect(refused[0]?.headers.get('x-ratelimit-limit-tokens')).toBe(String(budget));
    // Every admitted request used 10 tokens (the node's usage): the budget holds 70 once settled.
    await eventually(async () => (await used(`key:${id}`, 'tokens_per_day')) === 70);
    expect(await used(`key:${id}`, 'tokens_per_day')).toBeLessThanOrEqual(budget);
    // What the settlement freed is spendable again.
    const again = await chat(key, 'held', maxTokens);
    expect(again.status).toBe(200);
  });

  it('answers over-limit Anthropic Messages requests in the Anthropic error shape', async () => {
    const { key } = await keyWith({ rpm: 1 });
    const send = () =>
      router.call('POST', '/v1/messages', {
        body: { model: 'm1', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
        headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      });
    expect((await send()).status).not.toBe(429);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.stringContaining('1 requests per minute') },
    });
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('applies per-model limits on top of the key limits', async () => {
    const { key } = await keyWith({ rpm: 100, models: { m2: { rpm: 1 } } });
    expect((await chat(key, 'm2')).status).toBe(200);
    const second = await chat(key, 'm2');
    expect(second.status).toBe(429);
    expect(second.body.error.message).toContain("model 'm2'");
    expect((await chat(key, 'm1')).status).toBe(200);
  });

  it('limits requests in flight at once, and frees the slot when a request ends', async () => {
    const { key } = await keyWith({ concurrent: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, () => chat(key, 'slow')));
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBe(4);
    expect(refused[0]?.body.error.code).toBe('concurrency_limit_exceeded');
    expect(results.filter((r) => r.status === 504 || r.status === 502 || r.status === 503).length).toBe(2);
    expect((await chat(key, 'm1')).status).toBe(200);
  });

  it('refunds the tokens of a request that failed without usage', async () => {
    const { id, key } = await keyWith({ tpm: 100_000 });
    expect((await chat(key, 'slow')).status).toBeGreaterThanOrEqual(500);
    await eventually(async () => (await used(`key:${id}`, 'tpm')) === 0);
  });

  it('limits a dashboard user per session, set through /v0/users', async () => {
    const created = await router.call('POST', '/v0/users', {
      body: { username: 'limited-viewer', password: 'long-enough-password', role: 'viewer' },
      headers: admin,
    });
    const set = await router.call('PUT', `/v0/users/${created.body.id}`, {
      body: { limits: { rpm: 2 } },
      headers: admin,
    });
    expect(set.status).toBe(200);
    expect(set.body.limits).toEqual({ rpm: 2 });
    const login = await router.call('POST', '/v0/auth/login', {
      body: { username: 'limited-viewer', password: 'long-enough-password' },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await chat(login.body.token)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("keeps a user's new limits when a reload read the users before they were set", async () => {
    const created = await router.call('POST', '/v0/users', {
      body: { username: 'reloaded-viewer', password: 'long-enough-password', role: 'viewer' },
      headers: admin,
    });
    const held = holdingDatabase(router.db);
    const store = await UserLimits.load(held.db);
    try {
      // The reload reads the users before the change and hands its rows over after it.
      const read = held.holdNext('selectFrom', 'after');
      const reloading = store.reload();
      await read.reached;
      expect(await store.set(created.body.id, { rpm: 7 })).toBe(true);
      read.release();
      await reloading;
      expect(store.get(created.body.id)).toEqual({ rpm: 7 });
      // The next reload reads the change and keeps it.
      await store.reload();
      expect(store.get(created.body.id)).toEqual({ rpm: 7 });
    } finally {
      store.close();
    }
  });

  async function used(subject: string, counter: string): Promise<number> {
    const rows = await router.db
      .selectFrom('limit_counters')
      .select('used')
      .where('subject', '=', subject)
      .where('counter', '=', counter)
      .execute();
    return rows.reduce((sum, row) => sum + Number(row.used), 0);
  }
});

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
