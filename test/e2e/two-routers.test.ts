/**
 * Two real router processes on one database (the suite's PostgreSQL server when it runs, else
 * one SQLite file) and a real llama.cpp node given both (`LLM_ROUTER_URL=a,b`): the node
 * heartbeats to A, yet B serves requests with it; when A is killed, B keeps serving and the
 * node's heartbeats move to B.
 *
 * Registered models are shared too (the routers share their model cache folder, as replicas
 * share storage): a model registered on A from a local fake Hugging Face hub is listed by B
 * within 2 s, B shows A's download progress (stalled mid-file, then finished), and a second
 * node that knows only B pulls the model through B. Deleting the model, renaming and deleting
 * a node on A take effect on B within 2 s.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeHub } from '../../packages/router/test/models/support/fake-hub.js';
import {
  callJson,
  modelsDir,
  type RouterProcess,
  type RunningProcess,
  sharedModel,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  tempDir,
  waitUntil,
} from '../support/processes.js';
import { type SharedDatabase, sharedDatabase } from '../support/shared-database.js';

let database: SharedDatabase;
let a: RouterProcess;
let b: RouterProcess;
let node: RunningProcess;
let admin: string;
let nodeKey: string;
let inferenceKey: string;
let hub: FakeHub;

const MODEL = 'ggml-org/tiny-llamas';
const STORIES_SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';
/** Where the hub holds the model file mid-download (stories260K is about 1.2 MB). */
const STALL_AT = 262_144;

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON replies field by field.
type Json = any;

async function nodesOn(router: RouterProcess) {
  const res = await fetch(`${router.url}/v0/nodes`, { headers: { authorization: `Bearer ${admin}` } });
  return (await res.json()) as Array<{
    id: string;
    status: string;
    base_url: string;
    custom_name: string | null;
  }>;
}

const call = (router: RouterProcess, method: string, path: string, key = admin, body?: unknown) =>
  callJson(router.url, key, method, path, body);

/** Whether the router lists the model in `/v1/models` (clients) and `/v0/models` (the node feed). */
async function lists(router: RouterProcess, id: string) {
  const v1 = (await call(router, 'GET', '/v1/models', inferenceKey)).body.data.some((m: Json) => m.id === id);
  const v0 = (await call(router, 'GET', '/v0/models', nodeKey)).body.some((m: Json) => m.name === id);
  return { v1, v0 };
}

const detail = async (router: RouterProcess) => (await call(router, 'GET', `/v0/models/${MODEL}`)).body;

async function nodeLists(proc: RunningProcess, id: string) {
  const res = await fetch(`${proc.url}/v1/models`);
  return ((await res.json()) as { data: { id: string; ready: boolean }[] }).data.find((m) => m.id === id);
}

beforeAll(async () => {
  hub = await FakeHub.start();
  hub.addRepo({
    id: MODEL,
    files: [
      { path: 'README.md', content: Buffer.from('# tiny llamas\n') },
      { path: 'stories260K.gguf', content: readFileSync(sharedModel) },
    ],
  });
  database = await sharedDatabase('two_routers');
  const env = {
    LLM_ROUTER_DATABASE_URL: database.url,
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    LLM_ROUTER_NODE_TIMEOUT: '4',
    LLM_ROUTER_HEALTH_CHECK_INTERVAL: '0.5',
    HF_BASE_URL: hub.url,
    // Replicas share their model cache the way they share the database.
    LLM_ROUTER_MODELS_DIR: tempDir('shared-models'),
    LLM_ROUTER_MODEL_RETRY_BACKOFF_MS: '200',
  };
  a = await startRouterProcess(env);
  b = await startRouterProcess(env);
  admin = await a.createKey('admin:*');
  nodeKey = await a.createKey('node:register');
  inferenceKey = await a.createKey('api:inference');
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
  await hub?.close();
  await database?.drop();
});

it('shares a model registered on A with B: listed, cache state followed, pulled by a node of B', {
  timeout: 120_000,
}, async () => {
  // A second node, with an empty models folder, that knows only B and downloads what B offers.
  const dirOfB = tempDir('models-of-b');
  const nodeOfB = await startNodeProcess({
    routerUrl: b.url,
    apiKey: nodeKey,
    models: dirOfB,
    env: { LLM_NODE_MODEL_RESCAN_SECS: '1', LLM_DL_SHARED_PATH: 'false' },
  });
  await waitUntil(
    async () => (await nodesOn(a)).some((n) => n.base_url === nodeOfB.url && n.status === 'online'),
    60_000,
    "B's node online on A",
  );

  hub.stall('stories260K.gguf', STALL_AT);
  const registered = await call(a, 'POST', '/v0/models/register', admin, {
    repo: MODEL,
    gguf_policy: 'quality',
  });
  expect(registered.status).toBe(201);
  await waitUntil(
    async () => {
      const { v1, v0 } = await lists(b, MODEL);
      return v1 && v0;
    },
    2000,
    'B to list the model registered on A',
  );
  // Mid-download B shows what A has: caching, the same bytes.
  await waitUntil(
    async () => (await detail(b)).download_progress.bytes_downloaded === STALL_AT,
    5000,
    "B to show A's download progress",
  );
  const [onA, onB] = [await detail(a), await detail(b)];
  expect(onB.lifecycle_status).toBe('caching');
  expect(onB.lifecycle_status).toBe(onA.lifecycle_status);
  expect(onB.download_progress).toEqual(onA.download_progress);
  expect((await lists(b, MODEL)).v1).toBe(true);
  expect(
    (await call(b, 'GET', '/v1/models', inferenceKey)).body.data.find((m: Json) => m.id === MODEL).ready,
  ).toBe(false);

  hub.unstall('stories260K.gguf'); // A's download resumes with a Range request and finishes
  await waitUntil(
    async () => (await detail(b)).lifecycle_status === 'registered',
    30_000,
    'B to show the model cached',
  );
  expect((await detail(b)).download_progress).toEqual((await detail(a)).download_progress);
  expect((await detail(b)).download_progress.percent).toBe(1);

  // The node that knows only B learns of the model from B's heartbeat and pulls it from B.
  await waitUntil(
    async () => (await nodeLists(nodeOfB, MODEL))?.ready === true,
    60_000,
    "B's node to serve it",
  );
  const pulled = join(dirOfB, 'ggml-org', 'tiny-llamas', 'model.gguf');
  expect(existsSync(pulled)).toBe(true);
  expect(createHash('sha256').update(readFileSync(pulled)).digest('hex')).toBe(STORIES_SHA256);
  // A learns the node's new model from B's record of its heartbeats (within a sync, ~1 s).
  await waitUntil(
    async () => {
      const seen = (await call(a, 'GET', '/v0/nodes')).body.find((n: Json) => n.base_url === nodeOfB.url);
      return seen?.loaded_models.includes(MODEL) === true;
    },
    5000,
    "A to see the model on B's node",
  );
  const viaA = new OpenAI({ apiKey: inferenceKey, baseURL: `${a.url}/v1`, maxRetries: 0 });
  const answer = await viaA.chat.completions.create({
    model: MODEL,
    max_tokens: 8,
    messages: [{ role: 'user', content: 'Once upon a time' }],
  });
  expect(answer.choices[0]?.message.content).toBeTypeOf('string');

  // Deleted on A: gone from B's lists within 2 s, and from the node of B.
  expect((await call(a, 'DELETE', `/v0/models/${MODEL}`)).status).toBe(204);
  await waitUntil(
    async () => {
      const { v1, v0 } = await lists(b, MODEL);
      return !v1 && !v0;
    },
    2000,
    'B to drop the model deleted on A',
  );
  expect((await call(b, 'GET', `/v0/models/${MODEL}`)).status).toBe(404);
  await waitUntil(async () => (await nodeLists(nodeOfB, MODEL)) === undefined, 60_000, "B's node to drop it");

  // A node renamed on A is renamed on B; a node deleted on A (after its machine was stopped)
  // is gone from B, although it heartbeated to B.
  const id = (await nodesOn(b)).find((n) => n.base_url === nodeOfB.url)?.id as string;
  const renamed = await call(a, 'PUT', `/v0/nodes/${id}/settings`, admin, { custom_name: 'renamed on A' });
  expect(renamed.status).toBe(200);
  await waitUntil(
    async () => (await nodesOn(b)).find((n) => n.id === id)?.custom_name === 'renamed on A',
    2000,
    'B to show the name given on A',
  );
  await nodeOfB.stop();
  expect((await call(a, 'DELETE', `/v0/nodes/${id}`)).status).toBe(204);
  await waitUntil(
    async () => !(await nodesOn(b)).some((n) => n.id === id),
    2000,
    'B to forget the node deleted on A',
  );
});

it('serves through B with a node that heartbeats to A, and keeps serving when A dies', {
  timeout: 120_000,
}, async () => {
  const viaB = new OpenAI({ apiKey: inferenceKey, baseURL: `${b.url}/v1`, maxRetries: 0 });
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
