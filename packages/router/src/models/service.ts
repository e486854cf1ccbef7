/**
 * The model registry's public face, what `main.ts` wires: registration, deletion, discovery,
 * the node feed and file lookups, `modelsVersion()` for heartbeats and `listForApi()` for
 * `/v1/models`. It owns the registry, the hub client and the task queue, and closes them.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ModelsConfig } from '../config/config.js';
import { HttpError, notFound } from '../http/errors.js';
import type { ChangeFeed } from '../store/change-feed.js';
import type { RouterDatabase } from '../store/database.js';
import { modelDirOf, modelFilePath, removeModelDir } from './cache-dir.js';
import { GgufDiscovery } from './discover.js';
import { HubClient } from './hf-client.js';
import { parseRepoInput } from './ids.js';
import { duplicate, type GpuMemorySource, planRegistration, type RegisterModelInput } from './register.js';
import { ModelRegistry } from './registry.js';
import { localHolderId, TaskLeases } from './task-lease.js';
import { CacheTaskQueue } from './tasks.js';
import { type ModelRecord, primaryFile, servedFiles } from './types.js';
import {
  type ApiModelEntry,
  apiEntry,
  detailEntry,
  downloadProgress,
  feedEntry,
  manifestOf,
  manifestUrlOf,
} from './views.js';

export interface ModelServiceOptions {
  db: RouterDatabase;
  config: ModelsConfig;
  /** The node registry: registration warns when no node has enough GPU memory. */
  fleet: GpuMemorySource;
  log: Logger;
}

/** While another replica caches a model, its progress is read from the database this often. */
const REPLICA_PROGRESS_MS = 1000;

export class ModelService {
  private readonly locks = new Map<string, Promise<unknown>>();
  private replicaTimer: NodeJS.Timeout | undefined;
  private adoptTimer: NodeJS.Timeout | undefined;
  private adopting: Promise<void> | null = null;
  private refreshing: Promise<void> | null = null;
  readonly discovery: GgufDiscovery;

  private constructor(
    readonly registry: ModelRegistry,
    readonly hub: HubClient,
    private readonly queue: CacheTaskQueue,
    private readonly leases: TaskLeases,
    private readonly options: ModelServiceOptions,
  ) {
    this.discovery = new GgufDiscovery(hub);
  }

  /** Loads the registry and resumes unfinished cache tasks (downloads continue with Range). */
  static async start(options: ModelServiceOptions): Promise<ModelService> {
    const { config, log } = options;
    const registry = await ModelRegistry.load(options.db, log);
    const hub = new HubClient({ baseUrl: config.hfBaseUrl, token: config.hfToken });
    const leases = new TaskLeases(options.db, localHolderId(randomUUID()), config.taskLeaseMs);
    // A router killed on this machine left its leases behind: its downloads resume now, not
    // after the leases expire (a holder on another machine can only expire).
    await leases.clearDeadLocalHolders();
    const queue = new CacheTaskQueue({
      registry,
      hub,
      modelsDir: config.dir,
      concurrency: config.concurrency,
      retries: config.downloadRetries,
      backoffMs: config.retryBackoffMs,
      quantizeBin: config.quantizeBin,
      leases,
      log,
    });
    const service = new ModelService(registry, hub, queue, leases, options);
    await queue.resume();
    // A replica that died mid-download leaves its lease to expire: another one takes over.
    service.adoptTimer = setInterval(() => void service.adoptOrphans(), Math.max(1, config.taskLeaseMs / 2));
    service.adoptTimer.unref();
    return service;
  }

  /** Models being cached with no live lease (their replica died): their tasks continue here. */
  adoptOrphans(): Promise<void> {
    const orphans = () =>
      this.registry
        .all()
        .filter(
          (r) =>
            (r.lifecycleStatus === 'pending' || r.lifecycleStatus === 'caching') && !this.queue.holds(r.id),
        );
    this.adopting ??= (async () => {
      if (orphans().length === 0) return;
      await this.refresh();
      await this.queue.adopt(orphans());
    })()
      .catch((error) => this.options.log.warn({ err: error }, 'taking over model tasks failed'))
      .finally(() => {
        this.adopting = null;
      });
    return this.adopting;
  }

  /**
   * Router replicas sharing the database: announces this replica's changes on the feed, takes
   * the others' at once when the feed says models changed, and follows the progress of models
   * another replica is caching (their byte counts reach the database every 500 ms).
   */
  followReplicas(feed: ChangeFeed): void {
    this.registry.onChange = () => {
      feed
        .notify('models')
        .catch((error) => this.options.log.warn({ err: error }, 'announcing a model change failed'));
    };
    feed.on('models', () => void this.refresh());
    this.replicaTimer = setInterval(() => {
      const cachingElsewhere = this.registry
        .all()
        .some(
          (r) =>
            (r.lifecycleStatus === 'pending' || r.lifecycleStatus === 'caching') && !this.queue.holds(r.id),
        );
      if (cachingElsewhere) void this.refresh();
    }, REPLICA_PROGRESS_MS);
    this.replicaTimer.unref();
  }

  /** Reads the registry back from the database (see `ModelRegistry.refresh`); one run at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.registry
      .refresh((id) => this.queue.holds(id))
      .then(async ({ removed }) => {
        for (const id of removed) {
          await this.queue.cancel(id);
          this.options.log.info({ model: id }, 'model deleted on another replica');
        }
      })
      .catch((error) => this.options.log.warn({ err: error }, 'reading models from the database failed'))
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** For metrics: models whose cache tasks run on this replica, those taken up, leases lost. */
  taskLeaseStats(): { running: number; takenUp: number; lost: number } {
    return { running: this.queue.runningCount, ...this.queue.leaseStats };
  }

  /** Heartbeat `models_version`: bumps when models are added, removed or change lifecycle. */
  modelsVersion(): number {
    return this.registry.version;
  }

  /** Registered models for `/v1/models`, with `lifecycle_status`, `download_progress` and `ready`. */
  listForApi(): ApiModelEntry[] {
    return this.registry.all().map(apiEntry);
  }

  /**
   * For the `/v1` path: false for a registered model no node engine can run (safetensors), so
   * it is never routed; undefined for models the registry does not know (fleet-only models).
   */
  isServable(id: string): boolean | undefined {
    return this.registry.get(id.toLowerCase())?.servable;
  }

  getForApi(id: string): ApiModelEntry | undefined {
    const record = this.registry.get(id.toLowerCase());
    return record && apiEntry(record);
  }

  async register(input: RegisterModelInput) {
    return this.withLock(parseRepoInput(input.repo, this.hub.baseUrl).id, async () => {
      const record = await planRegistration(
        {
          hub: this.hub,
          fleet: this.options.fleet,
          canQuantize: Boolean(this.options.config.quantizeBin),
          isTaken: (id) => this.registry.get(id) !== undefined,
        },
        input,
      );
      // The lease first: no other replica may start on the id's folder while it is cleared.
      if (!(await this.leases.acquire(record.id))) throw duplicate(record.id);
      if (!(await this.registry.add(record))) {
        await this.leases.release(record.id);
        throw duplicate(record.id);
      }
      // Leftovers of an earlier registration of this id must not be resumed into the new one.
      await removeModelDir(this.options.config.dir, record.id);
      this.options.log.info(
        { model: record.id, format: record.format, file: record.filename },
        'model registered',
      );
      this.queue.schedule(record.id);
      return {
        name: record.id,
        status: 'registered',
        lifecycle_status: record.lifecycleStatus,
        display_name: record.displayName,
        repo: record.repo,
        revision: record.revision,
        format: record.format,
        filename: record.filename,
        quantization: record.quantization,
        gguf_policy: record.ggufPolicy,
        size_bytes: record.sizeBytes,
        required_memory_bytes: record.requiredMemoryBytes,
        warnings: record.warnings,
        servable: record.servable,
        servable_reason: record.servableReason,
        chat_template: record.chatTemplate,
        download_progress: downloadProgress(record),
        manifest_url: manifestUrlOf(record.id),
      };
    });
  }

  /** Cancels the model's tasks, removes its cache folder and unregisters it. False if unknown. */
  async remove(id: string): Promise<boolean> {
    return this.withLock(id, async () => {
      if (!this.registry.get(id)) return false;
      await this.queue.cancel(id);
      await removeModelDir(this.options.config.dir, id);
      await this.registry.remove(id);
      // Whoever held it: a replica still caching it stops on its next renewal or refresh.
      await this.leases.drop(id);
      this.options.log.info({ model: id }, 'model deleted');
      return true;
    });
  }

  feed() {
    return this.registry.all().map((r) => feedEntry(r, this.hub, this.dirOf(r)));
  }

  detail(id: string) {
    const record = this.require(id);
    return detailEntry(record, this.hub, this.dirOf(record));
  }

  manifest(id: string) {
    return manifestOf(this.requireCached(id));
  }

  /** A verified file of a cached model, by its manifest name. */
  file(id: string, name: string) {
    const record = this.requireCached(id);
    const file = servedFiles(record).find((f) => f.name === name && f.status === 'done');
    if (!file) throw notFound(`Model '${id}' has no file '${name}'`, 'file_not_found');
    return { path: modelFilePath(this.options.config.dir, id, name), name, sha256: file.sha256 };
  }

  /** The legacy blob: the single `model.gguf` of a cached GGUF model. */
  blob(id: string) {
    const record = this.requireCached(id);
    const primary = primaryFile(record);
    if (record.format !== 'gguf' || primary?.name !== 'model.gguf') {
      throw notFound(
        `Model '${id}' is not a single GGUF file; fetch it through its manifest`,
        'blob_unavailable',
      );
    }
    return this.file(id, primary.name);
  }

  async close(): Promise<void> {
    clearInterval(this.replicaTimer);
    clearInterval(this.adoptTimer);
    this.registry.onChange = null;
    await this.refreshing;
    await this.adopting;
    await this.queue.close();
  }

  private dirOf(record: ModelRecord): string {
    return modelDirOf(this.options.config.dir, record.id);
  }

  private require(id: string): ModelRecord {
    const record = this.registry.get(id);
    if (!record) throw notFound(`Model '${id}' is not registered`, 'model_not_found');
    return record;
  }

  private requireCached(id: string): ModelRecord {
    const record = this.require(id);
    if (record.lifecycleStatus !== 'registered') {
      const detail =
        record.lifecycleStatus === 'error' ? `failed: ${record.error}` : `is ${record.lifecycleStatus}`;
      throw new HttpError(409, `Model '${id}' is not cached yet (it ${detail})`, 'model_not_ready');
    }
    return record;
  }

  /** Runs register/delete of one id one at a time, so they never interleave. */
  private async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(work);
    this.locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key);
    }
  }
}
