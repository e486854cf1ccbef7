/**
 * Writes request history off the request path: entries queue in memory and are inserted in
 * batches (every 250 ms, or at once when a batch fills). A failed write is retried with the
 * rows kept, and `close()` flushes what is queued, so a graceful shutdown loses nothing.
 */
import type { Logger } from 'pino';
import type { RouterDatabase } from '../store/database.js';
import type { RequestHistoryTable } from '../store/schema.js';

export type HistoryRow = RequestHistoryTable;

const FLUSH_INTERVAL_MS = 250;
const BATCH_SIZE = 200;
/** Rows per INSERT statement: 25 columns × 40 rows stays far below every database's parameter limit. */
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
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: RouterDatabase,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  record(row: HistoryRow): void {
    this.queue.push(row);
    if (this.queue.length > MAX_QUEUED_ROWS) {
      const dropped = this.queue.length - MAX_QUEUED_ROWS;
      this.queue.splice(0, dropped);
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
    else if (retry.length > 0)
      this.log.error({ rows: retry.length }, 'dropped request history rows the database refuses');
  }

  private async insert(rows: HistoryRow[]): Promise<void> {
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
