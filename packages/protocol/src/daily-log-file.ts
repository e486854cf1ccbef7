/**
 * A write stream for JSON log lines that starts a new file each day (`<prefix>YYYY-MM-DD`,
 * UTC) and deletes files older than the retention. Router and node both log through it, so
 * log files rotate and expire the same way on every machine of the fleet.
 */
import { closeSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { makeDirSync } from './make-dir.js';

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class DailyJsonlFile extends Writable {
  private fd: number | undefined;
  private day = '';

  constructor(
    private readonly dir: string,
    /** File name before the date, e.g. `llm-router.jsonl.`. */
    private readonly prefix: string,
    private readonly retentionDays: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
    makeDirSync(dir);
    this.rollIfNeeded();
  }

  get currentPath(): string {
    return join(this.dir, `${this.prefix}${this.day}`);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.rollIfNeeded();
      // Synchronous appends keep lines whole and ordered; log volume is small next to inference.
      if (this.fd !== undefined) writeSync(this.fd, chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    callback();
  }

  private rollIfNeeded(): void {
    const today = dayOf(this.now());
    if (today === this.day && this.fd !== undefined) return;
    if (this.fd !== undefined) closeSync(this.fd);
    this.day = today;
    this.fd = openSync(this.currentPath, 'a', 0o600);
    this.deleteExpired();
  }

  /** Removes daily files older than the retention period. */
  deleteExpired(): void {
    const oldestKept = dayOf(this.now() - this.retentionDays * 86_400_000);
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(this.prefix) && name.slice(this.prefix.length) < oldestKept) {
        rmSync(join(this.dir, name), { force: true });
      }
    }
  }
}
