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
/** Rows per INSERT statement: 21 columns × 40 rows stays far below every database's parameter limit. */
const ROWS_PER_STATEMENT = 40;

export class HistoryRecorder {
  private queue: HistoryRow[] = [];
  private flushing: Promise<void> | null = null;
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
    this.flushing = this.write(batch)
      .catch((error) => {
        // Keep the rows for the next attempt rather than lose them.
        this.queue = batch.concat(this.queue);
        this.log.error({ err: error, rows: batch.length }, 'failed to write request history; will retry');
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 3 && (this.queue.length > 0 || this.flushing); attempt++)
      await this.flush();
  }

  private async write(rows: HistoryRow[]): Promise<void> {
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
