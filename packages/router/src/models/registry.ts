/**
 * The model registry: every registered model in memory (routes and heartbeats never wait on
 * the database), written through to the database on each change. It owns `models_version`,
 * which moves forward whenever the set of models or their lifecycle changes.
 *
 * Router replicas sharing the database: each change is announced (`onChange`), and `refresh`
 * takes the other replicas' models and cache state from the database. A model whose cache
 * tasks run on this replica keeps its in-memory record: this replica is the one writing it.
 */
import type { Logger } from 'pino';
import type { RouterDatabase } from '../store/database.js';
import { ModelStore } from './store.js';
import type { LifecycleStatus, ModelFileRecord, ModelRecord, ModelTaskRecord } from './types.js';

/** Progress reaches the database at least this often while bytes are arriving. */
const PROGRESS_PERSIST_MS = 500;

export class ModelRegistry {
  private readonly models = new Map<string, ModelRecord>();
  private readonly pendingWrites = new Set<Promise<unknown>>();
  /** The latest write of each file's row (`inFileOrder`). */
  private readonly fileWrites = new Map<string, Promise<void>>();
  private readonly lastProgressWrite = new Map<string, number>();
  private readonly trailingWrites = new Map<string, { timer: NodeJS.Timeout; write: () => void }>();
  private currentVersion = 0;
  /** Moves when an add or remove here starts and when it ends, so a refresh that raced one reads again. */
  private localEpoch = 0;
  /** Adds and removes here still on their way to the database: a refresh waits for them. */
  private readonly addsAndRemovesInFlight = new Set<Promise<unknown>>();
  /**
   * When each model's last write here landed (`localChanges` ticks), and how many of its
   * writes are still on their way: a refresh whose read began before the one landed, or
   * overlaps one still going, may hold the row from before the change, and keeps this
   * replica's record instead.
   */
  private readonly changedAt = new Map<string, number>();
  private readonly writesInFlight = new Map<string, number>();
  private localChanges = 0;
  /** Set by main: the set of models or a lifecycle changed here; the other replicas are told. */
  onChange: (() => void) | null = null;

  private constructor(
    readonly store: ModelStore,
    private readonly log: Logger,
  ) {}

  static async load(db: RouterDatabase, log: Logger): Promise<ModelRegistry> {
    const registry = new ModelRegistry(new ModelStore(db), log);
    for (const record of await registry.store.loadAll()) registry.models.set(record.id, record);
    registry.currentVersion = await registry.store.readVersion();
    return registry;
  }

  /** The heartbeat's `models_version`: persisted, so it never goes backwards across restarts. */
  get version(): number {
    return this.currentVersion;
  }

  get(id: string): ModelRecord | undefined {
    return this.models.get(id);
  }

  all(): ModelRecord[] {
    return [...this.models.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Adds a new model; false when the id is taken (by this router or another replica). */
  async add(record: ModelRecord): Promise<boolean> {
    if (this.models.has(record.id)) return false;
    return this.changeSet(async () => {
      if (!(await this.store.insertModel(record))) return false;
      this.models.set(record.id, record);
      this.currentVersion++;
      await this.persistVersion();
      return true;
    });
  }

  async remove(id: string): Promise<boolean> {
    await this.flush();
    return this.changeSet(async () => {
      this.changedAt.delete(id);
      const known = this.models.delete(id);
      if (known) this.currentVersion++;
      const deleted = await this.store.deleteModel(id);
      if (!known && deleted) this.currentVersion++;
      if (known || deleted) await this.persistVersion();
      return known || deleted;
    });
  }

  /**
   * Runs an add or a remove here. A refresh must not read the models while one is on its way:
   * a removal deletes the model's rows in several statements, and a refresh reading between
   * them would bring the model back, so that registering it again answered 409.
   */
  private async changeSet<T>(change: () => Promise<T>): Promise<T> {
    this.localEpoch++;
    const running = change();
    this.addsAndRemovesInFlight.add(running);
    try {
      return await running;
    } finally {
      this.addsAndRemovesInFlight.delete(running);
      this.localEpoch++;
    }
  }

  async setLifecycle(
    record: ModelRecord,
    status: LifecycleStatus,
    error: string | null = null,
  ): Promise<void> {
    const changed = record.lifecycleStatus !== status || record.error !== error;
    record.lifecycleStatus = status;
    record.error = error;
    record.updatedAt = Date.now();
    if (status === 'registered') record.cachedAt = record.updatedAt;
    if (!this.models.has(record.id)) return;
    if (changed) this.currentVersion++;
    await this.changeHere(record.id, () => this.store.updateModel(record));
    if (changed) await this.persistVersion();
  }

  async saveModel(record: ModelRecord): Promise<void> {
    record.updatedAt = Date.now();
    if (this.models.has(record.id)) await this.changeHere(record.id, () => this.store.updateModel(record));
  }

  async saveFile(record: ModelRecord, file: ModelFileRecord): Promise<void> {
    if (!record.files.includes(file)) record.files.push(file);
    if (!this.models.has(record.id)) return;
    await this.changeHere(record.id, () =>
      this.inFileOrder(record.id, file.name, () => this.store.upsertFile(record.id, file)),
    );
  }

  /** Writes a change made here, noting it for `refresh` while it is on its way and once it landed. */
  private async changeHere(id: string, write: () => Promise<unknown>): Promise<void> {
    this.writesInFlight.set(id, (this.writesInFlight.get(id) ?? 0) + 1);
    try {
      await write();
    } finally {
      const left = (this.writesInFlight.get(id) ?? 1) - 1;
      if (left > 0) this.writesInFlight.set(id, left);
      else this.writesInFlight.delete(id);
      if (this.models.has(id)) this.changedAt.set(id, ++this.localChanges);
    }
  }

  /** True when `id` changed here after a read that began at `readFrom`, or is changing now. */
  private changedSince(id: string, readFrom: number): boolean {
    return this.writesInFlight.has(id) || (this.changedAt.get(id) ?? 0) > readFrom;
  }

  /**
   * Runs a write of one file's row after the writes of that row issued before it. On
   * PostgreSQL two writes may take two pooled connections and land in either order: a
   * background write from mid-download (the ETag) landing after the final one left a cached
   * file with no sha256.
   */
  private inFileOrder(modelId: string, name: string, write: () => Promise<void>): Promise<void> {
    const key = `${modelId}\u0000${name}`;
    const previous = this.fileWrites.get(key);
    const next = previous ? previous.then(write, write) : write();
    this.fileWrites.set(key, next);
    const forget = () => {
      if (this.fileWrites.get(key) === next) this.fileWrites.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  async dropFile(record: ModelRecord, name: string): Promise<void> {
    record.files = record.files.filter((f) => f.name !== name);
    if (this.models.has(record.id))
      await this.changeHere(record.id, () => this.store.deleteFile(record.id, name));
  }

  async saveTask(record: ModelRecord, task: ModelTaskRecord): Promise<void> {
    task.updatedAt = Date.now();
    if (!record.tasks.includes(task)) record.tasks.push(task);
    if (this.models.has(record.id)) await this.changeHere(record.id, () => this.store.upsertTask(task));
  }

  /**
   * Live byte count for a file. It reaches the database at most every PROGRESS_PERSIST_MS, and
   * a trailing write makes sure the last count lands even when bytes stop arriving (a stall).
   */
  noteProgress(record: ModelRecord, file: ModelFileRecord, bytes: number): void {
    file.bytesDownloaded = bytes;
    const key = `${record.id}\0${file.name}`;
    const wait = PROGRESS_PERSIST_MS - (Date.now() - (this.lastProgressWrite.get(key) ?? 0));
    if (wait <= 0) {
      this.writeProgress(key, record, file);
      return;
    }
    if (this.trailingWrites.has(key)) return;
    const timer = setTimeout(() => this.writeProgress(key, record, file), wait);
    timer.unref();
    this.trailingWrites.set(key, { timer, write: () => this.writeProgress(key, record, file) });
  }

  /**
   * Takes the database's models as they are now: models another replica registered appear,
   * models it deleted go (returned, so their local tasks can be stopped), and the cache state
   * of the rest follows the database, except for the models `isLocal` says this replica caches
   * and those that changed here while the rows were read (the next refresh takes them).
   */
  async refresh(isLocal: (id: string) => boolean): Promise<{ removed: string[]; changed: boolean }> {
    for (;;) {
      await Promise.allSettled([...this.addsAndRemovesInFlight]);
      const epoch = this.localEpoch;
      const readFrom = this.localChanges;
      const known = new Set(this.models.keys());
      const [records, version] = await Promise.all([this.store.loadAll(), this.store.readVersion()]);
      // An add or remove here started or ended while the rows were read: they may be from
      // before it, or from the middle of it; read again.
      if (epoch !== this.localEpoch) continue;
      const stored = new Map(records.map((r) => [r.id, r]));
      const removed: string[] = [];
      let changed = false;
      for (const id of known) {
        if (!stored.has(id) && this.models.delete(id)) {
          this.changedAt.delete(id);
          removed.push(id);
          changed = true;
        }
      }
      for (const record of records) {
        const current = this.models.get(record.id);
        if (current && (isLocal(record.id) || this.changedSince(record.id, readFrom))) continue;
        if (!current || JSON.stringify(current) !== JSON.stringify(record)) changed = true;
        this.models.set(record.id, record);
      }
      this.currentVersion = Math.max(this.currentVersion, version);
      return { removed, changed };
    }
  }

  /**
   * Takes one model's record from the database (after this replica took its task lease: another
   * replica may have moved it on). Undefined when it is no longer registered.
   */
  async reload(id: string): Promise<ModelRecord | undefined> {
    await this.flush();
    const record = await this.store.loadOne(id);
    if (record && this.models.has(id)) this.models.set(id, record);
    return record && this.models.get(id);
  }

  /** Waits for background writes (progress) to land; called before shutdown and deletes. */
  async flush(): Promise<void> {
    for (const trailing of [...this.trailingWrites.values()]) trailing.write();
    while (this.pendingWrites.size > 0) await Promise.allSettled([...this.pendingWrites]);
  }

  private writeProgress(key: string, record: ModelRecord, file: ModelFileRecord): void {
    const trailing = this.trailingWrites.get(key);
    if (trailing) clearTimeout(trailing.timer);
    this.trailingWrites.delete(key);
    this.lastProgressWrite.set(key, Date.now());
    if (!this.models.has(record.id)) return;
    const bytes = file.bytesDownloaded;
    this.background(
      this.inFileOrder(record.id, file.name, () => this.store.saveProgress(record.id, file.name, bytes)),
    );
  }

  /** Runs a write without waiting for it; `flush` waits for all of them. */
  background(write: Promise<unknown>): void {
    const tracked = write
      .catch((error) => this.log.warn({ err: error }, 'failed to persist model state'))
      .finally(() => this.pendingWrites.delete(tracked));
    this.pendingWrites.add(tracked);
  }

  /**
   * A change moves `models_version` twice. In memory at once, in the same tick as the change, so
   * that the version a feed carries always names what the feed lists (else a node reading it
   * between the change and the database's answer got the new state under the old version). In
   * the database here, after the change's own rows: a replica that reads the new version must
   * find them.
   */
  private async persistVersion(): Promise<void> {
    try {
      this.currentVersion = Math.max(this.currentVersion, await this.store.bumpVersion());
      this.onChange?.();
    } catch (error) {
      // Nodes still learn of the change from the in-memory counter; the next change re-syncs.
      this.log.error({ err: error }, 'failed to persist models_version');
    }
  }
}
