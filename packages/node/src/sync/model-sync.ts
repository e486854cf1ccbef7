/**
 * Node-driven model sync (contract §4, "Node sync algorithm"). A pass lists the router's
 * models and makes the models dir match, without ever blocking serving:
 * - a model the router no longer offers is dropped: its download is cancelled, the files
 *   this node synced are deleted (per the ownership record) and a shared path is forgotten;
 *   hand-placed files are never deleted;
 * - a missing model is used in place when the router's path is readable here (shared
 *   storage, no copy), else downloaded in the background (resumable, verified);
 * - a model the operator placed by hand under the same id wins and is not fetched.
 * Passes run on start, whenever the heartbeat's `models_version` moves, and again with
 * backoff after a failure (router down, file errors). A feed that cannot be read or parsed
 * changes nothing on disk.
 */
import { stat } from 'node:fs/promises';
import type { ModelDownload } from '@llm-router/protocol';
import type { Logger } from 'pino';
import { scanModelsDir } from '../models/catalog.js';
import type { DownloadSettings } from './downloader.js';
import type { Manifest, RemoteModel } from './feed.js';
import { type Clock, RateLimiter, realClock, Semaphore } from './limits.js';
import { ModelDownloadJob } from './model-job.js';
import { fileInModelDir } from './names.js';
import { findOwnedModels, type OwnedModel, removeOwnedModel } from './ownership.js';
import { DownloadProgress } from './progress.js';
import type { RouterModelsClient } from './router-models-client.js';
import { usableSharedPath } from './shared-path.js';

/** What the sync needs from the model manager: serve shared paths, and look again now. */
export interface SyncTarget {
  setExternalModels(models: ReadonlyMap<string, string>): void;
  rescan(): Promise<void>;
}

export interface SyncSettings extends DownloadSettings {
  concurrency: number;
  maxBytesPerSec: number;
  useSharedPath: boolean;
}

export interface ModelSyncOptions {
  modelsDir: string;
  client: RouterModelsClient;
  target: SyncTarget;
  settings: SyncSettings;
  retryInitialMs: number;
  retryMaxMs: number;
  log: Logger;
  clock?: Clock;
}

/** `fetch failed` alone says little; the cause's code (ECONNREFUSED, …) says what happened. */
function errorText(error: unknown): string {
  const cause = (error as { cause?: { code?: string } })?.cause;
  const message = (error as Error)?.message ?? String(error);
  return cause?.code ? `${message} (${cause.code})` : message;
}

async function filesIntact(owned: OwnedModel, manifest: Manifest): Promise<boolean> {
  for (const file of manifest.files) {
    const info = await stat(fileInModelDir(owned.dir, file.name)).catch(() => null);
    if (!info?.isFile() || (file.size !== null && info.size !== file.size)) return false;
  }
  return true;
}

export class ModelSync {
  readonly progress = new DownloadProgress();
  private readonly jobs = new Map<string, ModelDownloadJob>();
  /** Models served in place from shared storage: id → the router's path. */
  private readonly external = new Map<string, string>();
  /** Manifests whose files failed verification: not fetched again until the version moves. */
  private readonly rejected = new Map<string, string>();
  private readonly stopController = new AbortController();
  private readonly shared: { semaphore: Semaphore; rate: RateLimiter; clock: Clock };
  private readonly warned = new Set<string>();
  /** The last pass error, so an outage is logged once and not on every retry. */
  private lastError: string | null = null;
  /** The last error per model, for the same reason. */
  private readonly modelErrors = new Map<string, string>();
  private syncedVersion: number | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ModelSyncOptions) {
    const clock = options.clock ?? realClock;
    const { concurrency, maxBytesPerSec, chunkBytes } = options.settings;
    this.shared = {
      semaphore: new Semaphore(concurrency),
      rate: new RateLimiter(maxBytesPerSec, chunkBytes, clock),
      clock,
    };
  }

  start(): void {
    this.trigger();
  }

  /** The heartbeat reply's `models_version`: a version this node has not synced starts a pass. */
  notifyVersion(version: number): void {
    if (version === this.syncedVersion) return;
    this.rejected.clear();
    this.trigger();
  }

  /** For the heartbeat's `model_downloads`. */
  downloads(): ModelDownload[] {
    return this.progress.list();
  }

  /** Called when a download changes state (queued, downloading, …, done, error). */
  onChange(listener: () => void): void {
    this.progress.onStateChange(listener);
  }

  /** Resolves once no pass is running and no download is in flight (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.running || this.jobs.size > 0) {
      await this.running;
      await Promise.all([...this.jobs.values()].map((job) => job.done));
    }
  }

  async stop(): Promise<void> {
    this.stopController.abort(new Error('node shutting down'));
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // The pass first (it may still start a job), then every download.
    await this.running;
    await Promise.all([...this.jobs.values()].map((job) => job.cancel()));
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private trigger(): void {
    if (this.stopped) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      let ok = false;
      try {
        ok = await this.pass();
        if (ok && this.lastError) this.options.log.info('model sync works again');
        if (ok) this.lastError = null;
      } catch (error) {
        if (this.stopped) return;
        const message = errorText(error);
        if (message !== this.lastError) {
          this.options.log.warn({ error: message }, 'model sync failed; retrying with backoff');
        }
        this.lastError = message;
      }
      if (!ok && !this.again) this.scheduleRetry();
    } while (this.again && !this.stopped);
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const { retryInitialMs, retryMaxMs } = this.options;
    const delay = Math.min(retryMaxMs, retryInitialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        this.trigger();
      },
      delay * (0.8 + Math.random() * 0.4),
    );
    this.retryTimer.unref();
  }

  /** One pass; true when everything it could start went fine. */
  private async pass(): Promise<boolean> {
    const { client, modelsDir, log } = this.options;
    const signal = this.stopController.signal;
    const feed = await client.listModels(signal);
    if (feed === null) {
      this.warnOnce('no-feed', {}, 'the router has no model registry (GET /v0/models is 404); not syncing');
      return true;
    }
    for (const reason of feed.skipped)
      this.warnOnce(`skip:${reason}`, { reason }, 'ignoring a model in the feed');
    const remote = new Map(feed.models.map((m) => [m.id, m]));
    const offered = (id: string) => remote.get(id)?.wanted === true;
    let changed = false;

    // Drop what the router no longer offers.
    for (const [id, job] of [...this.jobs]) {
      if (offered(id)) continue;
      this.jobs.delete(id);
      await job.cancel();
    }
    const owned = await findOwnedModels(modelsDir);
    for (const [id, model] of owned) {
      if (offered(id)) continue;
      await removeOwnedModel(modelsDir, model);
      owned.delete(id);
      changed = true;
      log.info({ model: id }, 'the router dropped the model; deleted the files this node synced');
    }
    for (const id of [...this.external.keys()]) {
      if (offered(id)) continue;
      this.external.delete(id);
      changed = true;
      log.info({ model: id }, 'the router dropped the model; no longer serving it from shared storage');
    }
    for (const { model } of this.progress.list()) if (!offered(model)) this.progress.remove(model);
    for (const id of [...this.modelErrors.keys()]) if (!offered(id)) this.modelErrors.delete(id);

    // Fetch what is missing.
    const { entries } = await scanModelsDir(modelsDir);
    const handPlaced = new Set(entries.filter((e) => e.origin === 'local').map((e) => e.id));
    let ok = true;
    for (const model of remote.values()) {
      if (signal.aborted) return false;
      if (!model.wanted || !model.fetchable || this.jobs.has(model.id)) continue;
      if (handPlaced.has(model.id) && !owned.has(model.id)) {
        changed = this.external.delete(model.id) || changed;
        continue;
      }
      try {
        changed = (await this.ensure(model, owned.get(model.id))) || changed;
      } catch (error) {
        ok = false;
        this.modelFailed(model.id, errorText(error), 'cannot sync the model; retrying later');
      }
    }
    if (changed) {
      this.options.target.setExternalModels(new Map(this.external));
      await this.options.target.rescan();
    }
    if (ok) {
      this.syncedVersion = feed.version;
      if (this.jobs.size === 0) this.failures = 0;
    }
    return ok;
  }

  /** Makes one offered model available; true when what the node serves changed. */
  private async ensure(model: RemoteModel, owned: OwnedModel | undefined): Promise<boolean> {
    const manifest = await this.options.client.manifest(model, this.stopController.signal);
    if (this.rejected.get(model.id) === manifest.key) return false;
    const complete = owned?.record.state === 'complete' && owned.record.manifest_key === manifest.key;
    if (complete && owned && (await filesIntact(owned, manifest))) return this.external.delete(model.id);
    if (this.options.settings.useSharedPath) {
      const path = await usableSharedPath(model.path, manifest);
      if (path) {
        // A copy of ours (partial, or of older bytes) is not needed when the router's is readable.
        if (owned) await removeOwnedModel(this.options.modelsDir, owned);
        if (this.external.get(model.id) === path) return Boolean(owned);
        this.external.set(model.id, path);
        this.options.log.info({ model: model.id, path }, 'serving the model from shared storage (no copy)');
        return true;
      }
    }
    const wasExternal = this.external.delete(model.id);
    this.startJob(model, manifest);
    return wasExternal;
  }

  private startJob(model: RemoteModel, manifest: Manifest): void {
    if (this.stopped) return;
    const { log } = this.options;
    const job = new ModelDownloadJob(model, manifest, {
      modelsDir: this.options.modelsDir,
      client: this.options.client,
      settings: this.options.settings,
      shared: this.shared,
      progress: this.progress,
      log,
    });
    this.jobs.set(model.id, job);
    log.info({ model: model.id, files: manifest.files.length }, 'downloading the model from the router');
    void job.done
      .then(async (outcome) => {
        if (this.jobs.get(model.id) !== job) return; // cancelled or replaced by a later pass
        this.jobs.delete(model.id);
        if (outcome.ok) {
          this.failures = 0;
          this.modelErrors.delete(model.id);
          log.info({ model: model.id }, 'model synced and verified');
          await this.options.target.rescan();
          return;
        }
        if (outcome.cancelled) return;
        this.modelFailed(model.id, outcome.error, 'model download failed');
        // A file that failed its checksum every try is not fetched again until the router changes.
        if (outcome.checksum) this.rejected.set(model.id, manifest.key);
        else this.scheduleRetry();
      })
      .catch((error) => log.error({ err: error, model: model.id }, 'after a model download'));
  }

  private modelFailed(id: string, error: string, message: string): void {
    this.progress.fail(id, error);
    if (this.modelErrors.get(id) === error) return;
    this.modelErrors.set(id, error);
    this.options.log.warn({ model: id, error }, message);
  }

  private warnOnce(key: string, fields: object, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.options.log.warn(fields, message);
  }
}
