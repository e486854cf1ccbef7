/**
 * Downloads one file into place: bytes go to `<file>.part`, a cut connection resumes from the
 * part's length with a Range request, the whole file is checked against its SHA-256 (and
 * size), and only then is the part renamed over the final name. A final name therefore
 * only ever holds a verified file; a checksum failure deletes the part. Transient failures
 * (network, stalls, 5xx, 429, a bad checksum) are retried `maxRetries` times with exponential
 * backoff; others (4xx, a size that contradicts the manifest) fail at once.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import type { Clock, RateLimiter, Semaphore } from './limits.js';
import { partPathOf } from './names.js';
import type { FileRequest } from './router-models-client.js';

export interface DownloadSettings {
  maxRetries: number;
  backoffMs: number;
  /** Largest slice read, throttled and written at once (`LLM_DL_CHUNK`). */
  chunkBytes: number;
  /** Abort an attempt when no byte arrives for this long. */
  stallTimeoutMs: number;
}

export interface DownloadShared {
  semaphore: Semaphore;
  rate: RateLimiter;
  clock: Clock;
}

export interface FileToDownload {
  request: FileRequest;
  /** The final path; the download runs in `<path>.part`. */
  path: string;
  size: number | null;
  sha256: string | null;
}

export interface DownloadHooks {
  /** A concurrency slot was granted: the file is downloading, not queued. */
  onStart?(): void;
  /** Bytes of this file on disk so far (goes down when a download restarts from zero). */
  onBytes?(bytes: number): void;
  onVerifying?(): void;
}

export type DownloadFailure = 'checksum' | 'size' | 'http' | 'network' | 'stall';

export class DownloadError extends Error {
  constructor(
    message: string,
    readonly kind: DownloadFailure,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export async function downloadFile(
  file: FileToDownload,
  settings: DownloadSettings,
  shared: DownloadShared,
  hooks: DownloadHooks,
  signal: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const release = await shared.semaphore.acquire(signal);
  try {
    hooks.onStart?.();
    for (let attempt = 0; ; attempt++) {
      try {
        return await attemptDownload(file, settings, shared, hooks, signal);
      } catch (error) {
        signal.throwIfAborted();
        const failure =
          error instanceof DownloadError
            ? error
            : new DownloadError(describeNetworkError(error), 'network', true);
        if (!failure.retryable || attempt >= settings.maxRetries) throw failure;
        await shared.clock.sleep(settings.backoffMs * 2 ** attempt, signal);
      }
    }
  } finally {
    release();
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return `download failed: ${cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error)}`;
}

async function hashExisting(path: string, length: number, hash: Hash): Promise<void> {
  if (length === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) hash.update(chunk);
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;
const SHA256 = /^[0-9a-f]{64}$/i;

function httpFailure(status: number): DownloadError {
  const retryable = status >= 500 || status === 408 || status === 429;
  return new DownloadError(`the server answered HTTP ${status}`, 'http', retryable);
}

async function attemptDownload(
  file: FileToDownload,
  settings: DownloadSettings,
  shared: DownloadShared,
  hooks: DownloadHooks,
  signal: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const part = partPathOf(file.path);
  // Append mode: after a truncate(0) writes land at the start again.
  const handle = await open(part, 'a');
  let offset = (await handle.stat()).size;
  let hash = createHash('sha256');
  let expectedSha = file.sha256;
  let total = file.size;
  try {
    if (total !== null && offset > total) {
      await handle.truncate(0);
      offset = 0;
    }
    await hashExisting(part, offset, hash);
    hooks.onBytes?.(offset);
    if (total === null || offset < total) {
      const streamed = await streamInto(handle, file, settings, shared, hooks, signal, offset, hash);
      offset = streamed.offset;
      hash = streamed.hash;
      total = streamed.total;
      expectedSha ??= streamed.headerSha;
    }
    hooks.onVerifying?.();
    if (total !== null && offset !== total) {
      throw new DownloadError(`got ${offset} bytes, expected ${total}`, 'size', true);
    }
    const digest = hash.digest('hex');
    if (expectedSha && digest !== expectedSha.toLowerCase()) {
      await handle.close().catch(() => undefined);
      await rm(part, { force: true });
      throw new DownloadError(`sha256 mismatch: expected ${expectedSha}, got ${digest}`, 'checksum', true);
    }
    await handle.datasync();
    await handle.close();
    await rename(part, file.path);
    return { sha256: digest, bytes: offset };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

interface Streamed {
  offset: number;
  hash: Hash;
  total: number | null;
  headerSha: string | null;
}

/** One HTTP request from `offset` on, appended to the part file through the limits. */
async function streamInto(
  handle: FileHandle,
  file: FileToDownload,
  settings: DownloadSettings,
  shared: DownloadShared,
  hooks: DownloadHooks,
  signal: AbortSignal,
  startOffset: number,
  startHash: Hash,
): Promise<Streamed> {
  let offset = startOffset;
  let hash = startHash;
  let total = file.size;
  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const message = `no data for ${settings.stallTimeoutMs} ms`;
      stall.abort(new DownloadError(message, 'stall', true));
    }, settings.stallTimeoutMs);
  };
  const combined = AbortSignal.any([signal, stall.signal]);
  const headers: Record<string, string> = { ...file.request.headers };
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    // The router's ETag is the file's SHA-256: a changed file answers 200 with all of it.
    if (file.sha256) headers['if-range'] = `"${file.sha256}"`;
  }
  let response: Response | undefined;
  try {
    arm();
    response = await fetch(file.request.url, { headers, signal: combined });
    const headerSha = response.headers.get('x-checksum-sha256');
    const range = CONTENT_RANGE.exec(response.headers.get('content-range') ?? '');
    if (response.status === 416) {
      await response.body?.cancel();
      // The part may already be whole (`bytes */<size>`): the caller verifies it.
      const size = /^bytes \*\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
      if (size && Number(size[1]) === offset && (total === null || total === offset)) {
        return { offset, hash, total: offset, headerSha: validSha(headerSha) };
      }
      await handle.truncate(0);
      throw new DownloadError('the server refused the resume range', 'http', true);
    }
    if (response.status === 206 && range) {
      if (Number(range[1]) !== offset) {
        await response.body?.cancel();
        await handle.truncate(0);
        throw new DownloadError(`asked for bytes from ${offset}, got ${range[1]}`, 'http', true);
      }
      if (range[3] !== '*') total = checkTotal(total, Number(range[3]));
    } else if (response.status === 200) {
      if (offset > 0) {
        // Resume not honoured (or the file changed): start over.
        await handle.truncate(0);
        offset = 0;
        hash = createHash('sha256');
        hooks.onBytes?.(0);
      }
      const length = response.headers.get('content-length');
      if (length !== null && /^\d+$/.test(length)) total = checkTotal(total, Number(length));
    } else {
      await response.body?.cancel();
      throw httpFailure(response.status);
    }
    if (!response.body) throw new DownloadError('the response has no body', 'network', true);
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      for (let at = 0; at < chunk.length; at += settings.chunkBytes) {
        const slice = chunk.subarray(at, at + settings.chunkBytes);
        clearTimeout(timer); // time spent throttled is not a stall
        await shared.rate.take(slice.length, combined);
        arm();
        if (total !== null && offset + slice.length > total) {
          await handle.truncate(0);
          throw new DownloadError(`the server sent more than ${total} bytes`, 'size', true);
        }
        await handle.write(slice);
        hash.update(slice);
        offset += slice.length;
        hooks.onBytes?.(offset);
      }
    }
    if (total !== null && offset < total) {
      throw new DownloadError(`connection closed after ${offset} of ${total} bytes`, 'network', true);
    }
    return { offset, hash, total: total ?? offset, headerSha: validSha(headerSha) };
  } catch (error) {
    // Free the connection whatever went wrong (a body still locked by its reader is already freed).
    await response?.body?.cancel().catch(() => undefined);
    if (stall.signal.aborted && !signal.aborted) throw stall.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

const validSha = (value: string | null) => (value && SHA256.test(value) ? value.toLowerCase() : null);

/** A server-announced length that contradicts the manifest will not get better on retry. */
function checkTotal(expected: number | null, announced: number): number {
  if (expected !== null && expected !== announced) {
    throw new DownloadError(
      `the server has ${announced} bytes, the manifest says ${expected}`,
      'size',
      false,
    );
  }
  return announced;
}
