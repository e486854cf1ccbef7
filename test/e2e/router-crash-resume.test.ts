/**
 * Kill the router process (SIGKILL, no chance to save anything) in the middle of caching a
 * model, start it again on the same data directory, and the download resumes with a Range
 * request from the bytes already on disk and ends byte-identical to the hub's file. The killed
 * process's task lease is still in the database; with one router per SQLite file the restarted
 * router clears it and resumes at once, not after the lease (30 s by default) runs out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FakeHub, sha256, storiesBytes } from '../../packages/router/test/models/support/fake-hub.js';
import { storiesRepo } from '../../packages/router/test/models/support/setup.js';
import { startRouterProcess, stopAll, waitUntil } from '../support/processes.js';

const STALL_AT = 500_000;
let hub: FakeHub;

afterAll(async () => {
  await stopAll();
  await hub?.close();
});

async function modelState(url: string, key: string) {
  const res = await fetch(`${url}/v0/models/ggml-org%2Ftiny-llamas`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return (await res.json()) as {
    lifecycle_status: string;
    download_progress: { bytes_downloaded: number; bytes_total: number };
  };
}

it('resumes a download after the router is killed mid-way', { timeout: 120_000 }, async () => {
  hub = await FakeHub.start();
  hub.addRepo(storiesRepo());
  hub.stall('stories260K.gguf', STALL_AT);
  // The default 30 s lease: waiting for the dead process's lease to expire would miss the 15 s below.
  const env = { HF_BASE_URL: hub.url };
  const first = await startRouterProcess(env);
  const admin = await first.createKey('admin:*');
  const register = await fetch(`${first.url}/v0/models/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ repo: 'ggml-org/tiny-llamas', filename: 'stories260K.gguf' }),
  });
  expect(register.status).toBe(201);
  await waitUntil(
    async () => (await modelState(first.url, admin)).download_progress.bytes_downloaded >= STALL_AT,
    30_000,
    'the download to reach the stall',
  );
  await first.stop('SIGKILL');

  hub.unstall('stories260K.gguf');
  const requestsBefore = hub.requests.length;
  const second = await startRouterProcess(env, { dataDir: first.dataDir, port: first.port });
  await waitUntil(
    async () => (await modelState(second.url, admin)).lifecycle_status === 'registered',
    15_000,
    'the resumed download to finish',
  );
  const resumed = hub.requests.slice(requestsBefore).filter((r) => r.path.endsWith('stories260K.gguf'));
  expect(resumed[0].range).toMatch(/^bytes=[1-9]\d*-$/);
  const cached = readFileSync(join(first.dataDir, 'models', 'ggml-org', 'tiny-llamas', 'model.gguf'));
  expect(sha256(cached)).toBe(sha256(storiesBytes()));
});
