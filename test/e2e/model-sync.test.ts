/**
 * Node-driven model distribution end to end: a real router registers `ggml-org/tiny-llamas`
 * from a local fake Hugging Face hub and caches it; two real nodes that are already running
 * with EMPTY models dirs pick it up without a restart. Node A downloads it (shared paths off),
 * node B serves the router's copy in place (same machine = shared storage, no copy). A chat
 * on it through the router works. Deleting the model on the router makes both nodes stop
 * listing it and removes A's synced files, while a hand-placed `.gguf` in A's dir stays served.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from '../../packages/router/test/models/support/fake-hub.js';
import {
  callJson,
  type RouterProcess,
  type RunningProcess,
  sharedModel,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  tempDir,
  waitUntil,
} from '../support/processes.js';

const MODEL = 'ggml-org/tiny-llamas';
const STORIES_SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON replies field by field.
type Json = any;

let hub: FakeHub;
let router: RouterProcess;
let nodeA: RunningProcess;
let nodeB: RunningProcess;
let dirA: string;
let dirB: string;
let adminKey: string;
let client: OpenAI;
/** Every `model_downloads` entry the router showed for node A while the test polled. */
const seenDownloads: Json[] = [];
let polling = true;
let poller: Promise<void> = Promise.resolve();

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const admin = (method: string, path: string, body?: unknown) =>
  callJson(router.url, adminKey, method, path, body);

async function nodeModels(node: RunningProcess): Promise<{ id: string; ready: boolean }[]> {
  const res = await fetch(`${node.url}/v1/models`);
  return ((await res.json()) as { data: { id: string; ready: boolean }[] }).data;
}

const hasReady = async (node: RunningProcess, id: string) =>
  (await nodeModels(node)).some((m) => m.id === id && m.ready);

/** Polls `/v0/nodes` in the background, keeping what it says about node A's downloads. */
async function pollDownloads(): Promise<void> {
  while (polling) {
    const nodes = await admin('GET', '/v0/nodes').catch(() => null);
    for (const node of nodes?.body ?? []) {
      if (node.base_url === nodeA.url) seenDownloads.push(...(node.model_downloads ?? []));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function chat(model: string): Promise<string> {
  const res = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Tell me a story.' }],
    max_tokens: 12,
    temperature: 0,
  });
  return res.choices[0].message.content ?? '';
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
  router = await startRouterProcess({ LLM_ROUTER_ALLOW_NO_GPU: 'true', HF_BASE_URL: hub.url });
  adminKey = await router.createKey('admin:*');
  const nodeKey = await router.createKey('node:register');
  client = new OpenAI({
    apiKey: await router.createKey('api:inference'),
    baseURL: `${router.url}/v1`,
    maxRetries: 0,
  });
  dirA = tempDir('models-a');
  dirB = tempDir('models-b');
  const common = { LLM_NODE_MODEL_RESCAN_SECS: '1' };
  [nodeA, nodeB] = await Promise.all([
    startNodeProcess({
      routerUrl: router.url,
      apiKey: nodeKey,
      models: dirA,
      env: { ...common, LLM_DL_SHARED_PATH: 'false' },
    }),
    startNodeProcess({ routerUrl: router.url, apiKey: nodeKey, models: dirB, env: common }),
  ]);
  await waitUntil(
    async () => {
      const nodes = (await admin('GET', '/v0/nodes')).body as Json[];
      return nodes.filter((n) => n.status === 'online').length === 2;
    },
    60_000,
    'both nodes online',
  );
  poller = pollDownloads();
});

afterAll(async () => {
  polling = false;
  await poller;
  await stopAll();
  await hub?.close();
});

describe('model sync from the router to running nodes', () => {
  it('registers the model on the router and caches it from the hub', async () => {
    const registered = await admin('POST', '/v0/models/register', { repo: MODEL, gguf_policy: 'quality' });
    expect(registered.status).toBe(201);
    expect(registered.body.name).toBe(MODEL);
    await waitUntil(
      async () => (await admin('GET', `/v0/models/${MODEL}`)).body.lifecycle_status === 'registered',
      60_000,
      'the router to cache the model',
    );
  });

  it('node A downloads it into org/name, byte-identical, without a restart', async () => {
    const file = join(dirA, 'ggml-org', 'tiny-llamas', 'model.gguf');
    await waitUntil(() => existsSync(file), 60_000, 'node A to download the model');
    expect(sha256(file)).toBe(STORIES_SHA256);
    expect(readdirSync(join(dirA, 'ggml-org', 'tiny-llamas')).some((f) => f.endsWith('.part'))).toBe(false);
    await waitUntil(() => hasReady(nodeA, MODEL), 60_000, 'node A to serve the model');
    // The id keeps its slash on the node too, nested or encoded.
    for (const path of [MODEL, encodeURIComponent(MODEL)]) {
      const res = await fetch(`${nodeA.url}/v1/models/${path}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { id: string }).id).toBe(MODEL);
    }
  });

  it('node B serves the router copy in place: nothing is copied into its models dir', async () => {
    await waitUntil(() => hasReady(nodeB, MODEL), 60_000, 'node B to serve the model');
    expect(readdirSync(dirB)).toEqual([]);
  });

  it('answers a chat completion on the synced model through the router', async () => {
    await waitUntil(
      async () => {
        const models = await client.models.list();
        return models.data.some((m) => m.id === MODEL && (m as unknown as { ready: boolean }).ready);
      },
      60_000,
      'the router to route the model',
    );
    expect((await chat(MODEL)).length).toBeGreaterThan(0);
  });

  it('showed the download for node A in /v0/nodes, ending in done', async () => {
    await waitUntil(
      () => seenDownloads.some((d) => d.model === MODEL && d.state === 'done'),
      30_000,
      'a done download in /v0/nodes',
    );
    const done = seenDownloads.find((d) => d.model === MODEL && d.state === 'done');
    expect(done.bytes_total).toBe(readFileSync(sharedModel).length);
    expect(done.bytes_downloaded).toBe(done.bytes_total);
    expect(seenDownloads.every((d) => d.model === MODEL && d.state !== 'error')).toBe(true);
  });

  it('drops the model everywhere when the router deletes it; a hand-placed file stays served', async () => {
    copyFileSync(sharedModel, join(dirA, 'hand-placed.gguf'));
    await waitUntil(() => hasReady(nodeA, 'hand-placed'), 60_000, 'node A to pick up the hand-placed model');

    expect((await admin('DELETE', `/v0/models/${MODEL}`)).status).toBe(204);
    await waitUntil(
      async () =>
        !(await nodeModels(nodeA)).some((m) => m.id === MODEL) &&
        !(await nodeModels(nodeB)).some((m) => m.id === MODEL),
      60_000,
      'both nodes to stop listing the model',
    );
    await waitUntil(() => !existsSync(join(dirA, 'ggml-org')), 30_000, 'the synced files to go');
    expect(readdirSync(dirA)).toEqual(['hand-placed.gguf']);
    expect(sha256(join(dirA, 'hand-placed.gguf'))).toBe(STORIES_SHA256);
    expect(await hasReady(nodeA, 'hand-placed')).toBe(true);
    await waitUntil(
      async () => (await client.models.list()).data.some((m) => m.id === 'hand-placed'),
      30_000,
      'the router to list the hand-placed model',
    );
    expect((await chat('hand-placed')).length).toBeGreaterThan(0);
  });
});
