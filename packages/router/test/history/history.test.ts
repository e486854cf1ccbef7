/**
 * Request history through the whole router: every `/v1` request becomes exactly one row, with
 * streams reassembled, errors recorded, bodies redacted, and the reading API filtering, paging
 * and exporting.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { sql } from '../../src/store/kysely-runtime.js';
import { type FakeNode, startFakeNode } from '../proxy/helpers/fake-node.js';
import { gpuNodeRegistration, startTestRouter, type TestRouter } from '../support/router-harness.js';

describe('request history', () => {
  let router: TestRouter;
  let node: FakeNode;
  let client: OpenAI;
  let admin: Record<string, string>;
  let nodeId: string;
  let apiKeyId: string;

  beforeAll(async () => {
    router = await startTestRouter();
    node = await startFakeNode('node-a');
    admin = { authorization: `Bearer ${await router.adminToken()}` };
    const reg = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: node.url, models: [{ id: 'm1', ready: true }] }),
      headers: { authorization: `Bearer ${await router.createKey(['node:register'])}` },
    });
    nodeId = reg.body.node_id;
    const key = await router.call('POST', '/v0/api-keys', {
      body: { name: 'history client', scopes: ['api:inference'] },
      headers: admin,
    });
    apiKeyId = key.body.id;
    client = new OpenAI({ apiKey: key.body.key, baseURL: `${router.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await router.stop();
    await node.close();
  });

  const rowCount = async () => {
    await router.recorder.flush();
    const [{ n }] = await router.db
      .selectFrom('request_history')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .execute();
    return Number(n);
  };

  it('records every request under concurrent load, streams and failures included', async () => {
    const before = await rowCount();
    const chat = () =>
      client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
    const stream = async () => {
      const s = await client.chat.completions.create({
        model: 'm1',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const _ of s) {
      }
    };
    const missing = () =>
      client.chat.completions
        .create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] })
        .catch(() => null);
    const jobs = [...Array(50)].flatMap(() => [chat(), stream(), missing()]);
    await Promise.all(jobs);
    expect((await rowCount()) - before).toBe(150);
  });

  it('stores a stream reassembled, with tokens and time to first token', async () => {
    const s = await client.chat.completions.create({
      model: 'm1',
      messages: [{ role: 'user', content: 'reassemble me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of s) {
    }
    await router.recorder.flush();
    const list = await router.call('GET', '/v0/dashboard/request-responses?per_page=10', { headers: admin });
    const row = list.body.records[0];
    expect(row).toMatchObject({
      request_type: 'chat',
      model: 'm1',
      node_id: nodeId,
      node_machine_name: 'gpu-host',
      status: 'success',
      stream: true,
      client_ip: '127.0.0.1',
      api_key_id: apiKeyId,
      prompt_tokens: 7,
      completion_tokens: 3,
    });
    expect(row.time_to_first_token_ms).not.toBeNull();
    const detail = await router.call('GET', `/v0/dashboard/request-responses/${row.id}`, { headers: admin });
    expect(detail.body.request_body.messages[0].content).toBe('reassemble me');
    expect(detail.body.response_body).toMatchObject({ text: 'hello from node-a', finish_reason: 'stop' });
  });

  it('records a request no node could take as an error with no node', async () => {
    await client.chat.completions
      .create({ model: 'ghost', messages: [{ role: 'user', content: 'x' }] })
      .catch(() => {});
    await router.recorder.flush();
    const res = await router.call('GET', '/v0/dashboard/request-responses?model=ghost', { headers: admin });
    expect(res.body.records[0]).toMatchObject({ status: 'error', status_code: 404, node_id: null });
    expect(res.body.records[0].error_message).toContain('ghost');
  });

  it('records authenticated requests refused before their handler: bad JSON, wrong content type', async () => {
    const before = await rowCount();
    const post = (body: string, contentType: string) =>
      fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': contentType },
        body,
      });
    expect((await post('{"model":', 'application/json')).status).toBe(400);
    expect((await post('<model/>', 'application/xml')).status).toBe(415);
    // A stranger's garbage is refused (401) without a history row.
    const stranger = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(stranger.status).toBe(401);
    expect((await rowCount()) - before).toBe(2);
    const errors = await router.call('GET', '/v0/dashboard/request-responses?status=error&per_page=10', {
      headers: admin,
    });
    expect(
      errors.body.records
        .slice(0, 2)
        .map((r: { status_code: number }) => r.status_code)
        .sort(),
    ).toEqual([400, 415]);
  });

  it('redacts data-URLs in stored request bodies', async () => {
    const image = `data:image/png;base64,${'A'.repeat(4000)}`;
    await client.chat.completions.create({
      model: 'm1',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: image } },
          ],
        },
      ],
    });
    await router.recorder.flush();
    const list = await router.call('GET', '/v0/dashboard/request-responses?per_page=10&status=success', {
      headers: admin,
    });
    const detail = await router.call('GET', `/v0/dashboard/request-responses/${list.body.records[0].id}`, {
      headers: admin,
    });
    const stored = JSON.stringify(detail.body.request_body);
    expect(stored).toContain('what is this?');
    expect(stored).not.toContain('AAAAAAAAAA');
    expect(stored).toContain('[redacted data-url image/png');
  });

  it('reads time ranges newest first through the (timestamp, status) index, the only one on timestamp', async () => {
    const postgres = router.databaseUrl.startsWith('postgres');
    const indexes = postgres
      ? await sql<{
          name: string;
        }>`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'request_history'`.execute(router.db)
      : await sql<{
          name: string;
        }>`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'request_history'`.execute(
          router.db,
        );
    const names = indexes.rows.map((row) => row.name);
    expect(names).toContain('request_history_timestamp_status');
    expect(names).not.toContain('request_history_timestamp');
    if (!postgres) {
      // PostgreSQL plans by table size (a small table is scanned); SQLite's plan is fixed.
      const plan = await sql<{ detail: string }>`EXPLAIN QUERY PLAN SELECT id FROM request_history
        WHERE timestamp >= ${Date.now() - 60_000} ORDER BY timestamp DESC LIMIT 10`.execute(router.db);
      expect(plan.rows.map((row) => row.detail).join('\n')).toContain(
        'USING INDEX request_history_timestamp_status',
      );
    }
  });

  it('filters by model, status, node, key and time, and pages', async () => {
    const q = (query: string) =>
      router.call('GET', `/v0/dashboard/request-responses?${query}`, { headers: admin });
    const errors = await q('status=error&per_page=100');
    expect(errors.body.records.every((r: { status: string }) => r.status === 'error')).toBe(true);
    const byNode = await q(`node_id=${nodeId}&per_page=100`);
    expect(byNode.body.records.every((r: { node_id: string }) => r.node_id === nodeId)).toBe(true);
    const byKey = await q(`api_key_id=${apiKeyId}&per_page=10`);
    expect(byKey.body.total).toBeGreaterThan(150);
    const future = await q(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.total).toBe(0);
    const page1 = await q('per_page=10&page=1');
    const page2 = await q('per_page=10&page=2');
    expect(page1.body.records).toHaveLength(10);
    expect(page2.body.records[0].id).not.toBe(page1.body.records[0].id);
    expect(page1.body.total_pages).toBe(Math.ceil(page1.body.total / 10));
    expect((await q('per_page=7')).status).toBe(400);
    expect((await q('status=maybe')).status).toBe(400);
    expect((await q('from=yesterday')).status).toBe(400);
    expect(
      (await router.call('GET', '/v0/dashboard/request-responses/nope', { headers: admin })).status,
    ).toBe(404);
  });

  it('exports CSV and JSON with one entry per row', async () => {
    const total = await rowCount();
    const csv = await fetch(`${router.url}/v0/dashboard/request-responses/export?format=csv`, {
      headers: admin,
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toContain('id,timestamp,request_type,model,node_id');
    expect(lines.length - 1).toBe(total);
    const json = await fetch(`${router.url}/v0/dashboard/request-responses/export?format=json&status=error`, {
      headers: admin,
    });
    const rows = (await json.json()) as Array<{ status: string }>;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === 'error')).toBe(true);
  });

  it('shows requests in the dashboard stats and per-minute chart', async () => {
    const stats = await router.call('GET', '/v0/dashboard/stats', { headers: admin });
    expect(stats.body.total_requests).toBe(await rowCount());
    expect(stats.body.failed_requests).toBeGreaterThanOrEqual(51);
    expect(stats.body.online_nodes).toBe(1);
    const chart = await router.call('GET', '/v0/dashboard/request-history', { headers: admin });
    expect(chart.body).toHaveLength(60);
    const last = chart.body.at(-1);
    expect(last.success + last.error + chart.body.at(-2).success + chart.body.at(-2).error).toBeGreaterThan(
      0,
    );
    const overview = await router.call('GET', '/v0/dashboard/overview', { headers: admin });
    expect(overview.body.nodes).toHaveLength(1);
    expect(overview.body.stats.total_requests).toBe(stats.body.total_requests);
  });

  it('flushes queued rows on graceful shutdown', async () => {
    const other = await startTestRouter();
    const otherNode = await startFakeNode('node-b');
    try {
      await other.call('POST', '/v0/nodes', {
        body: gpuNodeRegistration({ base_url: otherNode.url, models: [{ id: 'm1', ready: true }] }),
        headers: { authorization: `Bearer ${await other.createKey(['node:register'])}` },
      });
      const c = new OpenAI({ apiKey: await other.createKey(['api:inference']), baseURL: `${other.url}/v1` });
      await Promise.all(
        [...Array(20)].map(() =>
          c.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'x' }] }),
        ),
      );
      await other.close();
      const db = await openDatabase(other.databaseUrl);
      const [{ n }] = await db
        .selectFrom('request_history')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .execute();
      await db.destroy();
      expect(Number(n)).toBe(20);
    } finally {
      await other.stop();
      await otherNode.close();
    }
  });
});
