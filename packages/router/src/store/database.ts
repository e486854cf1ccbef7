/**
 * Opens the router database from `LLM_ROUTER_DATABASE_URL` (SQLite by default, PostgreSQL for
 * several router replicas) and brings its schema up to date.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export type RouterDatabase = Kysely<Database>;

/** True when the database is PostgreSQL (row locks, LISTEN/NOTIFY); false for SQLite. */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

// PostgreSQL returns bigint (int8) as strings; our bigints are millisecond timestamps that fit
// comfortably in a double, so read them as numbers like SQLite does.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

export async function openDatabase(url: string): Promise<RouterDatabase> {
  const db = url.startsWith('postgres') ? openPostgres(url) : openSqlite(url.replace(/^sqlite:/, ''));
  await migrateToLatest(db);
  return db;
}

function openSqlite(path: string): RouterDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL lets the dashboard read while history batches are written; NORMAL sync is safe with WAL.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}

function openPostgres(url: string): RouterDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection the server ends (restart, failover, or one still closing when the
  // database goes away) is dropped by the pool and the next query reconnects; without a
  // listener, pg re-emits that error on the pool and it would crash the process.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
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
