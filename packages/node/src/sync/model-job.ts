/**
 * Downloads one model's files into `<models dir>/<id>/`. The ownership record is written
 * first (state `downloading`, so the catalog does not serve the folder), each file is marked
 * verified as it lands, and the record turns `complete` only when all are in place. Files an
 * earlier version of the model had and this one does not are deleted at the end (they are
 * ours); a file at a target name that this node did not verify is the operator's, and the
 * job refuses to overwrite it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { type DownloadSettings, type DownloadShared, downloadFile } from './downloader.js';
import type { Manifest, ManifestFile, RemoteModel } from './feed.js';
import { fileInModelDir, modelDirFor } from './names.js';
import {
  readSyncRecord,
  removeOwnedFile,
  type SyncRecord,
  type SyncRecordFile,
  writeSyncRecord,
} from './ownership.js';
import type { DownloadProgress } from './progress.js';
import type { RouterModelsClient } from './router-models-client.js';

export interface JobContext {
  modelsDir: string;
  client: RouterModelsClient;
  settings: DownloadSettings;
  shared: DownloadShared;
  progress: DownloadProgress;
  log: Logger;
}

export type JobOutcome =
  | { ok: true }
  | { ok: false; cancelled: boolean; error: string; checksum: boolean; retryable: boolean };

async function sizeOf(path: string): Promise<number | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

const sameContent = (a: SyncRecordFile, b: ManifestFile) => a.sha256 === b.sha256 && a.size === b.size;

export class ModelDownloadJob {
  readonly done: Promise<JobOutcome>;
  private readonly controller = new AbortController();
  private recordWrites: Promise<void> = Promise.resolve();

  constructor(
    readonly model: RemoteModel,
    readonly manifest: Manifest,
    private readonly context: JobContext,
  ) {
    this.done = this.run().then(
      () => ({ ok: true }) as const,
      (error: unknown) => this.outcomeOf(error),
    );
  }

  /** Stops the download (the part files stay for a resume or for the caller to delete). */
  async cancel(): Promise<void> {
    this.controller.abort(new Error('download cancelled'));
    await this.done;
  }

  private outcomeOf(error: unknown): JobOutcome {
    const message = (error as Error)?.message ?? String(error);
    const kind = (error as { kind?: string }).kind;
    const retryable = (error as { retryable?: boolean }).retryable ?? true;
    return {
      ok: false,
      cancelled: this.controller.signal.aborted,
      error: message,
      checksum: kind === 'checksum',
      retryable,
    };
  }

  private async run(): Promise<void> {
    const { model, manifest, context } = this;
    const dir = modelDirFor(context.modelsDir, model.id);
    await mkdir(dir, { recursive: true });
    const previous = await readSyncRecord(dir);
    if (previous === 'corrupt' || (previous && previous.model !== model.id)) {
      throw new Error(`${dir} has an ownership record this node cannot trust; leaving the folder alone`);
    }
    const files: SyncRecordFile[] = [];
    for (const file of manifest.files) {
      const known = previous?.files.find((f) => f.name === file.name);
      files.push({ ...(await this.reconcile(dir, file, known)), name: file.name });
    }
    const leftovers = (previous?.files ?? []).filter((f) => !manifest.files.some((m) => m.name === f.name));
    const record: SyncRecord = {
      model: model.id,
      state: 'downloading',
      source: 'download',
      manifest_key: manifest.key,
      // Leftovers stay listed (ours, deletable) until the new files are in place.
      files: [...files, ...leftovers],
    };
    await this.saveRecord(dir, record);

    const verifiedBytes = files.filter((f) => f.verified).reduce((sum, f) => sum + (f.size ?? 0), 0);
    const sizes = manifest.files.map((f) => f.size);
    const total = sizes.every((s) => s !== null) ? sizes.reduce<number>((sum, s) => sum + (s ?? 0), 0) : null;
    context.progress.start(model.id, total, verifiedBytes);
    await this.fetchAll(dir, record, files, verifiedBytes);

    for (const file of leftovers) await removeOwnedFile(dir, file.name);
    record.files = files;
    record.state = 'complete';
    await this.saveRecord(dir, record);
    context.progress.setState(model.id, 'done');
  }

  /**
   * What a manifest file's final name holds now. Only files the record names are ours: any
   * other file at that name was placed by hand and stops the job. A final file of ours that
   * the record has not marked verified was renamed just before a crash; it is checked again.
   */
  private async reconcile(dir: string, file: ManifestFile, known: SyncRecordFile | undefined) {
    const path = fileInModelDir(dir, file.name);
    const onDisk = await sizeOf(path);
    const entry = { size: file.size, sha256: file.sha256, verified: false };
    if (onDisk !== null && !known) {
      throw new Error(`${path} exists and was not synced by this node; not overwriting it`);
    }
    if (!known) return entry;
    if (!sameContent(known, file)) {
      // Bytes of another version of the model: neither the file nor a part can be reused.
      await removeOwnedFile(dir, file.name);
      return entry;
    }
    if (onDisk === null || onDisk !== file.size) return entry;
    if (known.verified || (file.sha256 !== null && (await sha256OfFile(path)) === file.sha256)) {
      return { ...entry, verified: true };
    }
    await removeOwnedFile(dir, file.name);
    return entry;
  }

  /** Fetches the unverified files, at most `LLM_DL_CONCURRENCY` at once over all jobs. */
  private async fetchAll(dir: string, record: SyncRecord, files: SyncRecordFile[], verifiedBytes: number) {
    const { model, manifest, context } = this;
    const pending = manifest.files
      .filter((f) => !files.find((r) => r.name === f.name)?.verified)
      .sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
    const onDisk = new Map<string, number>();
    const verifying = new Set<string>();
    // One failure stops the model's other files: a half model is of no use.
    const failFast = new AbortController();
    const signal = AbortSignal.any([this.controller.signal, failFast.signal]);
    const fetchOne = async (file: ManifestFile) => {
      const path = fileInModelDir(dir, file.name);
      const result = await downloadFile(
        {
          request: context.client.fileRequest(model.id, file.url, file.name),
          path,
          size: file.size,
          sha256: file.sha256,
        },
        context.settings,
        context.shared,
        {
          onStart: () => context.progress.setState(model.id, 'downloading'),
          onBytes: (bytes) => {
            // A retry after a failed check is downloading again.
            if (verifying.delete(file.name)) context.progress.setState(model.id, 'downloading');
            onDisk.set(file.name, bytes);
            let sum = verifiedBytes;
            for (const value of onDisk.values()) sum += value;
            context.progress.setBytes(model.id, sum);
          },
          onVerifying: () => {
            verifying.add(file.name);
            if (verifying.size === pending.length) context.progress.setState(model.id, 'verifying');
          },
        },
        signal,
      );
      if (!file.sha256) {
        context.log.warn(
          { model: model.id, file: file.name },
          'the router gave no sha256; size-checked only',
        );
      }
      const entry = files.find((f) => f.name === file.name);
      if (entry) {
        entry.verified = true;
        entry.sha256 ??= result.sha256;
        entry.size ??= result.bytes;
      }
      await this.saveRecord(dir, record);
    };
    const results = await Promise.allSettled(
      pending.map((file) =>
        fetchOne(file).catch((error) => {
          failFast.abort(error);
          throw error;
        }),
      ),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      // Report the root cause, not the other files' "aborted".
      throw failFast.signal.aborted ? failFast.signal.reason : failure.reason;
    }
    this.controller.signal.throwIfAborted();
  }

  /** Record writes are serialised: files finishing together must not interleave renames. */
  private saveRecord(dir: string, record: SyncRecord): Promise<void> {
    const write = this.recordWrites.then(() => writeSyncRecord(dir, structuredClone(record)));
    this.recordWrites = write.catch(() => undefined);
    return write;
  }
}
