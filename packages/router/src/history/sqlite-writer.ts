/**
 * Request history on SQLite, written by a worker thread that owns its own better-sqlite3
 * connection to the same database file (WAL: the main connection keeps reading and writing the
 * other tables meanwhile). The recorder hands it a batch and gets back a promise that settles
 * once the batch is committed — or rejects with the database's error, so the recorder's retry
 * and row-by-row rules stay where they are. The batch insert (a transaction of up to a few
 * hundred rows) thus no longer runs on the event loop that serves requests.
 *
 * The worker starts with the first batch (not at router start-up) and is kept referenced only
 * while a batch is in flight, so an idle writer never keeps the process alive. Should the worker
 * die, the pending batches fail (and are retried by the recorder) and every later batch is
 * written on the main thread, as before this worker existed.
 *
 * While it runs, the worker also checkpoints the WAL for the main connection. SQLite
 * checkpoints in whichever connection commits past 1,000 WAL pages, and on the main thread that
 * stalled requests for milliseconds: at 1,000 heartbeating nodes it took 42 ms of every 8 s, in
 * a few long pauses. So the main connection's automatic checkpoints are off while the worker
 * lives (and back on when it is gone), and the worker runs a passive checkpoint every second.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/**
 * The worker's code, run with `eval` so it needs no file of its own next to the compiled
 * module (nothing to resolve at run time but better-sqlite3 itself, passed in by path).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
const columns = workerData.columns;
const statement = db.prepare(
  'INSERT INTO request_history (' + columns.join(', ') + ') VALUES (' + columns.map(() => '?').join(', ') + ')',
);
const insertAll = db.transaction((rows) => {
  for (const values of rows) statement.run(values);
});
const checkpoints = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked: the next tick tries again.
  }
}, workerData.checkpointIntervalMs);
parentPort.on('message', (message) => {
  if (message.close) {
    clearInterval(checkpoints);
    db.close();
    parentPort.close();
    return;
  }
  try {
    insertAll(message.rows);
    parentPort.postMessage({ id: message.id });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

type Pending = { resolve: () => void; reject: (error: Error) => void };

/** SQLite's own default: a commit that leaves this many WAL pages checkpoints. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

export interface SqliteHistoryWriterOptions {
  /** The main connection, whose automatic checkpoints the worker takes over while it runs. */
  checkpointsFor?: SQLite.Database;
  /** How often the worker checkpoints (default 1 s). */
  checkpointIntervalMs?: number;
}

export class SqliteHistoryWriter {
  private worker: Worker | null = null;
  /** Set once the worker failed (or was closed): every batch is written on the main thread from then on. */
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * @param path the database file (not `:memory:`: a worker cannot share an in-memory database)
   * @param columns the history columns in the order each row's values are given
   * @param fallback writes a batch on the main thread (after the worker failed)
   */
  constructor(
    private readonly path: string,
    private readonly columns: readonly string[],
    private readonly fallback: (rows: unknown[][]) => void,
    private readonly options: SqliteHistoryWriterOptions = {},
  ) {}

  /** A worker cannot open an in-memory or temporary database the main connection uses. */
  static usable(sqlite: SQLite.Database): boolean {
    return !sqlite.memory && sqlite.name !== '' && sqlite.name !== ':memory:';
  }

  /** Commits the rows (each its values in column order) in one transaction. */
  write(rows: unknown[][]): Promise<void> {
    if (this.broken) {
      try {
        this.fallback(rows);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    let worker: Worker;
    try {
      worker = this.start();
    } catch {
      // No thread could be started (better-sqlite3 not resolvable from here, say): same as a dead one.
      this.broken = true;
      return this.write(rows);
    }
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    const written = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, rows });
    });
    this.inFlight.add(written);
    const settled = () => this.inFlight.delete(written);
    written.then(settled, settled);
    return written;
  }

  /** Waits for the batches in flight, then closes the worker's connection. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await Promise.allSettled(this.inFlight);
    this.worker = null;
    this.broken = true; // anything written after close goes through the main thread
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ close: true });
    await exited;
    this.handCheckpointsBack();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        path: this.path,
        columns: this.columns,
        checkpointIntervalMs: this.options.checkpointIntervalMs ?? 1000,
      },
    });
    this.options.checkpointsFor?.pragma('wal_autocheckpoint = 0');
    worker.unref();
    worker.on('message', (message: { id: number; error?: string }) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.error === undefined) waiting.resolve();
      else waiting.reject(new Error(message.error));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      this.broken = true;
      this.handCheckpointsBack();
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`history writer thread exited (${code})`));
      else if (this.worker === worker) {
        // Gone while idle: the next batch starts another one.
        this.worker = null;
        this.handCheckpointsBack();
      }
    });
    this.worker = worker;
    return worker;
  }

  /** The main connection checkpoints for itself again (the worker is gone). */
  private handCheckpointsBack(): void {
    const main = this.options.checkpointsFor;
    if (!main?.open) return;
    main.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  }
}
