/**
 * The history writer under database trouble: a row the database refuses must not block the
 * rows around it, and client text that databases reject (NUL bytes) is cleaned, not fatal.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryRow } from '../../src/history/recorder.js';
import { type FakeNode, startFakeNode } from '../proxy/helpers/fake-node.js';
import { gpuNodeRegistration, startTestRouter, type TestRouter } from '../support/router-harness.js';
import { historyRow } from './support/history-row.js';

const row = (id = randomUUID()): HistoryRow => historyRow({ id });

describe('history writer', () => {
  let router: TestRouter;
  let node: FakeNode;
  const count = async () => {
    const [{ n }] = await router.db
      .selectFrom('request_history')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .execute();
    return Number(n);
  };

  beforeAll(async () => {
    router = await startTestRouter();
    node = await startFakeNode('node-a');
  });
  afterAll(async () => {
    await router.stop();
    await node.close();
  });

  it('sets aside a row the database refuses and writes the rest of its batch', async () => {
    const taken = randomUUID();
    router.recorder.record(row(taken));
    await router.recorder.flush();
    const before = await count();
    // A duplicate primary key: the database refuses exactly this row, every time.
    for (const r of [row(), row(taken), row(), row()]) router.recorder.record(r);
    for (let i = 0; i < 5 && router.recorder.pending + before < before + 4; i++)
      await router.recorder.flush();
    for (let i = 0; i < 5; i++) await router.recorder.flush();
    expect(await count()).toBe(before + 3);
    expect(router.recorder.pending).toBe(0);
  });

  it('records a request whose model contains a NUL byte, and keeps recording afterwards', async () => {
    await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: node.url, models: [{ id: 'm1', ready: true }] }),
      headers: { authorization: `Bearer ${await router.createKey(['node:register'])}` },
    });
    const client = new OpenAI({
      apiKey: await router.createKey(['api:inference']),
      baseURL: `${router.url}/v1`,
    });
    const before = await count();
    const res = await router.call('POST', '/v1/chat/completions', {
      raw: '{"model":"x\\u0000y","messages":[{"role":"user","content":"hi"}]}',
      headers: { authorization: `Bearer ${client.apiKey}` },
    });
    expect(res.status).toBe(404);
    for (let i = 0; i < 3; i++)
      await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
    await router.recorder.flush();
    expect(await count()).toBe(before + 4);
    const rows = await router.db
      .selectFrom('request_history')
      .select('model')
      .where('model', '=', 'xy')
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses NUL characters in management input with a 400', async () => {
    const res = await router.call('POST', '/v0/nodes', {
      raw: JSON.stringify(gpuNodeRegistration({ machine_name: 'bad\u0000name' })),
      headers: { authorization: `Bearer ${await router.createKey(['node:register'])}` },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_text');
  });
});
