/**
 * The router cache under failure: a restart mid-download resumes with Range, dropped
 * connections and 5xx are retried, corrupt or non-GGUF files end in `error` and are never
 * served, deletes cancel and clean up, concurrency is honoured, gated repos need the token.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeHub, sha256, storiesBytes } from './support/fake-hub.js';
import {
  fakeGguf,
  isSettled,
  type ModelTestEnv,
  STORIES_REPO,
  startModelEnv,
  storiesRepo,
  until,
  waitForModel,
} from './support/setup.js';

const STORIES = 'ggml-org/tiny-llamas';
const STALL_AT = 400_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
});

async function setUp(env: Record<string, string> = {}): Promise<ModelTestEnv> {
  const hub = await FakeHub.start();
  cleanups.push(() => hub.close());
  const modelEnv = await startModelEnv(env, hub);
  cleanups.push(() => modelEnv.router.stop());
  return modelEnv;
}

const register = (env: ModelTestEnv, body: unknown) => env.call('POST', '/v0/models/register', body);
const modelDir = (env: ModelTestEnv, id: string) => join(env.router.dataDir, 'models', ...id.split('/'));
const cdnRequests = (hub: FakeHub, file: string) =>
  hub.fileRequests(file).filter((r) => r.path.startsWith('/cdn/'));

describe('router cache', () => {
  it('resumes a download after a restart with a Range request and ends byte-identical', async () => {
    const hub = await FakeHub.start();
    cleanups.push(() => hub.close());
    hub.addRepo(storiesRepo());
    hub.stall('stories260K.gguf', STALL_AT);
    const first = await startModelEnv({}, hub);
    expect((await register(first, { repo: STORIES_REPO, filename: 'stories260K.gguf' })).status).toBe(201);

    const mid = await waitForModel(first, STORIES, (m) => m.download_progress.bytes_downloaded >= STALL_AT);
    expect(mid.lifecycle_status).toBe('caching');
    expect(mid.download_progress).toMatchObject({
      bytes_downloaded: STALL_AT,
      bytes_total: 1_185_376,
      error: null,
    });
    expect(mid.download_progress.percent).toBeCloseTo(STALL_AT / 1_185_376, 3);
    // Progress reaches the database too, not only memory.
    await until(async () => {
      const row = await first.router.db
        .selectFrom('model_files')
        .select('bytes_downloaded')
        .executeTakeFirst();
      return Number(row?.bytes_downloaded) === STALL_AT;
    }, 'persisted progress');

    const { dataDir, databaseUrl } = first.router;
    await first.router.close();
    const part = join(dataDir, 'models', 'ggml-org', 'tiny-llamas', '.model.gguf.part');
    const partSize = statSync(part).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThanOrEqual(STALL_AT);
    expect(existsSync(join(dataDir, 'models', 'ggml-org', 'tiny-llamas', 'model.gguf'))).toBe(false);

    hub.unstall('stories260K.gguf');
    const before = cdnRequests(hub, 'stories260K.gguf').length;
    const second = await startModelEnv({}, hub, { reuse: { dataDir, databaseUrl } });
    cleanups.push(() => second.router.stop());
    const done = await waitForModel(second, STORIES, isSettled);
    expect(done.lifecycle_status).toBe('registered');
    const resumed = cdnRequests(hub, 'stories260K.gguf').slice(before);
    expect(resumed[0].range).toBe(`bytes=${partSize}-`);
    expect(resumed[0].ifRange).toBe(`"${sha256(storiesBytes())}"`);
    expect(
      readFileSync(join(dataDir, 'models', 'ggml-org', 'tiny-llamas', 'model.gguf')).equals(storiesBytes()),
    ).toBe(true);
    expect(existsSync(part)).toBe(false);
    expect(done.download_progress).toEqual({
      percent: 1,
      bytes_downloaded: 1_185_376,
      bytes_total: 1_185_376,
      error: null,
    });
  });

  it('retries a dropped connection and 5xx answers with backoff, resuming where it stopped', async () => {
    const env = await setUp();
    env.hub.addRepo(storiesRepo());
    env.hub.stall('stories260K.gguf', STALL_AT);
    await register(env, { repo: STORIES_REPO, filename: 'stories260K.gguf' });
    await waitForModel(env, STORIES, (m) => m.download_progress.bytes_downloaded >= STALL_AT);
    env.hub.failNext('stories260K.gguf', 503, 502);
    env.hub.unstall('stories260K.gguf'); // cuts the held connection
    const done = await waitForModel(env, STORIES, isSettled);
    expect(done.lifecycle_status).toBe('registered');
    expect(done.tasks[0].attempts).toBeGreaterThanOrEqual(4);
    const ranged = env.hub.fileRequests('stories260K.gguf').filter((r) => r.range);
    expect(ranged.length).toBeGreaterThanOrEqual(3);
    expect(ranged.every((r) => Number(/bytes=(\d+)-/.exec(r.range as string)?.[1]) > 0)).toBe(true);
    expect(readFileSync(join(modelDir(env, STORIES), 'model.gguf')).equals(storiesBytes())).toBe(true);
  });

  it('gives up after the configured retries with the hub error', async () => {
    const env = await setUp({ LLM_ROUTER_MODEL_DOWNLOAD_RETRIES: '2' });
    env.hub.addRepo({ id: 'synth/flaky', files: [{ path: 'f-Q4_0.gguf', content: fakeGguf('flaky') }] });
    env.hub.failNext('f-Q4_0.gguf', 503, 503, 503);
    await register(env, { repo: 'synth/flaky', gguf_policy: 'memory' });
    const model = await waitForModel(env, 'synth/flaky', isSettled);
    expect(model.lifecycle_status).toBe('error');
    expect(model.download_progress.error).toContain('HTTP 503');
    expect(model.tasks[0]).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('ends a corrupted file in error, never retries it and never serves it', async () => {
    const env = await setUp();
    const good = fakeGguf('good', 256);
    env.hub.addRepo({
      id: 'synth/corrupt',
      files: [{ path: 'c-Q4_0.gguf', content: good, served: fakeGguf('evil', 256) }],
    });
    await register(env, { repo: 'synth/corrupt', gguf_policy: 'memory' });
    const model = await waitForModel(env, 'synth/corrupt', isSettled);
    expect(model.lifecycle_status).toBe('error');
    expect(model.error).toContain(`does not match the hub's ${sha256(good)}`);
    expect(model.download_progress.error).toBe(model.error);
    expect(model.ready).toBe(false);
    expect(cdnRequests(env.hub, 'c-Q4_0.gguf')).toHaveLength(1);
    expect(readdirSync(modelDir(env, 'synth/corrupt'))).toEqual([]);
    for (const path of [
      '/v0/models/registry/synth/corrupt/manifest.json',
      '/v0/models/registry/synth/corrupt/files/model.gguf',
      '/v0/models/blob/synth/corrupt',
    ]) {
      const res = await env.call('GET', path, undefined, env.node);
      expect({ path, status: res.status, code: res.body.error.code }).toEqual({
        path,
        status: 409,
        code: 'model_not_ready',
      });
    }
  });

  it('rejects a file whose hash matches but which is not a GGUF', async () => {
    const env = await setUp();
    env.hub.addRepo({
      id: 'synth/html',
      files: [{ path: 'h-Q4_0.gguf', content: Buffer.from('<html>not a model at all</html>') }],
    });
    await register(env, { repo: 'synth/html', gguf_policy: 'memory' });
    const model = await waitForModel(env, 'synth/html', isSettled);
    expect(model.lifecycle_status).toBe('error');
    expect(model.error).toContain('not a valid GGUF');
    expect(readdirSync(modelDir(env, 'synth/html'))).toEqual([]);
  });

  it('fails a download the hub no longer has without retrying', async () => {
    const env = await setUp();
    env.hub.addRepo({ id: 'synth/vanished', files: [{ path: 'v-Q4_0.gguf', content: fakeGguf('v') }] });
    env.hub.failNext('v-Q4_0.gguf', 404);
    await register(env, { repo: 'synth/vanished', gguf_policy: 'memory' });
    const model = await waitForModel(env, 'synth/vanished', isSettled);
    expect(model.lifecycle_status).toBe('error');
    expect(model.tasks[0].attempts).toBe(1);
  });

  it('downloads gated repos with HF_TOKEN, and explains a token without access', async () => {
    const withToken = await setUp({ HF_TOKEN: 'hf_test_token' });
    withToken.hub.addRepo({
      id: 'synth/gated',
      gated: true,
      files: [{ path: 'g-Q4_0.gguf', content: fakeGguf('gated') }],
    });
    expect((await register(withToken, { repo: 'synth/gated', gguf_policy: 'memory' })).status).toBe(201);
    expect((await waitForModel(withToken, 'synth/gated', isSettled)).lifecycle_status).toBe('registered');
    expect(withToken.hub.requests.every((r) => r.authorization === 'Bearer hf_test_token')).toBe(true);

    const wrongToken = await setUp({ HF_TOKEN: 'hf_wrong' });
    wrongToken.hub.addRepo({
      id: 'synth/gated',
      gated: true,
      files: [{ path: 'g-Q4_0.gguf', content: fakeGguf('gated') }],
    });
    await register(wrongToken, { repo: 'synth/gated', gguf_policy: 'memory' });
    const denied = await waitForModel(wrongToken, 'synth/gated', isSettled);
    expect(denied.lifecycle_status).toBe('error');
    expect(denied.error).toContain('denied access');
  });

  it('deletes a model mid-download: cancels the task, removes its files, 404 afterwards', async () => {
    const env = await setUp();
    env.hub.addRepo(storiesRepo());
    env.hub.stall('stories260K.gguf', STALL_AT);
    await register(env, { repo: STORIES_REPO, filename: 'stories260K.gguf' });
    await waitForModel(env, STORIES, (m) => m.download_progress.bytes_downloaded >= STALL_AT);
    const versionBefore = env.router.models.modelsVersion();

    expect((await env.call('DELETE', '/v0/models/ggml-org/tiny-llamas')).status).toBe(204);
    expect(env.router.models.modelsVersion()).toBeGreaterThan(versionBefore);
    expect(existsSync(modelDir(env, STORIES))).toBe(false);
    expect(existsSync(join(env.router.dataDir, 'models', 'ggml-org'))).toBe(false);
    expect((await env.call('GET', '/v0/models/ggml-org/tiny-llamas', undefined, env.node)).status).toBe(404);
    expect((await env.call('GET', '/v0/models', undefined, env.node)).body).toEqual([]);
    expect(env.router.models.listForApi()).toEqual([]);
    const rows = await env.router.db.selectFrom('model_tasks').selectAll().execute();
    expect(rows).toEqual([]);
    const again = await env.call('DELETE', '/v0/models/ggml-org%2Ftiny-llamas');
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('model_not_found');

    // A fresh registration starts from zero, not from the cancelled download's leftovers.
    env.hub.unstall('stories260K.gguf');
    const before = cdnRequests(env.hub, 'stories260K.gguf').length;
    await register(env, { repo: STORIES_REPO, filename: 'stories260K.gguf' });
    expect((await waitForModel(env, STORIES, isSettled)).lifecycle_status).toBe('registered');
    expect(cdnRequests(env.hub, 'stories260K.gguf')[before].range).toBeUndefined();
  });

  it('stops a download at once when another replica takes its lease, and takes it back once it expires', async () => {
    const env = await setUp({ LLM_ROUTER_MODEL_TASK_LEASE: '0.3' });
    env.hub.addRepo(storiesRepo());
    env.hub.stall('stories260K.gguf', STALL_AT);
    await register(env, { repo: STORIES_REPO, filename: 'stories260K.gguf' });
    await waitForModel(env, STORIES, (m) => m.download_progress.bytes_downloaded >= STALL_AT);
    const lease = () =>
      env.router.db
        .selectFrom('model_task_leases')
        .selectAll()
        .where('model_id', '=', STORIES)
        .executeTakeFirst();
    const ours = (await lease())?.holder;
    expect(ours).toBeTypeOf('string');

    // Another replica took the model over (this one stalled past its lease, as it looks there).
    await env.router.db
      .updateTable('model_task_leases')
      .set({ holder: 'another-replica', expires_at: Date.now() + 60_000 })
      .where('model_id', '=', STORIES)
      .execute();
    await new Promise((resolve) => setTimeout(resolve, 500)); // past a renewal (every 100 ms)
    // Its held connection drops: a live task would retry with Range; a stopped one does not.
    const before = cdnRequests(env.hub, 'stories260K.gguf').length;
    env.hub.unstall('stories260K.gguf');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(cdnRequests(env.hub, 'stories260K.gguf')).toHaveLength(before);
    const part = join(modelDir(env, STORIES), '.model.gguf.part');
    expect(statSync(part).size).toBe(STALL_AT);
    expect((await lease())?.holder).toBe('another-replica');
    expect((await waitForModel(env, STORIES, () => true)).lifecycle_status).toBe('caching');
    const metrics = await env.router.metrics.render();
    expect(metrics).toContain('llm_router_model_task_leases_total{event="lost"} 1');
    expect(metrics).toContain('llm_router_model_tasks_running 0');

    // That replica's lease runs out unrenewed: this one takes the download back and finishes it.
    await env.router.db
      .updateTable('model_task_leases')
      .set({ expires_at: Date.now() - 1 })
      .where('model_id', '=', STORIES)
      .execute();
    const done = await waitForModel(env, STORIES, isSettled);
    expect(done.lifecycle_status).toBe('registered');
    expect(cdnRequests(env.hub, 'stories260K.gguf')[before]?.range).toBe(`bytes=${STALL_AT}-`);
    expect(sha256(readFileSync(join(modelDir(env, STORIES), 'model.gguf')))).toBe(sha256(storiesBytes()));
    // Released once its tasks ended, a few writes after the model shows as registered.
    await until(async () => (await lease()) === undefined, 'the lease released');
    expect(await env.router.metrics.render()).toContain(
      'llm_router_model_task_leases_total{event="taken_up"} 1',
    );
  });

  it('runs at most LLM_ROUTER_CONVERT_CONCURRENCY models at once', async () => {
    const env = await setUp({ LLM_ROUTER_CONVERT_CONCURRENCY: '1' });
    env.hub.addRepo(storiesRepo());
    env.hub.addRepo({ id: 'synth/second', files: [{ path: 's-Q4_0.gguf', content: fakeGguf('second') }] });
    env.hub.stall('stories260K.gguf', STALL_AT);
    await register(env, { repo: STORIES_REPO, filename: 'stories260K.gguf' });
    await waitForModel(env, STORIES, (m) => m.download_progress.bytes_downloaded >= STALL_AT);
    await register(env, { repo: 'synth/second', gguf_policy: 'memory' });
    expect(
      (await env.call('GET', '/v0/models/synth/second', undefined, env.node)).body.lifecycle_status,
    ).toBe('pending');

    env.hub.unstall('stories260K.gguf');
    expect((await waitForModel(env, 'synth/second', isSettled)).lifecycle_status).toBe('registered');
    expect((await waitForModel(env, STORIES, isSettled)).lifecycle_status).toBe('registered');
    // The second model's file was first asked for only after the first model's resumed request.
    const firstResume = env.hub.requests.findIndex((r) => r.path.endsWith('/stories260K.gguf') && r.range);
    const secondStart = env.hub.requests.findIndex((r) => r.path.endsWith('/s-Q4_0.gguf'));
    expect(firstResume).toBeGreaterThan(-1);
    expect(secondStart).toBeGreaterThan(firstResume);
  });
});
