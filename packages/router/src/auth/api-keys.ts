/**
 * API keys: created once (the plaintext is returned a single time), stored as SHA-256 hashes,
 * and verified against an in-memory map so the request path never reads the database.
 * Every change goes through this class, which keeps the map and the table in step.
 */
import { randomUUID } from 'node:crypto';
import { API_KEY_SCOPES, type ApiKeyScope } from '@llm-router/protocol';
import { type Limits, limitsFromColumn, limitsToColumn } from '../limits/spec.js';
import type { RouterDatabase } from '../store/database.js';
import type { ApiKeysTable } from '../store/schema.js';
import { newApiKey, sha256Hex } from './secrets.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  keyPrefix: string;
  scopes: ApiKeyScope[];
  createdBy: string | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  /** Rate limits and token budgets of this key; null = none. */
  limits: Limits | null;
}

export type ApiKeyCheck = { ok: true; key: ApiKeyRecord } | { ok: false; reason: 'invalid' | 'expired' };

export interface CreateApiKeyInput {
  name: string;
  scopes: ApiKeyScope[];
  expiresAt?: number | null;
  createdBy?: string | null;
  limits?: Limits | null;
}

const LAST_USED_FLUSH_MS = 10_000;
/**
 * How often the in-memory map is re-read from the database, so that keys revoked by the CLI
 * or by another router replica (PostgreSQL) stop working here too.
 */
const RELOAD_MS = 30_000;
/** How long an unknown key is answered from memory before the database is asked again. */
const MISS_TTL_MS = 5_000;
const MAX_REMEMBERED_MISSES = 10_000;
/** Keys whose hash is remembered (those that matched a stored key; see `hashOf`). */
const MAX_REMEMBERED_HASHES = 1_000;

function recordFromRow(row: ApiKeysTable): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keyPrefix: row.key_prefix,
    scopes: (JSON.parse(row.scopes) as string[]).filter(isApiKeyScope),
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    limits: limitsFromColumn(row.limits),
  };
}

export function isApiKeyScope(value: string): value is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(value);
}

export class ApiKeyStore {
  private readonly byHash = new Map<string, ApiKeyRecord>();
  /** Keys used since the last flush; `last_used_at` is written in batches, off the request path. */
  private readonly usedSinceFlush = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly recentMisses = new Map<string, number>();
  /**
   * Presented key → its SHA-256, for keys that matched a stored key: hashing was the largest
   * cost of checking a known key. Only valid keys get in, so random keys cannot fill it, and
   * the verdict still comes from `byHash`, so a revoked key stops working at once.
   */
  private readonly hashes = new Map<string, string>();
  /** Counts creations and revocations made through this store, so a reload never undoes one. */
  private localChanges = 0;
  /** Called after every change made here (main announces it to the other replicas). */
  onChange: (() => void) | null = null;

  private constructor(private readonly db: RouterDatabase) {}

  static async load(db: RouterDatabase): Promise<ApiKeyStore> {
    const store = new ApiKeyStore(db);
    await store.reload();
    store.flushTimer = setInterval(() => void store.flushLastUsed(), LAST_USED_FLUSH_MS);
    store.flushTimer.unref();
    store.reloadTimer = setInterval(() => void store.reload().catch(() => {}), RELOAD_MS);
    store.reloadTimer.unref();
    return store;
  }

  /** Replaces the in-memory map with the table's contents. */
  async reload(): Promise<void> {
    const changesBefore = this.localChanges;
    const rows = await this.db.selectFrom('api_keys').selectAll().execute();
    const fresh = new Map<string, ApiKeyRecord>();
    for (const row of rows) fresh.set(row.key_hash, recordFromRow(row));
    // Uses not yet flushed are newer than what the table says.
    for (const record of fresh.values()) {
      const used = this.usedSinceFlush.get(record.id);
      if (used !== undefined) record.lastUsedAt = used;
    }
    // A key created or revoked here while the SELECT ran would be undone by the swap; skip it
    // this time, the next reload catches up.
    if (this.localChanges !== changesBefore) return;
    this.byHash.clear();
    for (const [hash, record] of fresh) this.byHash.set(hash, record);
  }

  async create(input: CreateApiKeyInput): Promise<{ key: string; record: ApiKeyRecord }> {
    const key = newApiKey();
    const record: ApiKeyRecord = {
      id: randomUUID(),
      name: input.name,
      keyPrefix: key.slice(0, 7),
      scopes: [...new Set(input.scopes)],
      createdBy: input.createdBy ?? null,
      createdAt: Date.now(),
      expiresAt: input.expiresAt ?? null,
      lastUsedAt: null,
      limits: input.limits ?? null,
    };
    const keyHash = sha256Hex(key);
    await this.db
      .insertInto('api_keys')
      .values({
        id: record.id,
        key_hash: keyHash,
        key_prefix: record.keyPrefix,
        name: record.name,
        created_by: record.createdBy,
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        scopes: JSON.stringify(record.scopes),
        last_used_at: null,
        limits: limitsToColumn(record.limits),
      })
      .execute();
    this.byHash.set(keyHash, record);
    this.localChanges++;
    this.onChange?.();
    return { key, record };
  }

  /**
   * Verifies a key. Known keys never touch the database, and are answered synchronously (the
   * request path then costs no promise). An unknown key is looked up once (it may have been
   * created by the CLI or another replica a moment ago); a miss is remembered for a few seconds
   * so repeated bad keys do not reach the database either.
   */
  check(key: string, now = Date.now()): ApiKeyCheck | Promise<ApiKeyCheck> {
    const hash = this.hashOf(key);
    const known = this.byHash.get(hash);
    if (known) {
      this.rememberHash(key, hash);
      return this.verdict(known, now);
    }
    return this.lookupUnknown(hash, now).then((found) => {
      if (!found) return { ok: false, reason: 'invalid' };
      this.rememberHash(key, hash);
      return this.verdict(found, now);
    });
  }

  private hashOf(key: string): string {
    return this.hashes.get(key) ?? sha256Hex(key);
  }

  private rememberHash(key: string, hash: string): void {
    if (this.hashes.has(key)) return;
    if (this.hashes.size >= MAX_REMEMBERED_HASHES) {
      const oldest = this.hashes.keys().next().value;
      if (oldest !== undefined) this.hashes.delete(oldest);
    }
    this.hashes.set(key, hash);
  }

  private verdict(record: ApiKeyRecord, now: number): ApiKeyCheck {
    if (record.expiresAt !== null && record.expiresAt <= now) return { ok: false, reason: 'expired' };
    record.lastUsedAt = now;
    this.usedSinceFlush.set(record.id, now);
    return { ok: true, key: record };
  }

  private async lookupUnknown(hash: string, now: number): Promise<ApiKeyRecord | undefined> {
    const missedAt = this.recentMisses.get(hash);
    if (missedAt !== undefined && now - missedAt < MISS_TTL_MS) return undefined;
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', hash)
      .executeTakeFirst();
    if (row) {
      const record = recordFromRow(row);
      this.byHash.set(hash, record);
      this.recentMisses.delete(hash);
      return record;
    }
    this.recentMisses.delete(hash);
    this.recentMisses.set(hash, now);
    if (this.recentMisses.size > MAX_REMEMBERED_MISSES) {
      const oldest = this.recentMisses.keys().next().value;
      if (oldest !== undefined) this.recentMisses.delete(oldest);
    }
    return undefined;
  }

  list(): ApiKeyRecord[] {
    return [...this.byHash.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Renames a key or changes its expiry; returns the updated record, or undefined if unknown. */
  async update(
    id: string,
    changes: { name?: string; expiresAt?: number | null; limits?: Limits | null },
  ): Promise<ApiKeyRecord | undefined> {
    let record = this.findById(id);
    if (!record) return undefined;
    const set: { name?: string; expires_at?: number | null; limits?: string | null } = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
    if (changes.limits !== undefined) set.limits = limitsToColumn(changes.limits);
    if (Object.keys(set).length > 0) {
      await this.db.updateTable('api_keys').set(set).where('id', '=', id).execute();
      // A reload that finished meanwhile replaced the records (with rows read before this
      // write): the change goes on the key's record as it is now.
      record = this.findById(id) ?? record;
    }
    if (changes.name !== undefined) record.name = changes.name;
    if (changes.expiresAt !== undefined) record.expiresAt = changes.expiresAt;
    if (changes.limits !== undefined) record.limits = changes.limits;
    this.localChanges++;
    this.onChange?.();
    return record;
  }

  findById(id: string): ApiKeyRecord | undefined {
    for (const record of this.byHash.values()) if (record.id === id) return record;
    return undefined;
  }

  /**
   * Deletes the key; it stops working immediately. Also finds keys this store has not loaded
   * yet (created by the CLI or another replica). Returns false when no such key exists.
   */
  async revoke(id: string): Promise<boolean> {
    const entry = [...this.byHash.entries()].find(([, record]) => record.id === id);
    const deleted = await this.db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
    if (!entry && Number(deleted.numDeletedRows) === 0) return false;
    if (entry) this.byHash.delete(entry[0]);
    this.localChanges++;
    this.onChange?.();
    return true;
  }

  async flushLastUsed(): Promise<void> {
    if (this.usedSinceFlush.size === 0) return;
    const batch = [...this.usedSinceFlush.entries()];
    this.usedSinceFlush.clear();
    for (const [id, at] of batch) {
      await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.reloadTimer);
    await this.flushLastUsed();
  }
}
