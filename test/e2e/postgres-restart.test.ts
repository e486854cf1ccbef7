/**
 * PostgreSQL restarts under load: the router (its own process, on its own throwaway PostgreSQL
 * server) keeps answering inference from memory while the database is away, reconnects when it
 * is back, and every API key it acknowledged (201) before, during or after the restart is in
 * the database afterwards.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot, startRouterProcess, stopAll } from '../support/processes.js';

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

let pgDir = '';
let databaseUrl = '';
const postgres = (script: string) =>
  execFileSync('bash', ['-c', `source scripts/postgres.sh; ${script}`], {
    cwd: repoRoot,
    env: { ...process.env, PG_DIR: pgDir, PG_PORT: databaseUrl ? new URL(databaseUrl).port : '' },
    encoding: 'utf8',
  });

beforeAll(() => {
  // A server of its own (the suite's shared one must not restart under other tests).
  const out = postgres(
    'unset PG_PORT; PG_PORT=$(node -e "const s=require(\'net\').createServer().listen(0,\'127.0.0.1\',()=>{console.log(s.address().port);s.close()})"); pg_up; echo "$LLM_ROUTER_TEST_POSTGRES_URL $PG_DIR"',
  );
  const [url, dir] = out.trim().split('\n').at(-1)?.split(' ') ?? [];
  databaseUrl = url as string;
  pgDir = dir as string;
});
afterAll(async () => {
  await stopAll();
  await new Promise((resolve) => node.close(resolve));
  if (pgDir) postgres('pg_down');
});

it('reconnects after a PostgreSQL restart under load and loses nothing it acknowledged', {
  timeout: 120_000,
}, async () => {
  await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
  const nodeUrl = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
  const router = await startRouterProcess({
    LLM_ROUTER_DATABASE_URL: databaseUrl,
    LLM_ROUTER_NODE_TIMEOUT: '120',
  });
  const nodeKey = await router.createKey('node:register');
  const key = await router.createKey('api:inference');
  const admin = await router.createKey('admin:*');
  const reg = await fetch(`${router.url}/v0/nodes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      machine_name: 'pg-restart',
      ip_address: '127.0.0.1',
      runtime_port: 0,
      base_url: nodeUrl,
      gpu_available: true,
      gpu_devices: [{ model: 'test', count: 1 }],
      models: [{ id: 'm', ready: true }],
    }),
  });
  expect(reg.status).toBe(201);

  let stop = false;
  const chats = { ok: 0, failed: 0 };
  const acknowledged: string[] = [];
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
  const chatLoop = async () => {
    while (!stop) {
      const res = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      await res.text();
      if (res.status === 200) chats.ok++;
      else chats.failed++;
    }
  };
  const keyLoop = async () => {
    for (let i = 0; !stop; i++) {
      const res = await fetch(`${router.url}/v0/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `during-restart-${i}`, scopes: ['api:inference'] }),
      });
      const json = (await res.json()) as { id?: string };
      if (res.status === 201 && json.id) acknowledged.push(json.id);
      else expect(res.status).toBeLessThan(600); // refused while the database is away: fine, not acknowledged
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const loops = [chatLoop(), chatLoop(), chatLoop(), keyLoop()];
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const chatsBeforeRestart = chats.ok;
  postgres(
    'pg_as_owner "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w restart -l "$PG_DIR/run/pg.log" >/dev/null',
  );
  const acknowledgedAtRestart = acknowledged.length;
  // Let the router find the database again, then a while longer under load.
  const deadline = Date.now() + 30_000;
  while (acknowledged.length < acknowledgedAtRestart + 5 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  stop = true;
  await Promise.allSettled(loops);
  // A router that died while the database was away: fail with what it printed.
  expect(router.child.exitCode, router.output().slice(-4000)).toBeNull();
  expect(router.child.signalCode, router.output().slice(-4000)).toBeNull();
  await Promise.all(loops);

  expect(chats.ok).toBeGreaterThan(chatsBeforeRestart);
  expect(acknowledged.length).toBeGreaterThanOrEqual(acknowledgedAtRestart + 5);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const stored = await client.query('select id from api_keys');
  await client.end();
  const ids = new Set(stored.rows.map((row: { id: string }) => row.id));
  expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
  // And the router still serves and still writes.
  const after = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
  expect(after.status).toBe(200);
});
