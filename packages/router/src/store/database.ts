/**
 * Opens the router database from `LLM_ROUTER_DATABASE_URL` (SQLite by default, PostgreSQL for
 * several router replicas) and brings its schema up to date.
 */

import { dirname } from 'node:path';
import { makeDirSync } from '@llm-router/protocol';
import SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import {
  Kysely as KyselyRuntime,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
} from './kysely-runtime.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export type RouterDatabase = Kysely<Database>;

const sqliteHandles = new WeakMap<RouterDatabase, SQLite.Database>();

/**
 * The better-sqlite3 handle behind a SQLite router database (undefined for PostgreSQL), for
 * the one hot write that cannot afford Kysely's per-query compile and prepare: request history.
 */
export function sqliteHandleOf(db: RouterDatabase): SQLite.Database | undefined {
  return sqliteHandles.get(db);
}

/** True when the database is PostgreSQL (row locks, LISTEN/NOTIFY); false for SQLite. */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function openDatabase(url: string): Promise<RouterDatabase> {
  const db = url.startsWith('postgres') ? await openPostgres(url) : openSqlite(url.replace(/^sqlite:/, ''));
  await migrateToLatest(db);
  return db;
}

function openSqlite(path: string): RouterDatabase {
  if (path !== ':memory:') makeDirSync(dirname(path));
  const sqlite = new SQLite(path);
  // WAL lets the dashboard read while history batches are written; NORMAL sync is safe with WAL.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new KyselyRuntime<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  sqliteHandles.set(db, sqlite);
  return db;
}

/** `pg` is loaded only for a PostgreSQL URL: a SQLite router starts without it (cold start). */
async function openPostgres(url: string): Promise<RouterDatabase> {
  const { default: pg } = await import('pg');
  // PostgreSQL returns bigint (int8) as strings; our bigints are millisecond timestamps that fit
  // comfortably in a double, so read them as numbers like SQLite does.
  pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection the server ends (restart, failover, or one still closing when the
  // database goes away) is dropped by the pool and the next query reconnects; without a
  // listener, pg re-emits that error on the pool and it would crash the process.
  pool.on('error', () => {});
  // The same for a connection that dies while checked out but between two queries (inside a
  // transaction, say): pg emits 'error' on that client, where the pool listens only while it is
  // idle. Its next query fails instead, and the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new KyselyRuntime<Database>({ dialect: new PostgresDialect({ pool }) });
}

async function migrateToLatest(db: RouterDatabase): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
    throw new Error(`Database migration failed: ${reason}`);
  }
}
