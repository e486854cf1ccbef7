/**
 * Router replicas share the model cache folder; a model's download runs on one replica only,
 * the one holding its task lease in the database (the suite's PostgreSQL server when it runs,
 * else one SQLite file). Real router processes, a fake Hugging Face hub that stalls mid-file:
 * - a replica started while another one downloads leaves the file alone (no second writer on
 *   the `.part` file): the model ends `registered` with the hub's checksum;
 * - a replica SIGKILLed mid-download: another replica takes the download over within about a
 *   lease period (no restart), resumes it with a Range request, finishes it, and a node pulls
 *   the model from it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeHub } from '../../packages/router/test/models/support/fake-hub.js';
import {
  callJson,
  type RouterProcess,
  sharedModel,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  tempDir,
  waitUntil,
} from '../support/processes.js';
import { type SharedDatabase, sharedDatabase } from '../support/shared-database.js';

const STORIES_SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';
/** Where the hub holds the model file mid-download (stories260K is about 1.2 MB). */
const STALL_AT = 262_144;
/** The task lease, shortened from 30 s so a takeover fits a test. */
const LEASE_S = 2;

let env: Record<string, string>;
let database: SharedDatabase;
let a: RouterProcess;
let b: RouterProcess;
let admin: string;
let nodeKey: string;
let hub: FakeHub;

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON replies field by field.
type Json = any;

const detail = async (router: RouterProcess, id: string): Promise<Json> =>
  (await callJson(router.url, admin, 'GET', `/v0/models/${id}`)).body;

/** The hub's answers with the file's bytes (after the `resolve` redirect) for one model. */
const bytesRequests = (id: string) =>
  hub.fileRequests('stories260K.gguf').filter((r) => r.path.startsWith(`/cdn/${id}/`));

/** What a node downloads: the model file as the router serves it, hashed. */
async function servedSha256(router: RouterProcess, id: string): Promise<string> {
  const res = await fetch(`${router.url}/v0/models/blob/${id}`, {
    headers: { authorization: `Bearer ${nodeKey}` },
  });
  expect(res.status).toBe(200);
  return createHash('sha256')
    .update(Buffer.from(await res.arrayBuffer()))
    .digest('hex');
}

beforeAll(async () => {
  hub = await FakeHub.start();
  for (const id of ['lease-org/started-meanwhile', 'lease-org/taken-over']) {
    hub.addRepo({ id, files: [{ path: 'stories260K.gguf', content: readFileSync(sharedModel) }] });
  }
  database = await sharedDatabase('download_lease');
  env = {
    LLM_ROUTER_DATABASE_URL: database.url,
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    HF_BASE_URL: hub.url,
    LLM_ROUTER_MODELS_DIR: tempDir('shared-models'),
    LLM_ROUTER_MODEL_RETRY_BACKOFF_MS: '200',
    LLM_ROUTER_MODEL_TASK_LEASE: String(LEASE_S),
  };
  a = await startRouterProcess(env);
  b = await startRouterProcess(env);
  admin = await a.createKey('admin:*');
  nodeKey = await a.createKey('node:register');
});

afterAll(async () => {
  await stopAll();
  await hub?.close();
  await database?.drop();
});

it('leaves a download running on A alone when another replica starts meanwhile', {
  timeout: 90_000,
}, async () => {
  const id = 'lease-org/started-meanwhile';
  hub.stall('stories260K.gguf', STALL_AT);
  const registered = await callJson(a.url, admin, 'POST', '/v0/models/register', {
    repo: id,
    gguf_policy: 'quality',
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  await waitUntil(
    async () => (await detail(a, id)).download_progress.bytes_downloaded === STALL_AT,
    10_000,
    'A to stall mid-file',
  );
  const fileRequests = () => bytesRequests(id);
  expect(fileRequests(), JSON.stringify(fileRequests())).toHaveLength(1);

  // A third replica starts (its start-up resumes unfinished downloads) while A still downloads.
  const c = await startRouterProcess(env);
  await new Promise((resolve) => setTimeout(resolve, 2.5 * LEASE_S * 1000));
  // A renews its lease: neither the new replica nor B ever asked the hub for the file.
  expect(fileRequests()).toHaveLength(1);
  expect((await detail(c, id)).lifecycle_status).toBe('caching');

  hub.unstall('stories260K.gguf'); // A's connection drops; A resumes with Range and finishes
  await waitUntil(
    async () => (await detail(c, id)).lifecycle_status !== 'caching',
    30_000,
    'the download to end',
  );
  const done = await detail(c, id);
  expect(done.lifecycle_status).toBe('registered');
  expect(done.download_progress.percent).toBe(1);
  expect(fileRequests().map((r) => r.range)).toEqual([undefined, `bytes=${STALL_AT}-`]);
  expect(await servedSha256(c, id)).toBe(STORIES_SHA256);
  await c.stop();
});

it("takes over a SIGKILLed replica's download within about a lease period, and a node pulls the model", {
  timeout: 120_000,
}, async () => {
  const id = 'lease-org/taken-over';
  hub.stall('stories260K.gguf', STALL_AT);
  const registered = await callJson(a.url, admin, 'POST', '/v0/models/register', {
    repo: id,
    gguf_policy: 'quality',
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  await waitUntil(
    async () => (await detail(b, id)).download_progress?.bytes_downloaded === STALL_AT,
    10_000,
    "B to show A's download stalled mid-file",
  );

  await a.stop('SIGKILL');
  const killedAt = Date.now();
  // B resumes the part file from where A left it (the hub then holds it again, 256 KiB on).
  await waitUntil(
    async () => (await detail(b, id)).download_progress.bytes_downloaded === 2 * STALL_AT,
    4 * LEASE_S * 1000,
    "B to take A's download over",
  );
  const tookMs = Date.now() - killedAt;
  // The lease expires LEASE_S after A's last renewal; B looks every LEASE_S / 2.
  expect(tookMs).toBeLessThan(2 * LEASE_S * 1000 + 1000);
  const ranges = bytesRequests(id).map((r) => r.range);
  expect(ranges).toEqual([undefined, `bytes=${STALL_AT}-`]);

  hub.unstall('stories260K.gguf');
  await waitUntil(
    async () => (await detail(b, id)).lifecycle_status !== 'caching',
    30_000,
    'B to finish the download',
  );
  expect((await detail(b, id)).lifecycle_status).toBe('registered');
  expect(await servedSha256(b, id)).toBe(STORIES_SHA256);

  // A node that knows only B learns of the model and pulls it through B.
  const dir = tempDir('models-of-node');
  const node = await startNodeProcess({
    routerUrl: b.url,
    apiKey: nodeKey,
    models: dir,
    env: { LLM_NODE_MODEL_RESCAN_SECS: '1', LLM_DL_SHARED_PATH: 'false' },
  });
  await waitUntil(
    async () => {
      const res = await fetch(`${node.url}/v1/models`);
      const data = ((await res.json()) as { data: { id: string; ready: boolean }[] }).data;
      return data.find((m) => m.id === id)?.ready === true;
    },
    60_000,
    'the node to serve the model',
  );
  const pulled = join(dir, 'lease-org', 'taken-over', 'model.gguf');
  expect(existsSync(pulled)).toBe(true);
  expect(createHash('sha256').update(readFileSync(pulled)).digest('hex')).toBe(STORIES_SHA256);
});
