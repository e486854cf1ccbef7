/**
 * A replica's refresh reads the models table while this replica may be moving one of its own
 * models on (a download finishing, a lifecycle change). The rows read may predate that change;
 * applying them would turn a model this replica just made `registered` back into `caching`
 * until the next refresh, and a node asking for its manifest in between would get a 409.
 * Each race is set up with held queries (support/held-queries.ts), the same on both databases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/models/registry.js';
import type { ModelRecord } from '../../src/models/types.js';
import { openDatabase, type RouterDatabase } from '../../src/store/database.js';
import { type HoldingDatabase, holdingDatabase } from '../support/held-queries.js';
import { freshDatabaseUrl } from '../support/router-harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshRegistry(): Promise<{
  registry: ModelRegistry;
  db: RouterDatabase;
  held: HoldingDatabase;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-router-registry-'));
  const database = await freshDatabaseUrl(dir);
  const db = await openDatabase(database.url);
  cleanups.push(async () => {
    await db.destroy();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const held = holdingDatabase(db);
  return { registry: await ModelRegistry.load(held.db, pino({ level: 'silent' })), db, held };
}

function record(id: string): ModelRecord {
  const now = Date.now();
  return {
    id,
    repo: id,
    revision: 'a'.repeat(40),
    displayName: id,
    format: 'gguf',
    filename: 'model.gguf',
    quantization: null,
    ggufPolicy: null,
    chatTemplate: null,
    sizeBytes: 10,
    requiredMemoryBytes: 15,
    servable: true,
    servableReason: null,
    capabilities: ['chat'],
    warnings: [],
    lifecycleStatus: 'pending',
    error: null,
    createdAt: now,
    updatedAt: now,
    cachedAt: null,
    files: [],
    tasks: [],
  };
}

/** A fresh registry holding `id`, which this replica is caching (as a download running here). */
async function withCachingModel(id: string) {
  const env = await freshRegistry();
  const model = record(id);
  expect(await env.registry.add(model)).toBe(true);
  await env.registry.setLifecycle(model, 'caching');
  return { ...env, model };
}

describe('model registry refresh', () => {
  it('keeps a lifecycle change made here while the refresh was reading', async () => {
    const { registry, held, model } = await withCachingModel('org/racing');
    // The refresh reads the models (still caching) and hands its rows over only after the
    // download finished here, when the task no longer holds the model (so it is not local).
    const read = held.holdNext('selectFrom', 'after');
    const refreshing = registry.refresh(() => false);
    await read.reached;
    await registry.setLifecycle(model, 'registered');
    read.release();
    await refreshing;
    expect(registry.get(model.id)?.lifecycleStatus).toBe('registered');
  });

  it('keeps a change whose write had not landed when the refresh read', async () => {
    const { registry, held, model } = await withCachingModel('org/writing');
    // The write of `registered` is on its way (another pooled connection, say) while a whole
    // refresh reads the row from before it.
    const write = held.holdNext('updateTable', 'before');
    const finishing = registry.setLifecycle(model, 'registered');
    await write.reached;
    await registry.refresh(() => false);
    expect(registry.get(model.id)?.lifecycleStatus).toBe('registered');
    write.release();
    await finishing;
    await registry.refresh(() => false);
    expect(registry.get(model.id)?.lifecycleStatus).toBe('registered');
  });

  it('does not bring back a model whose removal here is still on its way', async () => {
    const { registry, held, model } = await withCachingModel('org/leaving');
    // The removal deletes the model's rows in several statements; a refresh reading between
    // them would see the model and put it back, and registering it again would answer 409.
    const deleting = held.holdNext('deleteFrom', 'before');
    const removing = registry.remove(model.id);
    await deleting.reached;
    const refreshing = registry.refresh(() => false);
    await new Promise((wait) => setTimeout(wait, 50));
    deleting.release();
    expect(await removing).toBe(true);
    await refreshing;
    expect(registry.get(model.id)).toBeUndefined();
    expect(await registry.add(record(model.id))).toBe(true);
  });

  it('still takes another replica’s change once nothing here moved the model', async () => {
    const { registry, db, model } = await withCachingModel('org/elsewhere');
    // Another replica finishes the download: only the database row changes.
    await db
      .updateTable('models')
      .set({ lifecycle_status: 'registered' })
      .where('id', '=', model.id)
      .execute();
    await registry.refresh(() => false);
    expect(registry.get(model.id)?.lifecycleStatus).toBe('registered');
  });
});

describe('models_version', () => {
  it('moves with a lifecycle change at once, so a feed never lists the change under the old version', async () => {
    const { registry, db, held, model } = await withCachingModel('org/versioned');
    const before = registry.version;
    const write = held.holdNext('updateTable', 'before');
    const finishing = registry.setLifecycle(model, 'registered');
    await write.reached;
    // The database has stored neither the row nor the version yet; what a feed reads now moved.
    expect(registry.get(model.id)?.lifecycleStatus).toBe('registered');
    expect(registry.version).toBe(before + 1);
    write.release();
    await finishing;
    expect(registry.version).toBe(before + 1);
    const stored = await db
      .selectFrom('model_registry_state')
      .select('value')
      .where('key', '=', 'models_version')
      .executeTakeFirstOrThrow();
    expect(Number(stored.value)).toBe(before + 1);
  });

  it('moves with a removal at once, and once only', async () => {
    const { registry, held, model } = await withCachingModel('org/removed');
    const before = registry.version;
    const deleting = held.holdNext('deleteFrom', 'before');
    const removing = registry.remove(model.id);
    await deleting.reached;
    expect(registry.get(model.id)).toBeUndefined();
    expect(registry.version).toBe(before + 1);
    deleting.release();
    expect(await removing).toBe(true);
    expect(registry.version).toBe(before + 1);
  });
});
