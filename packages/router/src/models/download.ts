/**
 * Downloads one hub file into a model's cache folder, resumably and verifiably:
 * - bytes go to a hidden `.<name>.part` file; a restart resumes from its size with `Range`;
 * - the finished part is hashed from disk and compared with the hub's SHA-256 (LFS oid) or
 *   git blob id, and GGUF files must have a valid header;
 * - only then is it renamed into place (atomic on one filesystem), so a partial or corrupt
 *   file never carries a name that manifests or file routes would serve.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { checkGgufFile } from './gguf.js';
import type { HubClient } from './hf-client.js';

/** A file that arrived whole but is not what the hub published: never retried, never served. */
export class CorruptFileError extends Error {}

/** The connection ended before the whole file arrived: worth another (resumed) attempt. */
export class TruncatedDownloadError extends Error {}

export interface DownloadTarget {
  repo: string;
  revision: string;
  sourcePath: string;
  /** Folder of the model in the router cache. */
  dir: string;
  name: string;
  sizeBytes: number | null;
  expectedSha256: string | null;
  expectedGitSha1: string | null;
  etag: string | null;
}

export interface DownloadResult {
  sizeBytes: number;
  sha256: string;
  etag: string | null;
}

export interface DownloadHooks {
  /** Called as bytes land on disk with the part file's total size so far. */
  onProgress(bytes: number): void;
  /** Called once the hub answered, with the validator to resume against. */
  onEtag(etag: string | null): void;
  /** Called when a resume was requested, with the offset (for logs and tests). */
  onResume?(offset: number): void;
}

export const partPathOf = (dir: string, name: string) => join(dir, `.${name}.part`);

async function sizeOrZero(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** SHA-256 and git blob SHA-1 of a file, read from disk. */
export async function hashFile(path: string, size: number): Promise<{ sha256: string; gitSha1: string }> {
  const sha256 = createHash('sha256');
  const gitSha1 = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) {
    sha256.update(chunk as Buffer);
    gitSha1.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), gitSha1: gitSha1.digest('hex') };
}

/** Where a 206 reply's body starts (`Content-Range: bytes START-END/TOTAL`), or null. */
function contentRangeStart(header: string | null): number | null {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header?.trim() ?? '');
  return match ? Number(match[1]) : null;
}

export async function downloadHubFile(
  hub: HubClient,
  target: DownloadTarget,
  hooks: DownloadHooks,
  signal: AbortSignal,
): Promise<DownloadResult> {
  await mkdir(target.dir, { recursive: true });
  const part = partPathOf(target.dir, target.name);
  let offset = await sizeOrZero(part);
  if (target.sizeBytes !== null && offset > target.sizeBytes) {
    await truncate(part, 0);
    offset = 0;
  }
  let etag = target.etag;
  const complete = target.sizeBytes !== null && offset === target.sizeBytes && offset > 0;
  if (!complete) {
    if (offset > 0) hooks.onResume?.(offset);
    const response = await hub.openFile(target.repo, target.revision, target.sourcePath, {
      offset,
      etag,
      signal,
    });
    if (response.status === 416) {
      // The part already holds more than the hub has for this range: start over.
      await response.body?.cancel().catch(() => {});
      await truncate(part, 0);
      throw new TruncatedDownloadError(`The hub refused to resume '${target.sourcePath}' at byte ${offset}`);
    }
    if (response.status === 206 && contentRangeStart(response.headers.get('content-range')) !== offset) {
      await response.body?.cancel().catch(() => {});
      await truncate(part, 0);
      throw new TruncatedDownloadError(`The hub resumed '${target.sourcePath}' at the wrong offset`);
    }
    if (response.status !== 206) offset = 0; // 200: the whole file (no resume, or the file changed).
    etag = response.headers.get('etag') ?? etag;
    hooks.onEtag(etag);
    if (!response.body) throw new TruncatedDownloadError(`The hub sent no body for '${target.sourcePath}'`);
    let written = offset;
    hooks.onProgress(written);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        hooks.onProgress(written);
        done(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }),
      { signal },
    );
  }
  return verifyAndPublish(target, part, etag, signal);
}

async function verifyAndPublish(
  target: DownloadTarget,
  part: string,
  etag: string | null,
  signal: AbortSignal,
): Promise<DownloadResult> {
  signal.throwIfAborted();
  const size = await sizeOrZero(part);
  if (target.sizeBytes !== null && size < target.sizeBytes) {
    throw new TruncatedDownloadError(
      `'${target.sourcePath}' ended after ${size} of ${target.sizeBytes} bytes`,
    );
  }
  const corrupt = async (why: string) => {
    // Stopped meanwhile (the lease went to another replica): the part is no longer ours to drop.
    signal.throwIfAborted();
    await rm(part, { force: true });
    return new CorruptFileError(
      `'${target.sourcePath}' failed verification: ${why}; the download was discarded`,
    );
  };
  if (target.sizeBytes !== null && size > target.sizeBytes) {
    throw await corrupt(`it has ${size} bytes, the hub lists ${target.sizeBytes}`);
  }
  const digests = await hashFile(part, size);
  if (target.expectedSha256 && digests.sha256 !== target.expectedSha256) {
    throw await corrupt(`sha256 ${digests.sha256} does not match the hub's ${target.expectedSha256}`);
  }
  if (!target.expectedSha256 && target.expectedGitSha1 && digests.gitSha1 !== target.expectedGitSha1) {
    throw await corrupt(`git blob id ${digests.gitSha1} does not match the hub's ${target.expectedGitSha1}`);
  }
  if (target.name.toLowerCase().endsWith('.gguf')) {
    const problem = await checkGgufFile(part);
    if (problem) throw await corrupt(`not a valid GGUF file (${problem})`);
  }
  signal.throwIfAborted();
  await rename(part, join(target.dir, target.name));
  return { sizeBytes: size, sha256: digests.sha256, etag };
}
