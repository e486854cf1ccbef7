/**
 * The SQLite history writer thread: batches are committed by the worker's own connection (and
 * visible to the router's), a batch the database refuses rejects with the database's message,
 * and when the worker cannot run, batches are written on the main thread instead of being lost.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteHistoryWriter } from '../../src/history/sqlite-writer.js';
import { openDatabase, type RouterDatabase } from '../../src/store/database.js';

const COLUMNS = [
  'id',
  'timestamp',
  'request_type',
  'model',
  'stream',
  'duration_ms',
  'status',
  'status_code',
  'completed_at',
];
const row = (id: string) => [id, 1, 'chat', 'm1', 0, 1, 'success', 200, 1];

describe('SqliteHistoryWriter', () => {
  let dir: string;
  let db: RouterDatabase;
  const ids = async () =>
    (await db.selectFrom('request_history').select('id').orderBy('id').execute()).map((r) => r.id);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'history-writer-'));
    db = await openDatabase(`sqlite:${join(dir, 'router.db')}`);
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits batches from its thread, rejects a refused batch whole, and closes after the batches in flight', async () => {
    const fallback: unknown[][][] = [];
    const writer = new SqliteHistoryWriter(join(dir, 'router.db'), COLUMNS, (rows) => fallback.push(rows));
    await writer.write([row('a1'), row('a2')]);
    expect(await ids()).toEqual(['a1', 'a2']);
    // A duplicate key: the database's own error, and nothing of that batch is kept.
    await expect(writer.write([row('a3'), row('a1')])).rejects.toThrow(/UNIQUE/);
    expect(await ids()).toEqual(['a1', 'a2']);
    const last = writer.write([row('a4')]);
    await writer.close();
    await last;
    expect(await ids()).toEqual(['a1', 'a2', 'a4']);
    expect(fallback).toEqual([]);
  });

  it('writes on the main thread once its thread cannot run', async () => {
    const fallback: unknown[][][] = [];
    // The worker cannot open this path, so it dies with the first batch.
    const writer = new SqliteHistoryWriter(join(dir, 'missing', 'router.db'), COLUMNS, (rows) =>
      fallback.push(rows),
    );
    await expect(writer.write([row('b1')])).rejects.toThrow();
    await writer.write([row('b2')]);
    expect(fallback).toEqual([[row('b2')]]);
    await writer.close();
  });

  it('is not used for an in-memory database', () => {
    const memory = new SQLite(':memory:');
    expect(SqliteHistoryWriter.usable(memory)).toBe(false);
    memory.close();
    const file = new SQLite(join(dir, 'router.db'));
    expect(SqliteHistoryWriter.usable(file)).toBe(true);
    file.close();
  });
});

describe('SqliteHistoryWriter checkpoints', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'history-checkpoints-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the main connection’s WAL checkpoints off its thread while it runs, and hands them back', async () => {
    const path = join(dir, 'router.db');
    const setup = await openDatabase(`sqlite:${path}`);
    await setup.destroy();
    const main = new SQLite(path);
    main.pragma('journal_mode = WAL');
    main.exec('CREATE TABLE beats (id INTEGER PRIMARY KEY, at INTEGER, pad TEXT)');
    const autocheckpoint = () => main.pragma('wal_autocheckpoint', { simple: true });
    // Pages reach the database file only through a checkpoint; until then they are in the WAL.
    const fileBytes = () => statSync(path).size;
    expect(autocheckpoint()).toBe(1000);

    const writer = new SqliteHistoryWriter(path, COLUMNS, () => {}, {
      checkpointsFor: main,
      checkpointIntervalMs: 50,
    });
    await writer.write([row('c1')]);
    expect(autocheckpoint()).toBe(0);
    // Only the main connection writes, a transaction at a time like heartbeats, and it no
    // longer checkpoints: the worker moves the pages into the database file.
    const before = fileBytes();
    const insert = main.prepare('INSERT INTO beats (at, pad) VALUES (?, ?)');
    for (let i = 0; i < 500; i++) insert.run(i, 'x'.repeat(2000));
    const deadline = Date.now() + 10_000;
    while (fileBytes() < before + 500 * 2000 && Date.now() < deadline)
      await new Promise((wait) => setTimeout(wait, 50));
    expect(fileBytes()).toBeGreaterThanOrEqual(before + 500 * 2000);

    await writer.close();
    expect(autocheckpoint()).toBe(1000);
    main.close();
  });
});
