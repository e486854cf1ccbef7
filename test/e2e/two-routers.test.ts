/**
 * Two real router processes on one database (the suite's PostgreSQL server when it runs, else
 * one SQLite file) and a real llama.cpp node given both (`LLM_ROUTER_URL=a,b`): the node
 * heartbeats to A, yet B serves requests with it; when A is killed, B keeps serving and the
 * node's heartbeats move to B.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  modelsDir,
  type RouterProcess,
  type RunningProcess,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  tempDir,
  waitUntil,
} from '../support/processes.js';

const server = process.env.LLM_ROUTER_TEST_POSTGRES_URL;
const dbName = `two_routers_${randomUUID().replace(/-/g, '')}`;
let databaseUrl: string;
let a: RouterProcess;
let b: RouterProcess;
let node: RunningProcess;
let admin: string;

async function nodesOn(router: RouterProcess) {
  const res = await fetch(`${router.url}/v0/nodes`, { headers: { authorization: `Bearer ${admin}` } });
  return (await res.json()) as Array<{ id: string; status: string }>;
}

beforeAll(async () => {
  if (server) {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    await client.query(`CREATE DATABASE ${dbName}`);
    await client.end();
    databaseUrl = server.replace(/\/[^/]*$/, `/${dbName}`);
  } else {
    databaseUrl = `sqlite:${join(tempDir('shared-db'), 'router.db')}`;
  }
  const env = {
    LLM_ROUTER_DATABASE_URL: databaseUrl,
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    LLM_ROUTER_NODE_TIMEOUT: '4',
    LLM_ROUTER_HEALTH_CHECK_INTERVAL: '0.5',
  };
  a = await startRouterProcess(env);
  b = await startRouterProcess(env);
  admin = await a.createKey('admin:*');
  const nodeKey = await a.createKey('node:register');
  node = await startNodeProcess({
    routerUrl: `${a.url},${b.url}`,
    apiKey: nodeKey,
    models: modelsDir(['stories260K']),
  });
  await waitUntil(
    async () => (await nodesOn(a)).some((n) => n.status === 'online'),
    60_000,
    'node online on A',
  );
});

afterAll(async () => {
  await stopAll();
  if (server) {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await client.end();
  }
});

it('serves through B with a node that heartbeats to A, and keeps serving when A dies', {
  timeout: 120_000,
}, async () => {
  const key = await a.createKey('api:inference');
  const viaB = new OpenAI({ apiKey: key, baseURL: `${b.url}/v1`, maxRetries: 0 });
  const ask = () =>
    viaB.chat.completions.create({
      model: 'stories260K',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'Once upon a time' }],
    });
  await waitUntil(
    async () => (await nodesOn(b)).some((n) => n.status === 'online'),
    10_000,
    'node online on B',
  );
  const first = await ask();
  expect(first.choices[0]?.message.content).toBeTypeOf('string');

  await a.stop('SIGKILL');
  // Past the node timeout B still has the node online: its heartbeats now come to B.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  expect((await nodesOn(b)).map((n) => n.status)).toEqual(['online']);
  expect(node.child.exitCode).toBeNull(); // the node rode out the loss of its router
  const after = await ask();
  expect(after.choices[0]?.message.content).toBeTypeOf('string');
});
