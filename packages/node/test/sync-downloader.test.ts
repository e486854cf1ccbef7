/**
 * The downloader against a local registry on 127.0.0.1: Range resume after a cut or stalled
 * connection, SHA-256 verification (a mismatch leaves neither a part nor a final file), the
 * bandwidth cap checked by bytes against a simulated clock, and the concurrency limit.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DownloadError,
  type DownloadSettings,
  type DownloadShared,
  downloadFile,
  type FileToDownload,
} from '../src/sync/downloader.js';
import { type Clock, RateLimiter, realClock, Semaphore } from '../src/sync/limits.js';
import { removeTempDirs, tempDir, waitFor } from './support.js';
import { bytesOf, FakeClock, FakeRegistry, sha256 } from './sync-support.js';

let registry: FakeRegistry;

beforeAll(async () => {
  registry = await FakeRegistry.start();
});

afterAll(async () => {
  await registry.stop();
  removeTempDirs();
});

const settings = (overrides: Partial<DownloadSettings> = {}): DownloadSettings => ({
  maxRetries: 2,
  backoffMs: 5,
  chunkBytes: 16 * 1024,
  stallTimeoutMs: 5000,
  ...overrides,
});

function shared(options: { concurrency?: number; bps?: number; burst?: number; clock?: Clock } = {}) {
  const clock = options.clock ?? realClock;
  return {
    semaphore: new Semaphore(options.concurrency ?? 4),
    rate: new RateLimiter(options.bps ?? 0, options.burst ?? 16 * 1024, clock),
    clock,
  } satisfies DownloadShared;
}

/** Adds a one-file model to the registry and describes the download of that file. */
function fileOf(id: string, data: Buffer, dir = tempDir()): FileToDownload {
  registry.addModel(id, { 'model.gguf': data });
  return {
    request: { url: `${registry.url}/v0/models/registry/${id}/files/model.gguf`, headers: {} },
    path: join(dir, 'model.gguf'),
    size: data.length,
    sha256: sha256(data),
  };
}

const noAbort = () => new AbortController().signal;

describe('downloader', () => {
  it('resumes with a Range request after the connection is cut, and verifies the whole file', async () => {
    const data = bytesOf('cut', 300_000);
    const file = fileOf('cut', data);
    registry.cuts.set('cut/model.gguf', { after: 100_000, times: 1 });
    const seen: number[] = [];
    const result = await downloadFile(
      file,
      settings(),
      shared(),
      { onBytes: (b) => seen.push(b) },
      noAbort(),
    );
    expect(result).toEqual({ sha256: sha256(data), bytes: data.length });
    expect(readFileSync(file.path).equals(data)).toBe(true);
    expect(existsSync(`${file.path}.part`)).toBe(false);
    const requests = registry.fileRequests('model.gguf').filter((r) => r.path.includes('/cut/'));
    expect(requests).toHaveLength(2);
    expect(requests[0].range).toBeUndefined();
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(requests[1].range ?? '')?.[1]);
    // The second request starts where the part file ended, not at zero.
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(100_000);
    expect(seen.at(-1)).toBe(data.length);
  });

  it('resumes a part file left by an earlier run, and cuts a stalled connection to resume it', async () => {
    const data = bytesOf('stall', 200_000);
    const file = fileOf('stall', data);
    writeFileSync(`${file.path}.part`, data.subarray(0, 50_000));
    registry.holdFiles = true;
    const download = downloadFile(
      file,
      settings({ stallTimeoutMs: 300, maxRetries: 4 }),
      shared(),
      {},
      noAbort(),
    );
    // The first response is held (a stall): the downloader gives up on it and asks again.
    await waitFor(() => registry.held.length === 1, 'first request');
    await waitFor(() => registry.held.length === 2, 'the retry after the stall');
    registry.holdFiles = false;
    registry.release();
    registry.release();
    await download;
    expect(readFileSync(file.path).equals(data)).toBe(true);
    for (const request of registry.fileRequests('model.gguf').filter((r) => r.path.includes('/stall/'))) {
      expect(request.range).toBe('bytes=50000-');
    }
  });

  it('skips the request when a part is already whole (a crash before the rename)', async () => {
    const data = bytesOf('whole', 10_000);
    const file = fileOf('whole', data);
    writeFileSync(`${file.path}.part`, data);
    await downloadFile(file, settings(), shared(), {}, noAbort());
    expect(readFileSync(file.path).equals(data)).toBe(true);
    expect(registry.fileRequests('model.gguf').filter((r) => r.path.includes('/whole/'))).toHaveLength(0);
  });

  it('rejects bytes that do not match the SHA-256: no part, no final file, after every retry', async () => {
    const data = bytesOf('corrupt', 50_000);
    const file = fileOf('corrupt', data);
    registry.served.set('corrupt/model.gguf', bytesOf('other bytes', 50_000));
    const failure = await downloadFile(file, settings({ maxRetries: 1 }), shared(), {}, noAbort()).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DownloadError);
    expect((failure as DownloadError).kind).toBe('checksum');
    expect((failure as DownloadError).message).toMatch(/sha256 mismatch/);
    expect(existsSync(file.path)).toBe(false);
    expect(existsSync(`${file.path}.part`)).toBe(false);
    // One try plus one retry, each from zero (the bad part was deleted).
    const requests = registry.fileRequests('model.gguf').filter((r) => r.path.includes('/corrupt/'));
    expect(requests.map((r) => r.range)).toEqual([undefined, undefined]);
  });

  it('fails at once, without retrying, on a 404 or a size that contradicts the manifest', async () => {
    const data = bytesOf('sized', 1000);
    const file = fileOf('sized', data);
    const wrongSize = await downloadFile({ ...file, size: 999 }, settings(), shared(), {}, noAbort()).catch(
      (error: unknown) => error as DownloadError,
    );
    expect(wrongSize).toMatchObject({ kind: 'size', retryable: false });
    const missing = await downloadFile(
      { ...file, request: { url: `${registry.url}/v0/models/registry/sized/files/nope.gguf`, headers: {} } },
      settings(),
      shared(),
      {},
      noAbort(),
    ).catch((error: unknown) => error as DownloadError);
    expect(missing).toMatchObject({ kind: 'http', retryable: false });
    expect(registry.requests.filter((r) => r.path.endsWith('/nope.gguf'))).toHaveLength(1);
    expect(existsSync(file.path)).toBe(false);
  });

  it('keeps to the bandwidth cap: bytes read never outrun the rate over (simulated) time', async () => {
    const clock = new FakeClock();
    const rate = 64 * 1024;
    const burst = 4 * 1024;
    const data = bytesOf('throttled', 256 * 1024);
    const file = fileOf('throttled', data);
    const progress: { bytes: number; at: number }[] = [];
    await downloadFile(
      file,
      settings({ chunkBytes: 4 * 1024 }),
      shared({ bps: rate, burst, clock }),
      { onBytes: (bytes) => progress.push({ bytes, at: clock.now() }) },
      noAbort(),
    );
    expect(readFileSync(file.path).equals(data)).toBe(true);
    // At every point, what was read fits into the burst plus the rate times the time so far.
    for (const point of progress) {
      expect(point.bytes).toBeLessThanOrEqual(burst + (rate * point.at) / 1000 + 1);
    }
    // And the limiter does not throttle more than it must: 256 KiB at 64 KiB/s is about 4 s.
    expect(clock.slept).toBeGreaterThanOrEqual(((data.length - burst) * 1000) / rate - 1);
    expect(clock.slept).toBeLessThanOrEqual((data.length * 1000) / rate + 1);
  });

  it('never downloads more files at once than the concurrency limit', async () => {
    registry.maxActive = 0;
    const limits = shared({ concurrency: 2 });
    const files = Array.from({ length: 6 }, (_, i) => fileOf(`parallel-${i}`, bytesOf(`p${i}`, 5000)));
    registry.holdFiles = true;
    const all = Promise.all(files.map((file) => downloadFile(file, settings(), limits, {}, noAbort())));
    for (let released = 0; released < files.length; released++) {
      await waitFor(() => registry.held.length > 0, 'a held request');
      if (released === 0) await waitFor(() => registry.held.length === 2, 'two requests at once');
      registry.release();
    }
    registry.holdFiles = false;
    await all;
    expect(registry.maxActive).toBe(2);
    for (const file of files) expect(existsSync(file.path)).toBe(true);
  });
});

describe('rate limiter', () => {
  it('lets a burst through, then spaces takes at the configured rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(1000, 500, clock);
    await limiter.take(500);
    expect(clock.slept).toBe(0);
    await limiter.take(1000);
    expect(clock.slept).toBeCloseTo(1000, 5);
    await new RateLimiter(0, 1, clock).take(1_000_000);
    expect(clock.slept).toBeCloseTo(1000, 5);
  });
});
