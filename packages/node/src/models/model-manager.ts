/**
 * The node's models: what the models directory holds (plus models model sync serves in
 * place from shared storage), what is loaded, and what is ready. Loading happens in the
 * background, one model at a time (memory), so the HTTP server is up before any model is.
 * `rescan()` picks up files added, changed or removed while running.
 */
import { mkdir, stat } from 'node:fs/promises';
import type { ModelCapability, NodeModel } from '@llm-router/protocol';
import { type Llama, readGgufFileInfo } from 'node-llama-cpp';
import type { Logger } from 'pino';
import { type CatalogEntry, scanModelsDir } from './catalog.js';
import { capabilitiesOf, LoadedModel, type LoadOptions } from './loaded-model.js';

export type ModelState = 'loading' | 'ready' | 'failed';

export interface ManagedModel {
  readonly id: string;
  entry: CatalogEntry;
  state: ModelState;
  capabilities: ModelCapability[] | undefined;
  loaded: LoadedModel | null;
  error: string | null;
}

/** A file this recently written may still be being copied in; the next scan looks again. */
const SETTLE_MS = 2000;

export class ModelManager {
  private readonly models = new Map<string, ManagedModel>();
  private readonly listeners: (() => void)[] = [];
  private scanning: Promise<void> | null = null;
  /** A scan asked for while one runs: it must see what changed after that one started. */
  private followUp: Promise<void> | null = null;
  /** Models outside the models dir (shared storage): id → path. */
  private external: ReadonlyMap<string, string> = new Map();
  private closed = false;
  private initialScanDone = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly llama: Llama,
    private readonly modelsDir: string,
    private readonly options: LoadOptions,
    private readonly log: Logger,
  ) {}

  /** Starts the first scan and load in the background, then rescans every `rescanSecs`. */
  start(rescanSecs: number): Promise<void> {
    const first = mkdir(this.modelsDir, { recursive: true })
      .catch((error) =>
        this.log.warn({ dir: this.modelsDir, error: error.message }, 'cannot create models dir'),
      )
      .then(() => this.rescan())
      .finally(() => {
        this.initialScanDone = true;
        // Closed while the first scan ran: the log may already be closed too.
        if (this.closed) return;
        this.log.info({ models: this.list() }, 'startup model loading finished');
        this.emitChange();
        if (rescanSecs > 0 && !this.closed) {
          this.timer = setInterval(() => void this.rescan(), rescanSecs * 1000);
          this.timer.unref();
        }
      });
    return first;
  }

  /** True once the models present at start have been tried (loaded or failed). */
  get started(): boolean {
    return this.initialScanDone;
  }

  /** True while anything is still loading: the router should not count this node ready yet. */
  get initializing(): boolean {
    return !this.initialScanDone || [...this.models.values()].some((m) => m.state === 'loading');
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  get(id: string): ManagedModel | undefined {
    return this.models.get(id);
  }

  all(): ManagedModel[] {
    return [...this.models.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** What registration and heartbeats report, with each generative model's sequence load. */
  list(): NodeModel[] {
    return this.all().map((m) => {
      const listed: NodeModel = { id: m.id, ready: m.state === 'ready', capabilities: m.capabilities };
      const pool = m.loaded?.pool;
      if (m.loaded && pool) {
        listed.sequences = pool.size;
        listed.busy_sequences = pool.busy;
        listed.queued_requests = pool.queued;
        listed.queue_limit = m.loaded.queueLimit;
        listed.loaded_at = m.loaded.loadedAt;
      }
      return listed;
    });
  }

  /** Requests waiting for a sequence, over all models. */
  queuedRequests(): number {
    return this.all().reduce((sum, m) => sum + (m.loaded?.pool?.queued ?? 0), 0);
  }

  /**
   * Scans the models directory. A call during a scan gets one more scan after it (shared by
   * every caller meanwhile), so a file renamed into place a moment ago is never missed.
   */
  rescan(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.scanning) {
      this.followUp ??= this.scanning.then(() => {
        this.followUp = null;
        return this.rescan();
      });
      return this.followUp;
    }
    this.scanning = this.scanOnce()
      .catch((error) => this.log.error({ err: error }, 'model scan failed'))
      .finally(() => {
        this.scanning = null;
      });
    return this.scanning;
  }

  /** Sets the models served in place from shared storage; takes effect at the next scan. */
  setExternalModels(models: ReadonlyMap<string, string>): void {
    this.external = new Map(models);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
    const models = [...this.models.values()];
    this.models.clear();
    await Promise.all(models.map((m) => m.loaded?.unload().catch(() => undefined)));
  }

  /** The models dir's entries plus the shared-storage ones whose id the dir does not use. */
  private async catalog(): Promise<CatalogEntry[]> {
    const { entries, warnings } = await scanModelsDir(this.modelsDir);
    for (const warning of warnings) this.log.warn(warning);
    const ids = new Set(entries.map((e) => e.id));
    for (const [id, path] of this.external) {
      if (ids.has(id)) continue;
      const info = await stat(path).catch(() => null);
      if (info?.isFile()) {
        entries.push({ id, path, sizeBytes: info.size, mtimeMs: info.mtimeMs, origin: 'shared' });
      }
    }
    return entries;
  }

  private async scanOnce(): Promise<void> {
    const entries = await this.catalog();
    const seen = new Set(entries.map((e) => e.id));
    for (const model of [...this.models.values()]) {
      if (!seen.has(model.id)) {
        this.log.info({ model: model.id }, 'model file removed; unloading');
        await this.remove(model);
      }
    }
    const now = Date.now();
    for (const entry of entries) {
      if (this.closed) return;
      const known = this.models.get(entry.id);
      const changed =
        known &&
        (known.entry.path !== entry.path ||
          known.entry.sizeBytes !== entry.sizeBytes ||
          known.entry.mtimeMs !== entry.mtimeMs);
      if (known && !changed) continue;
      // Synced and shared files were verified before they got their name: no need to wait.
      const settling = entry.origin === 'local' && now - entry.mtimeMs < SETTLE_MS;
      if (settling && this.initialScanDone) continue;
      if (known) {
        this.log.info({ model: entry.id }, 'model file changed; reloading');
        await this.remove(known);
      }
      await this.load(entry);
    }
  }

  private async remove(model: ManagedModel): Promise<void> {
    this.models.delete(model.id);
    this.emitChange();
    await model.loaded
      ?.unload()
      .catch((error) => this.log.warn({ err: error, model: model.id }, 'unload failed'));
  }

  private async load(entry: CatalogEntry): Promise<void> {
    const model: ManagedModel = {
      id: entry.id,
      entry,
      state: 'loading',
      capabilities: undefined,
      loaded: null,
      error: null,
    };
    this.models.set(entry.id, model);
    this.emitChange();
    const started = performance.now();
    try {
      model.capabilities = capabilitiesOf(await readGgufFileInfo(entry.path, { readTensorInfo: false }));
      const loaded = await LoadedModel.load(this.llama, entry, this.options);
      if (this.closed || this.models.get(entry.id) !== model) {
        await loaded.unload();
        return;
      }
      model.loaded = loaded;
      model.capabilities = loaded.capabilities;
      model.state = 'ready';
      this.log.info(
        {
          model: entry.id,
          path: entry.path,
          contextSize: loaded.contextSize,
          chatTemplate: loaded.chatWrapper ? loaded.chatWrapper.wrapperName : 'plain',
          ms: Math.round(performance.now() - started),
        },
        'model ready',
      );
    } catch (error) {
      model.state = 'failed';
      model.error = (error as Error).message;
      this.log.error({ model: entry.id, path: entry.path, error: model.error }, 'model failed to load');
    }
    this.emitChange();
  }

  private emitChange(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.log.error({ err: error }, 'model change listener failed');
      }
    }
  }
}
