/**
 * Model sync passes against a local registry: what is fetched (and what is not), where it
 * lands (`org/name` folders), what a dropped model deletes (only what the node synced), shared
 * storage in place, bad input from the router, outages, and the progress the heartbeat reports.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNodeConfig } from '../src/config/config.js';
import { ConfigError } from '../src/config/env.js';
import { scanModelsDir } from '../src/models/catalog.js';
import type { ModelSync } from '../src/sync/model-sync.js';
import { SYNC_RECORD_FILE } from '../src/sync/ownership.js';
import { freePort } from './fake-router.js';
import { removeTempDirs, tempDir, waitFor } from './support.js';
import { bytesOf, createSync, FakeRegistry, sha256 } from './sync-support.js';

const registries: FakeRegistry[] = [];
const syncs: ModelSync[] = [];

async function setup(overrides: Parameters<typeof createSync>[2] = {}) {
  const registry = await FakeRegistry.start();
  registries.push(registry);
  const modelsDir = join(tempDir(), 'models');
  const { sync, target } = createSync(registry, modelsDir, overrides);
  syncs.push(sync);
  return { registry, modelsDir, sync, target };
}

/** Runs a pass (as a version change would) and waits for it and its downloads to finish. */
async function syncNow(sync: ModelSync, version: number) {
  sync.notifyVersion(version);
  await sync.whenIdle();
}

const listed = async (dir: string) => (await scanModelsDir(dir)).entries.map((e) => [e.id, e.origin]);

afterEach(async () => {
  await Promise.all(syncs.splice(0).map((s) => s.stop()));
  await Promise.all(registries.splice(0).map((r) => r.stop()));
  removeTempDirs();
});

describe('model sync', () => {
  it('fetches a missing model into org/name, verified, and reports it done', async () => {
    const { registry, modelsDir, sync, target } = await setup();
    const weights = bytesOf('tiny', 70_000);
    registry.addModel('ggml-org/tiny', { 'model.gguf': weights, 'config.json': Buffer.from('{}') });
    await syncNow(sync, registry.version);
    const dir = join(modelsDir, 'ggml-org', 'tiny');
    expect(sha256(readFileSync(join(dir, 'model.gguf')))).toBe(sha256(weights));
    expect(readdirSync(dir).sort()).toEqual(['.llm-router-sync.json', 'config.json', 'model.gguf']);
    const record = JSON.parse(readFileSync(join(dir, SYNC_RECORD_FILE), 'utf8'));
    expect(record).toMatchObject({ model: 'ggml-org/tiny', state: 'complete' });
    expect(record.files.map((f: { name: string }) => f.name).sort()).toEqual(['config.json', 'model.gguf']);
    expect(await listed(modelsDir)).toEqual([['ggml-org/tiny', 'synced']]);
    expect(sync.downloads()).toEqual([
      {
        model: 'ggml-org/tiny',
        state: 'done',
        bytes_downloaded: weights.length + 2,
        bytes_total: weights.length + 2,
        error: null,
      },
    ]);
    expect(target.rescans).toBeGreaterThan(0);
    // The key goes to the router only.
    expect(registry.requests.every((r) => r.authorization === 'Bearer sk_node_test')).toBe(true);

    // Nothing changed: another pass downloads nothing.
    const before = registry.requests.length;
    await syncNow(sync, registry.version + 100);
    expect(registry.requests.slice(before).filter((r) => r.path.includes('/files/'))).toEqual([]);
  });

  it('does not fetch what the node cannot serve or the router has not cached', async () => {
    const { registry, modelsDir, sync } = await setup();
    registry.addModel(
      'org/safetensors',
      { 'model.safetensors': bytesOf('st', 100) },
      {
        format: 'safetensors',
        servable: false,
      },
    );
    registry.addModel('org/not-servable', { 'model.gguf': bytesOf('ns', 100) }, { servable: false });
    registry.addModel('org/caching', { 'model.gguf': bytesOf('c', 100) }, { lifecycle_status: 'caching' });
    await syncNow(sync, registry.version);
    expect(existsSync(modelsDir) ? readdirSync(modelsDir) : []).toEqual([]);
    expect(registry.requests.filter((r) => r.path !== '/v0/models')).toEqual([]);
  });

  it('deletes only what it synced when the router drops a model; hand-placed files stay', async () => {
    const { registry, modelsDir, sync } = await setup();
    registry.addModel('org/dropped', { 'model.gguf': bytesOf('d', 1000) });
    registry.addModel('org/kept', { 'model.gguf': bytesOf('k', 1000) });
    await syncNow(sync, registry.version);
    // The operator adds files by hand: a loose model, and a note inside a synced folder.
    writeFileSync(join(modelsDir, 'hand-placed.gguf'), 'x');
    writeFileSync(join(modelsDir, 'org', 'dropped', 'NOTES.md'), 'mine');
    registry.removeModel('org/dropped');
    registry.removeModel('org/kept');
    await syncNow(sync, registry.version);
    expect(readdirSync(join(modelsDir, 'org', 'dropped'))).toEqual(['NOTES.md']);
    expect(existsSync(join(modelsDir, 'org', 'kept'))).toBe(false);
    expect(existsSync(join(modelsDir, 'hand-placed.gguf'))).toBe(true);
    expect(await listed(modelsDir)).toEqual([['hand-placed', 'local']]);
    expect(sync.downloads()).toEqual([]);

    // Once the note goes too, the empty folders are cleaned up at the next drop.
    registry.addModel('solo', { 'model.gguf': bytesOf('s', 10) });
    await syncNow(sync, registry.version);
    registry.removeModel('solo');
    await syncNow(sync, registry.version);
    expect(readdirSync(modelsDir).sort()).toEqual(['hand-placed.gguf', 'org']);
  });

  it('never fetches over a model the operator placed under the same id', async () => {
    const { registry, modelsDir, sync } = await setup();
    mkdirSync(join(modelsDir, 'org', 'mine'), { recursive: true });
    writeFileSync(join(modelsDir, 'org', 'mine', 'weights.gguf'), 'hand');
    registry.addModel('org/mine', { 'model.gguf': bytesOf('m', 100) });
    await syncNow(sync, registry.version);
    registry.removeModel('org/mine');
    await syncNow(sync, registry.version);
    expect(readdirSync(join(modelsDir, 'org', 'mine'))).toEqual(['weights.gguf']);
    expect(registry.fileRequests('model.gguf')).toEqual([]);
  });

  it('serves a readable shared path in place, with no copy, unless told not to', async () => {
    const { registry, modelsDir, sync, target } = await setup();
    const routerDir = join(tempDir(), 'router-cache', 'org', 'shared');
    mkdirSync(routerDir, { recursive: true });
    const weights = bytesOf('shared', 4096);
    writeFileSync(join(routerDir, 'model.gguf'), weights);
    registry.addModel('org/shared', { 'model.gguf': weights }, { path: join(routerDir, 'model.gguf') });
    await syncNow(sync, registry.version);
    expect(target.external).toEqual(new Map([['org/shared', join(routerDir, 'model.gguf')]]));
    expect(existsSync(join(modelsDir, 'org'))).toBe(false);
    expect(registry.fileRequests('model.gguf')).toEqual([]);
    registry.removeModel('org/shared');
    await syncNow(sync, registry.version);
    expect(target.external.size).toBe(0);

    const copying = await setup({ useSharedPath: false });
    copying.registry.addModel(
      'org/shared',
      { 'model.gguf': weights },
      { path: join(routerDir, 'model.gguf') },
    );
    await syncNow(copying.sync, copying.registry.version);
    expect(copying.target.external.size).toBe(0);
    expect(readFileSync(join(copying.modelsDir, 'org', 'shared', 'model.gguf')).equals(weights)).toBe(true);
  });

  it('falls back to downloading when the shared path does not hold the same file', async () => {
    const { registry, modelsDir, sync, target } = await setup();
    const elsewhere = join(tempDir(), 'model.gguf');
    writeFileSync(elsewhere, 'a different, shorter file');
    registry.addModel('org/moved', { 'model.gguf': bytesOf('moved', 2048) }, { path: elsewhere });
    await syncNow(sync, registry.version);
    expect(target.external.size).toBe(0);
    expect(existsSync(join(modelsDir, 'org', 'moved', 'model.gguf'))).toBe(true);
  });

  it('reports a checksum failure, serves nothing, and does not retry until the router changes', async () => {
    const { registry, modelsDir, sync } = await setup({ maxRetries: 1 });
    registry.addModel('org/bad', { 'model.gguf': bytesOf('good', 3000) });
    registry.served.set('org/bad/model.gguf', bytesOf('evil', 3000));
    await syncNow(sync, registry.version);
    expect(readdirSync(join(modelsDir, 'org', 'bad'))).toEqual([SYNC_RECORD_FILE]);
    expect(await listed(modelsDir)).toEqual([]);
    const [report] = sync.downloads();
    expect(report).toMatchObject({ model: 'org/bad', state: 'error' });
    expect(report.error).toMatch(/sha256 mismatch/);
    const tries = registry.fileRequests('model.gguf').length;
    expect(tries).toBe(2);

    // A retry pass without a new version leaves the rejected file alone…
    (sync as unknown as { trigger(): void }).trigger();
    await sync.whenIdle();
    expect(registry.fileRequests('model.gguf')).toHaveLength(tries);
    // …a new version (the router fixed it) fetches it again.
    registry.served.delete('org/bad/model.gguf');
    await syncNow(sync, registry.version + 1);
    expect(await listed(modelsDir)).toEqual([['org/bad', 'synced']]);
    expect(sync.downloads()[0]).toMatchObject({ state: 'done', error: null });
  });

  it('re-downloads a model whose files changed and deletes the files it no longer has', async () => {
    const { registry, modelsDir, sync } = await setup();
    registry.addModel('org/changing', { 'model.gguf': bytesOf('v1', 500), 'extra.json': Buffer.from('{}') });
    await syncNow(sync, registry.version);
    const v2 = bytesOf('v2', 600);
    registry.addModel('org/changing', { 'model.gguf': v2 });
    await syncNow(sync, registry.version);
    const dir = join(modelsDir, 'org', 'changing');
    expect(readdirSync(dir).sort()).toEqual([SYNC_RECORD_FILE, 'model.gguf']);
    expect(readFileSync(join(dir, 'model.gguf')).equals(v2)).toBe(true);
  });

  it('downloads at most LLM_DL_CONCURRENCY files at once over all models', async () => {
    const { registry, modelsDir, sync } = await setup({ concurrency: 2 });
    for (let i = 0; i < 3; i++) {
      registry.addModel(`org/m${i}`, { 'a.gguf': bytesOf(`a${i}`, 100), 'b.gguf': bytesOf(`b${i}`, 100) });
    }
    registry.holdFiles = true;
    sync.notifyVersion(registry.version);
    await waitFor(() => registry.held.length === 2, 'two downloads');
    await waitFor(() => sync.downloads().filter((d) => d.state === 'queued').length >= 1, 'a queued model');
    for (let released = 0; released < 6; released++) {
      await waitFor(() => registry.held.length > 0, 'a held download');
      registry.release();
    }
    registry.holdFiles = false;
    await sync.whenIdle();
    expect(registry.maxActive).toBe(2);
    expect((await listed(modelsDir)).length).toBe(3);
  });
});

describe('model sync after a restart', () => {
  function leaveDownloadState(modelsDir: string, id: string, data: Buffer, files: Record<string, Buffer>) {
    const dir = join(modelsDir, ...id.split('/'));
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    const record = {
      model: id,
      state: 'downloading',
      files: [{ name: 'model.gguf', size: data.length, sha256: sha256(data), verified: false }],
    };
    writeFileSync(join(dir, SYNC_RECORD_FILE), JSON.stringify(record));
    return dir;
  }

  it('resumes the part file a previous run left, with a Range request', async () => {
    const { registry, modelsDir, sync } = await setup();
    const data = bytesOf('resume', 90_000);
    registry.addModel('org/resume', { 'model.gguf': data });
    leaveDownloadState(modelsDir, 'org/resume', data, { 'model.gguf.part': data.subarray(0, 30_000) });
    // Mid-download, the folder is not a model yet.
    expect(await listed(modelsDir)).toEqual([]);
    await syncNow(sync, registry.version);
    expect(registry.fileRequests('model.gguf').map((r) => r.range)).toEqual(['bytes=30000-']);
    expect(await listed(modelsDir)).toEqual([['org/resume', 'synced']]);
  });

  it('re-checks a file renamed into place just before a crash instead of downloading it again', async () => {
    const { registry, modelsDir, sync } = await setup();
    const data = bytesOf('renamed', 5000);
    registry.addModel('org/renamed', { 'model.gguf': data });
    leaveDownloadState(modelsDir, 'org/renamed', data, { 'model.gguf': data });
    await syncNow(sync, registry.version);
    expect(registry.fileRequests('model.gguf')).toEqual([]);
    expect(await listed(modelsDir)).toEqual([['org/renamed', 'synced']]);
  });

  it('refuses to overwrite a file it did not sync, and says so', async () => {
    const { registry, modelsDir, sync } = await setup();
    mkdirSync(join(modelsDir, 'org', 'clash'), { recursive: true });
    writeFileSync(join(modelsDir, 'org', 'clash', 'config.json'), 'hand-made');
    registry.addModel('org/clash', { 'model.gguf': bytesOf('w', 10), 'config.json': Buffer.from('{}') });
    await syncNow(sync, registry.version);
    expect(sync.downloads()[0]).toMatchObject({ model: 'org/clash', state: 'error' });
    expect(sync.downloads()[0].error).toMatch(/not synced by this node/);
    expect(readFileSync(join(modelsDir, 'org', 'clash', 'config.json'), 'utf8')).toBe('hand-made');
  });

  it('does not treat a record naming another model as its own', async () => {
    const { registry, modelsDir, sync } = await setup();
    const dir = join(modelsDir, 'org', 'copied');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.gguf'), 'hand');
    writeFileSync(
      join(dir, SYNC_RECORD_FILE),
      JSON.stringify({
        model: 'org/other',
        state: 'complete',
        files: [{ name: 'model.gguf', size: 4, sha256: null, verified: true }],
      }),
    );
    await syncNow(sync, registry.version);
    expect(await listed(modelsDir)).toEqual([['org/copied', 'local']]);
    expect(existsSync(join(dir, 'model.gguf'))).toBe(true);
  });
});

describe('model sync with bad input or an unreachable router', () => {
  it('ignores unusable feed rows and rejects manifests with traversal, writing nothing outside', async () => {
    const { registry, modelsDir, sync } = await setup();
    registry.addModel('org/evil', { 'model.gguf': bytesOf('e', 10) });
    registry.setManifest('org/evil', {
      files: [{ name: '../../escape.gguf', size: 10, sha256: sha256(bytesOf('e', 10)) }],
    });
    registry.addModel('org/fine', { 'model.gguf': bytesOf('f', 10) });
    const rows = [...registry.models.values()].map((m) => m.row);
    registry.feedOverride = [...rows, { name: '../../etc' }, { name: 'a/b/c/d' }, { nope: true }, 42];
    await syncNow(sync, registry.version);
    expect(await listed(modelsDir)).toEqual([['org/fine', 'synced']]);
    expect(sync.downloads().find((d) => d.model === 'org/evil')).toMatchObject({ state: 'error' });
    expect(sync.downloads().find((d) => d.model === 'org/evil')?.error).toMatch(/unsafe file name/);
    expect(existsSync(join(modelsDir, '..', 'escape.gguf'))).toBe(false);
    expect(existsSync(join(modelsDir, 'org', 'escape.gguf'))).toBe(false);
  });

  it('changes nothing on disk when the feed is not a list', async () => {
    const { registry, modelsDir, sync } = await setup();
    registry.addModel('org/present', { 'model.gguf': bytesOf('p', 10) });
    await syncNow(sync, registry.version);
    registry.feedOverride = { error: 'oops' };
    sync.notifyVersion(registry.version + 1);
    await waitFor(() => registry.feedRequests() >= 3, 'a retry after the bad feed');
    expect(await listed(modelsDir)).toEqual([['org/present', 'synced']]);
  });

  it('sends no credentials to a file URL on another host', async () => {
    const { registry, sync } = await setup();
    const cdn = await FakeRegistry.start();
    registries.push(cdn);
    const data = bytesOf('cdn', 100);
    cdn.addModel('org/cdn', { 'model.gguf': data });
    registry.addModel('org/cdn', { 'model.gguf': data });
    registry.setManifest('org/cdn', {
      files: [
        {
          name: 'model.gguf',
          size: 100,
          sha256: sha256(data),
          url: `${cdn.url}/v0/models/registry/org%2Fcdn/files/model.gguf`,
        },
      ],
    });
    await syncNow(sync, registry.version);
    expect(cdn.fileRequests('model.gguf')).toHaveLength(1);
    expect(cdn.fileRequests('model.gguf')[0].authorization).toBeUndefined();
  });

  it('keeps retrying with backoff while the router is down, then syncs', async () => {
    const port = await freePort();
    const modelsDir = join(tempDir(), 'models');
    const { sync } = createSync(`http://127.0.0.1:${port}`, modelsDir);
    syncs.push(sync);
    sync.start();
    await new Promise((r) => setTimeout(r, 100));
    const registry = new FakeRegistry();
    registry.addModel('org/late', { 'model.gguf': bytesOf('late', 1000) });
    await registry.listen(port);
    registries.push(registry);
    await waitFor(async () => (await listed(modelsDir)).length === 1, 'the model after the outage');
    expect(await listed(modelsDir)).toEqual([['org/late', 'synced']]);
  });

  it('resumes a download cut by a router restart', async () => {
    const { registry, modelsDir, sync } = await setup({ maxRetries: 0 });
    const data = bytesOf('restart', 200_000);
    registry.addModel('org/restart', { 'model.gguf': data });
    registry.cuts.set('org/restart/model.gguf', { after: 80_000, times: 1 });
    sync.notifyVersion(registry.version);
    // No retries left in the downloader: the sync's own backoff brings it back.
    await waitFor(async () => (await listed(modelsDir)).length === 1, 'the model after the cut');
    const ranges = registry.fileRequests('model.gguf').map((r) => r.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges.at(-1)).toMatch(/^bytes=[1-9]\d*-$/);
    expect(readFileSync(join(modelsDir, 'org', 'restart', 'model.gguf')).equals(data)).toBe(true);
  });
});

describe('download settings (LLM_DL_*)', () => {
  it('has the contract defaults and reads every knob', () => {
    expect(loadNodeConfig({}).download).toEqual({
      concurrency: 4,
      maxRetries: 2,
      backoffMs: 200,
      chunkBytes: 65536,
      maxBytesPerSec: 0,
      stallTimeoutMs: 30000,
      useSharedPath: true,
    });
    const env = {
      LLM_DL_CONCURRENCY: '7',
      LLM_DL_MAX_RETRIES: '5',
      LLM_DL_BACKOFF_MS: '900',
      LLM_DL_CHUNK: '8192',
      LLM_DL_MAX_BPS: '1024',
      LLM_DL_TIMEOUT_MS: '120000',
      LLM_DL_SHARED_PATH: 'false',
    };
    expect(loadNodeConfig(env).download).toEqual({
      concurrency: 7,
      maxRetries: 5,
      backoffMs: 900,
      chunkBytes: 8192,
      maxBytesPerSec: 1024,
      stallTimeoutMs: 120000,
      useSharedPath: false,
    });
  });

  it('refuses values out of range, naming the variable', () => {
    expect(() => loadNodeConfig({ LLM_DL_CONCURRENCY: '0' })).toThrow(ConfigError);
    expect(() => loadNodeConfig({ LLM_DL_CHUNK: String(2 * 1024 * 1024) })).toThrow(/LLM_DL_CHUNK/);
    expect(() => loadNodeConfig({ LLM_DL_MAX_BPS: '-1' })).toThrow(/LLM_DL_MAX_BPS/);
    expect(() => loadNodeConfig({ LLM_DL_SHARED_PATH: 'maybe' })).toThrow(/LLM_DL_SHARED_PATH/);
  });
});
