/**
 * The cache task queue: downloads and quantizations, persisted in `model_tasks`, at most
 * `LLM_ROUTER_CONVERT_CONCURRENCY` models at a time. One model's tasks run in order (download,
 * then quantize). Transient failures are retried with exponential backoff; a shutdown leaves
 * tasks `in_progress` so the next start resumes them; a delete cancels them.
 *
 * Router replicas share the cache folder: a model's tasks run only on the replica holding its
 * lease (`TaskLeases`), renewed while they run; a replica that loses it stops at once, without
 * touching the files again. `adopt` takes over models whose replica died (lease expired).
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { modelDirOf, newTask } from './cache-dir.js';
import { CorruptFileError, downloadHubFile, TruncatedDownloadError } from './download.js';
import { type HubClient, HubError } from './hf-client.js';
import { QuantizeError, runQuantize } from './quantize.js';
import type { ModelRegistry } from './registry.js';
import type { TaskLeases } from './task-lease.js';
import type { ModelRecord, ModelTaskRecord } from './types.js';

export interface TaskQueueOptions {
  registry: ModelRegistry;
  hub: HubClient;
  modelsDir: string;
  concurrency: number;
  retries: number;
  backoffMs: number;
  quantizeBin: string | undefined;
  leases: TaskLeases;
  log: Logger;
}

/** Abort reasons: a shutdown keeps the task for the next start; a cancel drops it. */
class Shutdown extends Error {}
class Cancelled extends Error {}
/** Another replica took the model's lease over (this one stalled): its tasks are no longer ours. */
class LeaseLost extends Error {}

const MAX_BACKOFF_MS = 60_000;
const PERMANENT_FS_ERRORS = new Set(['ENOSPC', 'EACCES', 'EROFS', 'EPERM', 'EISDIR', 'ENOTDIR', 'EDQUOT']);

function isTransient(error: unknown): boolean {
  if (error instanceof CorruptFileError || error instanceof QuantizeError) return false;
  if (error instanceof HubError) return error.retryable;
  if (error instanceof TruncatedDownloadError) return true;
  const code = (error as { code?: string })?.code;
  return !(code && PERMANENT_FS_ERRORS.has(code));
}

const isActive = (task: ModelTaskRecord) => task.status === 'queued' || task.status === 'in_progress';

export class CacheTaskQueue {
  private readonly waiting: string[] = [];
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private closed = false;
  /** For metrics: unfinished models taken up (at start, or from a dead replica); leases lost. */
  readonly leaseStats = { takenUp: 0, lost: 0 };

  constructor(private readonly options: TaskQueueOptions) {}

  /** Resumes what a previous run left: unfinished tasks, and cached files that went missing. */
  async resume(): Promise<void> {
    await this.adopt(this.options.registry.all());
  }

  /**
   * Takes up the given models' unfinished tasks where no replica holds their lease (startup,
   * or a replica that died mid-download); models another replica is caching are left alone.
   */
  async adopt(records: ModelRecord[]): Promise<void> {
    for (const record of records) {
      if (this.closed || this.holds(record.id)) continue;
      // One broken model (unreadable folder, database hiccup) must not keep the router from starting.
      await this.resumeModel(record).catch((error) =>
        this.options.log.error({ err: error, model: record.id }, 'could not resume model tasks'),
      );
    }
  }

  private async resumeModel(seen: ModelRecord): Promise<void> {
    const { registry, leases } = this.options;
    const unfinished = seen.lifecycleStatus === 'pending' || seen.lifecycleStatus === 'caching';
    if (!unfinished && !(seen.lifecycleStatus === 'registered' && (await this.missingFiles(seen)))) return;
    if (!(await leases.acquire(seen.id))) return; // another replica is caching it
    const record = await registry.reload(seen.id);
    if (record && (await this.resumeLeased(record))) this.leaseStats.takenUp++;
    else await leases.release(seen.id);
  }

  /** Requeues what the (leased) model needs; true when it was scheduled. */
  private async resumeLeased(record: ModelRecord): Promise<boolean> {
    const { registry, log } = this.options;
    if (record.lifecycleStatus === 'registered' && (await this.missingFiles(record))) {
      if (record.files.some((f) => f.role === 'quantize_source' || f.sourcePath === null)) {
        log.warn({ model: record.id }, 'cached model files are missing');
        await registry.setLifecycle(
          record,
          'error',
          'Cached files are missing; delete the model and register it again',
        );
        return false;
      }
      log.warn({ model: record.id }, 'cached model files are missing; downloading them again');
      await this.requeue(record);
    }
    if (record.lifecycleStatus !== 'pending' && record.lifecycleStatus !== 'caching') return false;
    if (!record.tasks.some(isActive)) await this.requeue(record);
    this.schedule(record.id);
    return this.holds(record.id);
  }

  /** Queues a model whose tasks are in the registry; a no-op if it is already queued or running. */
  schedule(modelId: string): void {
    if (this.closed || this.running.has(modelId) || this.waiting.includes(modelId)) return;
    this.waiting.push(modelId);
    this.pump();
  }

  /** Models whose tasks run here now, each under its lease. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Whether this queue holds the model (queued or running): this replica is caching it. */
  holds(modelId: string): boolean {
    return this.running.has(modelId) || this.waiting.includes(modelId);
  }

  /** Stops a model's tasks (delete); resolves once nothing of it runs any more. */
  async cancel(modelId: string): Promise<void> {
    const at = this.waiting.indexOf(modelId);
    if (at >= 0) this.waiting.splice(at, 1);
    const run = this.running.get(modelId);
    if (!run) return;
    run.controller.abort(new Cancelled('model deleted'));
    await run.done;
  }

  /** Stops everything for shutdown; unfinished tasks stay persisted and resume on the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    const runs = [...this.running.values()];
    for (const run of runs) run.controller.abort(new Shutdown('router shutting down'));
    await Promise.all(runs.map((run) => run.done));
    await this.options.registry.flush();
    await this.options.hub.close();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.options.concurrency && this.waiting.length > 0) {
      const modelId = this.waiting.shift() as string;
      const controller = new AbortController();
      const done = this.runLeased(modelId, controller)
        .catch((error) => {
          if (!controller.signal.aborted)
            this.options.log.error({ err: error, model: modelId }, 'model task crashed');
        })
        .finally(() => {
          this.running.delete(modelId);
          this.pump();
        });
      this.running.set(modelId, { controller, done });
    }
  }

  /**
   * Runs the model's tasks while this replica holds its lease: taken first (another replica
   * may hold it: then nothing runs here), renewed every third of its length, released at the
   * end. A renewal that finds the lease gone stops the tasks at once.
   */
  private async runLeased(modelId: string, controller: AbortController): Promise<void> {
    const { leases, registry, log } = this.options;
    if (!(await leases.acquire(modelId))) return;
    let renewedAt = Date.now();
    const renewal = setInterval(() => {
      leases
        .renew(modelId)
        .then((held) => {
          if (held) renewedAt = Date.now();
          // Gone while the tasks were stopping anyway (a delete drops the lease): not a loss.
          else if (!controller.signal.aborted) {
            this.leaseStats.lost++;
            log.warn({ model: modelId }, 'model task lease taken over by another replica; stopping here');
            controller.abort(new LeaseLost('lease lost'));
          }
        })
        .catch((error) => {
          log.warn({ err: error, model: modelId }, 'renewing the model task lease failed');
          // Unrenewed past its length, another replica may already run the task: stop.
          if (Date.now() - renewedAt >= leases.ttlMs && !controller.signal.aborted)
            controller.abort(new LeaseLost('lease expired'));
        });
    }, leases.renewMs);
    renewal.unref();
    try {
      // The database's state, not this replica's memory: another replica may have moved it on.
      if (!controller.signal.aborted && (await registry.reload(modelId)))
        await this.runModel(modelId, controller.signal);
    } finally {
      clearInterval(renewal);
      if (!(controller.signal.reason instanceof LeaseLost))
        await leases
          .release(modelId)
          .catch((error) =>
            log.warn({ err: error, model: modelId }, 'releasing the model task lease failed'),
          );
    }
  }

  private async runModel(modelId: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      const record = this.options.registry.get(modelId);
      const task = record?.tasks.find(isActive);
      if (!record || !task || signal.aborted) return;
      await this.runTask(record, task, signal);
    }
  }

  private async runTask(record: ModelRecord, task: ModelTaskRecord, signal: AbortSignal): Promise<void> {
    const { registry, log } = this.options;
    task.status = 'in_progress';
    task.startedAt ??= Date.now();
    task.attempts++;
    await registry.saveTask(record, task);
    await registry.setLifecycle(record, 'caching');
    log.info({ model: record.id, task: task.id, kind: task.kind }, 'model task started');
    try {
      if (task.kind === 'download') await this.download(record, task, signal);
      else await this.quantize(record, task, signal);
    } catch (error) {
      if (signal.aborted) {
        if (signal.reason instanceof Shutdown) await registry.saveTask(record, task).catch(() => {});
        return;
      }
      const message = this.describe(error);
      task.status = 'failed';
      task.error = message;
      task.finishedAt = Date.now();
      await registry.saveTask(record, task);
      await registry.setLifecycle(record, 'error', message);
      log.warn({ model: record.id, task: task.id, kind: task.kind, error: message }, 'model task failed');
      return;
    }
    task.status = 'completed';
    task.error = null;
    task.finishedAt = Date.now();
    await registry.saveTask(record, task);
    log.info({ model: record.id, task: task.id, kind: task.kind }, 'model task completed');
    await this.afterTask(record, task);
  }

  /** Download done: quantize if the model needs it; otherwise, or after quantizing, it is registered. */
  private async afterTask(record: ModelRecord, task: ModelTaskRecord): Promise<void> {
    const { registry } = this.options;
    const produced = record.files.find((f) => f.sourcePath === null && f.status !== 'done');
    if (task.kind === 'download' && produced && record.quantization) {
      const source = record.files.find((f) => f.role === 'quantize_source');
      await registry.saveTask(
        record,
        newTask(record.id, 'quantize', { source: source?.name, target: record.quantization }),
      );
      return;
    }
    if (record.files.every((f) => f.status === 'done')) await registry.setLifecycle(record, 'registered');
  }

  private async download(record: ModelRecord, task: ModelTaskRecord, signal: AbortSignal): Promise<void> {
    const { registry, hub, log } = this.options;
    const dir = modelDirOf(this.options.modelsDir, record.id);
    for (const file of record.files) {
      if (file.sourcePath === null || file.status === 'done') continue;
      const sourcePath = file.sourcePath;
      const result = await this.withRetries(record, task, signal, () =>
        downloadHubFile(
          hub,
          { repo: record.repo, revision: record.revision, dir, ...file, sourcePath },
          {
            onProgress: (bytes) => registry.noteProgress(record, file, bytes),
            onEtag: (etag) => {
              if (etag === file.etag) return;
              file.etag = etag;
              registry.background(registry.saveFile(record, file));
            },
            onResume: (offset) =>
              log.info({ model: record.id, file: file.name, offset }, 'resuming model download'),
          },
          signal,
        ),
      );
      file.status = 'done';
      file.sha256 = result.sha256;
      file.sizeBytes = result.sizeBytes;
      file.bytesDownloaded = result.sizeBytes;
      await registry.saveFile(record, file);
    }
  }

  private async quantize(record: ModelRecord, task: ModelTaskRecord, signal: AbortSignal): Promise<void> {
    const { registry } = this.options;
    const dir = modelDirOf(this.options.modelsDir, record.id);
    const output = record.files.find((f) => f.sourcePath === null);
    const source = record.files.find((f) => f.role === 'quantize_source');
    if (!output || !source || !task.params.target)
      throw new QuantizeError('The quantize task has no source or target');
    const result = await runQuantize({
      bin: this.options.quantizeBin,
      dir,
      sourceName: source.name,
      outputName: output.name,
      target: task.params.target,
      signal,
    });
    output.status = 'done';
    output.sha256 = result.sha256;
    output.sizeBytes = result.sizeBytes;
    output.bytesDownloaded = result.sizeBytes;
    await registry.saveFile(record, output);
    // The unquantized source was only a means to this file; it is large and never served.
    await registry.dropFile(record, source.name);
    await rm(join(dir, source.name), { force: true });
  }

  private async withRetries<T>(
    record: ModelRecord,
    task: ModelTaskRecord,
    signal: AbortSignal,
    attempt: () => Promise<T>,
  ): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!isTransient(error) || retry >= this.options.retries) throw error;
        const delay = Math.min(MAX_BACKOFF_MS, this.options.backoffMs * 2 ** retry);
        const message = this.describe(error);
        this.options.log.warn(
          { model: record.id, retry: retry + 1, delayMs: delay, error: message },
          'model download failed; retrying',
        );
        task.attempts++;
        task.error = `retrying after: ${message}`;
        await this.options.registry.saveTask(record, task);
        await sleep(delay, undefined, { signal }).catch(() => {
          throw signal.reason;
        });
      }
    }
  }

  private describe(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof HubError && error.kind === 'access_denied' && !this.options.hub.hasToken) {
      return `${message}: the repository is gated or private; set HF_TOKEN to a token with access`;
    }
    return message;
  }

  /** A registered model whose cached files are gone (deleted by hand, disk replaced). */
  private async missingFiles(record: ModelRecord): Promise<boolean> {
    const dir = modelDirOf(this.options.modelsDir, record.id);
    for (const file of record.files) {
      const size = await stat(join(dir, file.name)).then(
        (s) => s.size,
        () => -1,
      );
      if (file.status !== 'done' || (file.sizeBytes !== null ? size !== file.sizeBytes : size < 0))
        return true;
    }
    return false;
  }

  private async requeue(record: ModelRecord): Promise<void> {
    const { registry } = this.options;
    const dir = modelDirOf(this.options.modelsDir, record.id);
    for (const file of record.files) {
      const present = await stat(join(dir, file.name)).then(
        (s) => file.sizeBytes === null || s.size === file.sizeBytes,
        () => false,
      );
      if (file.status === 'done' && present) continue;
      file.status = 'pending';
      await registry.saveFile(record, file);
    }
    const downloadsDone = record.files.every((f) => f.sourcePath === null || f.status === 'done');
    const kind =
      downloadsDone && record.quantization && record.files.some((f) => f.sourcePath === null)
        ? 'quantize'
        : 'download';
    const source = record.files.find((f) => f.role === 'quantize_source');
    const params =
      kind === 'quantize' ? { source: source?.name, target: record.quantization ?? undefined } : {};
    await registry.saveTask(record, newTask(record.id, kind, params));
    await registry.setLifecycle(record, 'pending');
  }
}
