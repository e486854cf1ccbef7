/**
 * Writes request history off the request path: entries queue in memory and are inserted in
 * batches (every 250 ms, or at once when a batch fills). A failed write is retried with the
 * rows kept, and `close()` flushes what is queued, so a graceful shutdown loses nothing. On a
 * SQLite file the inserts run on a worker thread (see sqlite-writer.ts).
 */

import type SQLite from 'better-sqlite3';
import type { Logger } from 'pino';
import { type RouterDatabase, sqliteHandleOf } from '../store/database.js';
import type { RequestHistoryTable } from '../store/schema.js';
import { SqliteHistoryWriter } from './sqlite-writer.js';

export type HistoryRow = RequestHistoryTable;

const FLUSH_INTERVAL_MS = 250;
const BATCH_SIZE = 200;
/** Rows per INSERT statement (PostgreSQL): 31 columns × 40 rows stays far below every database's parameter limit. */
const ROWS_PER_STATEMENT = 40;
/**
 * Rows kept in memory while the database cannot take them. Past this the oldest are dropped
 * (and counted in the log): memory stays bounded even through a long database outage.
 */
const MAX_QUEUED_ROWS = 100_000;
/** A batch that failed this often is written row by row, so one bad row cannot block the rest. */
const BATCH_ATTEMPTS_BEFORE_SPLIT = 3;

export class HistoryRecorder {
  private queue: HistoryRow[] = [];
  private flushing: Promise<void> | null = null;
  private failedBatchAttempts = 0;
  /** Rows lost so far (queue overflow or refused by the database), for `/metrics`. */
  droppedRows = 0;
  private readonly timer: NodeJS.Timeout;
  /**
   * SQLite: one prepared single-row INSERT run in a transaction. Building and preparing a
   * 40-row statement through Kysely for every batch cost more main-thread time than the
   * inserts themselves (about 6 % of the router's CPU under load); this costs a few µs a row.
   * On a database file the transaction runs on a worker thread (`sqliteWriter`); an in-memory
   * database, which a worker cannot open, is written here.
   */
  private readonly sqliteInsert: ((rows: unknown[][]) => void) | null;
  private readonly sqliteWriter: SqliteHistoryWriter | null;

  constructor(
    private readonly db: RouterDatabase,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
    const sqlite = sqliteHandleOf(db);
    this.sqliteInsert = sqlite ? preparedSqliteInsert(sqlite) : null;
    this.sqliteWriter =
      sqlite && this.sqliteInsert && SqliteHistoryWriter.usable(sqlite)
        ? new SqliteHistoryWriter(sqlite.name, HISTORY_COLUMNS, this.sqliteInsert, { checkpointsFor: sqlite })
        : null;
  }

  record(row: HistoryRow): void {
    this.queue.push(row);
    if (this.queue.length > MAX_QUEUED_ROWS) {
      const dropped = this.queue.length - MAX_QUEUED_ROWS;
      this.queue.splice(0, dropped);
      this.droppedRows += dropped;
      this.log.error(
        { dropped },
        'request history queue full (database unavailable?); dropped the oldest rows',
      );
    }
    if (this.queue.length >= BATCH_SIZE) void this.flush();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued so far; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.queue.length > 0 ? this.flush() : undefined));
    if (this.queue.length === 0) return Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 3 && (this.queue.length > 0 || this.flushing); attempt++)
      await this.flush();
    await this.sqliteWriter?.close();
  }

  private async writeBatch(batch: HistoryRow[]): Promise<void> {
    try {
      await this.insert(batch);
      this.failedBatchAttempts = 0;
      return;
    } catch (error) {
      this.failedBatchAttempts++;
      if (this.failedBatchAttempts < BATCH_ATTEMPTS_BEFORE_SPLIT) {
        // Keep the rows for the next attempt rather than lose them (the database may be back soon).
        this.queue = batch.concat(this.queue);
        this.log.error({ err: error, rows: batch.length }, 'failed to write request history; will retry');
        return;
      }
    }
    // The batch keeps failing: write row by row so a single row the database refuses is set
    // aside, and the rest get through (or all wait again if the database itself is down).
    this.failedBatchAttempts = 0;
    const retry: HistoryRow[] = [];
    for (const row of batch) {
      try {
        await this.insert([row]);
      } catch (error) {
        retry.push(row);
        this.log.error({ err: error, id: row.id }, 'request history row refused by the database');
      }
    }
    if (retry.length === batch.length) this.queue = batch.concat(this.queue);
    else if (retry.length > 0) {
      this.droppedRows += retry.length;
      this.log.error({ rows: retry.length }, 'dropped request history rows the database refuses');
    }
  }

  private async insert(rows: HistoryRow[]): Promise<void> {
    if (this.sqliteInsert) {
      const values = rows.map(rowValues);
      if (this.sqliteWriter) await this.sqliteWriter.write(values);
      else this.sqliteInsert(values);
      return;
    }
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        await tx
          .insertInto('request_history')
          .values(rows.slice(i, i + ROWS_PER_STATEMENT))
          .execute();
      }
    });
  }
}

/** Every column of a history row, in the order the prepared statement binds them. */
const HISTORY_COLUMNS = [
  'id',
  'timestamp',
  'request_type',
  'model',
  'node_id',
  'node_machine_name',
  'node_ip',
  'client_ip',
  'api_key_id',
  'stream',
  'request_body',
  'response_body',
  'duration_ms',
  'status',
  'status_code',
  'error_message',
  'prompt_tokens',
  'completion_tokens',
  'time_to_first_token_ms',
  'completed_at',
  'request_id',
  'trace_id',
  'timing_auth_ms',
  'timing_select_ms',
  'timing_connect_ms',
  'timing_ttfb_ms',
  'cached_tokens',
  'prefix_match_chars',
  'node_load',
  'queue_wait_ms',
  'failed_attempts',
] as const satisfies ReadonlyArray<keyof HistoryRow>;
// A column added to the table but not here fails to compile instead of going unwritten.
const everyColumnListed: [Exclude<keyof HistoryRow, (typeof HISTORY_COLUMNS)[number]>] extends [never]
  ? true
  : never = true;
void everyColumnListed;

/** A row's values in `HISTORY_COLUMNS` order (an array is cheaper to pass to the worker than the object). */
function rowValues(row: HistoryRow): unknown[] {
  const values = new Array<unknown>(HISTORY_COLUMNS.length);
  for (let i = 0; i < HISTORY_COLUMNS.length; i++) values[i] = row[HISTORY_COLUMNS[i]] ?? null;
  return values;
}

/** The same INSERT as the worker's, on the main thread's connection. */
function preparedSqliteInsert(sqlite: SQLite.Database): (rows: unknown[][]) => void {
  const statement = sqlite.prepare(
    `INSERT INTO request_history (${HISTORY_COLUMNS.join(', ')}) VALUES (${HISTORY_COLUMNS.map(() => '?').join(', ')})`,
  );
  return sqlite.transaction((rows: unknown[][]) => {
    for (const values of rows) statement.run(values);
  });
}
