/**
 * The node's models: what the models directory holds (plus models model sync serves in
 * place from shared storage), what is loaded, and what is ready. Loading happens in the
 * background, one model at a time (memory), so the HTTP server is up before any model is.
 * `rescan()` picks up files added, changed or removed while running. With a cap on loaded
 * models (LLM_MAX_LOADED_MODELS), models beyond it stay `unloaded` (still served: `acquire`
 * loads one on demand, unloading the least recently used model first).
 */
import { stat } from 'node:fs/promises';
import { type ModelCapability, makeDirSync, type NodeModel } from '@llm-router/protocol';
import { type Llama, readGgufFileInfo } from 'node-llama-cpp';
import type { Logger } from 'pino';
import { type CatalogEntry, scanModelsDir } from './catalog.js';
import { capabilitiesOf, LoadedModel, type LoadOptions } from './loaded-model.js';

export type ModelState = 'loading' | 'ready' | 'failed' | 'unloaded';

export interface ManagedModel {
  readonly id: string;
  entry: CatalogEntry;
  state: ModelState;
  capabilities: ModelCapability[] | undefined;
  loaded: LoadedModel | null;
  error: string | null;
  /** How long the last load took (file read to ready), for `/metrics/prom`; null until loaded. */
  loadSeconds: number | null;
  /** When a request last used (or the node last loaded) the model; drives LRU unloading. */
  lastUsedAt: number;
  /** An on-demand load in progress, which requests for the model wait for. */
  loading: Promise<void> | null;
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
    /** Most models loaded at once; 0 = no limit. */
    private readonly maxLoaded = 0,
  ) {}

  /** Starts the first scan and load in the background, then rescans every `rescanSecs`. */
  start(rescanSecs: number): Promise<void> {
    // makeDirSync, not mkdir's recursive mode: that one never settles on paths such as /proc.
    const first = Promise.resolve()
      .then(() => makeDirSync(this.modelsDir))
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
    // An unloaded model is served (loaded on demand), so the router may route to it.
    return this.all().map((m) => {
      const listed: NodeModel = {
        id: m.id,
        ready: m.state === 'ready' || m.state === 'unloaded',
        capabilities: m.capabilities,
      };
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

  /**
   * The model for a request, loaded: an unloaded model is loaded now (unloading the least
   * recently used one when the cap is reached). Undefined when the node has no such model.
   */
  async acquire(id: string): Promise<ManagedModel | undefined> {
    const model = this.models.get(id);
    if (!model) return undefined;
    model.lastUsedAt = Date.now();
    if (model.state === 'unloaded') {
      model.loading ??= this.loadOnDemand(model).finally(() => {
        model.loading = null;
      });
    }
    if (model.loading) await model.loading;
    return this.models.get(id);
  }

  /** Models loaded (or being loaded) right now. */
  loadedCount(): number {
    return [...this.models.values()].filter((m) => m.state === 'ready' || m.state === 'loading').length;
  }

  private async loadOnDemand(model: ManagedModel): Promise<void> {
    await this.makeRoomFor(model);
    if (this.models.get(model.id) !== model || this.closed) return;
    await this.bringUp(model);
  }

  /** Unloads least recently used ready models until one more fits under the cap. */
  private async makeRoomFor(keep: ManagedModel): Promise<void> {
    if (this.maxLoaded <= 0) return;
    while (this.loadedCount() >= this.maxLoaded) {
      const victim = [...this.models.values()]
        .filter((m) => m !== keep && m.state === 'ready' && m.loaded)
        .sort((a, b) => a.lastUsedAt - b.lastUsedAt)[0];
      if (!victim) return;
      const loaded = victim.loaded;
      victim.state = 'unloaded';
      victim.loaded = null;
      this.log.info(
        { model: victim.id, for: keep.id, max: this.maxLoaded },
        'unloading least recently used model',
      );
      this.emitChange();
      await loaded
        ?.unload()
        .catch((error) => this.log.warn({ err: error, model: victim.id }, 'unload failed'));
    }
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
      loadSeconds: null,
      lastUsedAt: Date.now(),
      loading: null,
    };
    this.models.set(entry.id, model);
    this.emitChange();
    if (this.maxLoaded > 0 && this.loadedCount() > this.maxLoaded) {
      // Over the cap: known and served, loaded when a request needs it.
      try {
        model.capabilities = capabilitiesOf(await readGgufFileInfo(entry.path, { readTensorInfo: false }));
        model.state = 'unloaded';
        this.log.info({ model: entry.id, max: this.maxLoaded }, 'model left unloaded until requested');
      } catch (error) {
        model.state = 'failed';
        model.error = (error as Error).message;
      }
      this.emitChange();
      return;
    }
    await this.bringUp(model);
  }

  /** Loads a known model into memory and marks it ready (or failed). */
  private async bringUp(model: ManagedModel): Promise<void> {
    const entry = model.entry;
    model.state = 'loading';
    model.error = null;
    this.emitChange();
    const started = performance.now();
    try {
      model.capabilities ??= capabilitiesOf(await readGgufFileInfo(entry.path, { readTensorInfo: false }));
      const loaded = await LoadedModel.load(this.llama, entry, this.options);
      if (this.closed || this.models.get(entry.id) !== model) {
        await loaded.unload();
        return;
      }
      model.loaded = loaded;
      model.capabilities = loaded.capabilities;
      model.state = 'ready';
      model.loadSeconds = (performance.now() - started) / 1000;
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
