/**
 * SIGKILL the router in the middle of a load, then restart it on the same data: the SQLite
 * file passes `PRAGMA integrity_check`, and users, keys, limits, nodes and the request history
 * written before the kill are all still there; the restarted router serves at once.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { startRouterProcess, stopAll } from '../support/processes.js';

const REPLY = JSON.stringify({
  id: 'c',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
});
const node = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.setHeader('content-type', 'application/json').end(REPLY));
});

afterAll(async () => {
  await stopAll();
  await new Promise((resolve) => node.close(resolve));
});

it('keeps the database whole and its data intact across a SIGKILL under load', {
  timeout: 120_000,
}, async () => {
  await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
  const nodeUrl = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
  const router = await startRouterProcess({ LLM_ROUTER_NODE_TIMEOUT: '60' });
  const nodeKey = await router.createKey('node:register');
  const key = await router.createKey('api:inference');
  const admin = await router.createKey('admin:*');
  const reg = await fetch(`${router.url}/v0/nodes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      machine_name: 'kill-test',
      ip_address: '127.0.0.1',
      runtime_port: 0,
      base_url: nodeUrl,
      gpu_available: true,
      gpu_devices: [{ model: 'test', count: 1 }],
      models: [{ id: 'm', ready: true }],
    }),
  });
  expect(reg.status).toBe(201);
  const { node_id: nodeId } = (await reg.json()) as { node_id: string };
  const limitedRes = await fetch(`${router.url}/v0/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'limited', scopes: ['api:inference'], limits: { tokens_per_day: 100000 } }),
  });
  const limited = (await limitedRes.json()) as { id: string; key: string };

  // Load from 16 clients; the router is killed while they run.
  let stop = false;
  let ok = 0;
  const body = JSON.stringify({ model: 'm', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] });
  const client = async (auth: string) => {
    while (!stop) {
      const res = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body,
      }).catch(() => null);
      if (!res) return;
      await res.text().catch(() => '');
      if (res.status === 200) ok++;
    }
  };
  const clients = Array.from({ length: 16 }, (_, i) => client(i % 2 ? key : limited.key));
  const dbPath = join(router.dataDir, 'router.db');
  const historyRows = () => {
    const db = new SQLite(dbPath, { readonly: true, fileMustExist: true });
    try {
      return Number((db.prepare('select count(*) as n from request_history').get() as { n: number }).n);
    } finally {
      db.close();
    }
  };
  while (ok < 200) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 600)); // history batches land every 250 ms
  const historyBeforeKill = historyRows();
  expect(historyBeforeKill).toBeGreaterThan(0);
  await router.stop('SIGKILL');
  stop = true;
  await Promise.all(clients);

  const db = new SQLite(dbPath);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(Number((db.prepare('select count(*) as n from users').get() as { n: number }).n)).toBe(1);
  expect(Number((db.prepare('select count(*) as n from api_keys').get() as { n: number }).n)).toBe(4);
  expect(db.prepare('select id from nodes').all()).toEqual([{ id: nodeId }]);
  expect(historyRows()).toBeGreaterThanOrEqual(historyBeforeKill);
  db.close();

  const again = await startRouterProcess(
    { LLM_ROUTER_NODE_TIMEOUT: '60' },
    { dataDir: router.dataDir, port: router.port },
  );
  const listed = await fetch(`${again.url}/v0/api-keys`, { headers: { authorization: `Bearer ${admin}` } });
  const keys = ((await listed.json()) as { api_keys: Array<{ id: string; limits: unknown }> }).api_keys;
  expect(keys.find((k) => k.id === limited.id)?.limits).toEqual({ tokens_per_day: 100000 });
  const login = await fetch(`${again.url}/v0/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'e2e-admin-password' }),
  });
  expect(login.status).toBe(200);
  // The node comes back with its next registration; the stored row keeps its identity.
  const nodes = await fetch(`${again.url}/v0/nodes`, { headers: { authorization: `Bearer ${admin}` } });
  expect(((await nodes.json()) as Array<{ id: string }>).map((n) => n.id)).toEqual([nodeId]);
});
