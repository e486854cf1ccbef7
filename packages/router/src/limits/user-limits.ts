/**
 * Limits of dashboard users, kept in memory so the request path never reads the database:
 * loaded at start, written through on change, re-read periodically (another replica may have
 * changed them).
 */
import type { RouterDatabase } from '../store/database.js';
import { type Limits, limitsFromColumn, limitsToColumn } from './spec.js';

const RELOAD_MS = 30_000;

export class UserLimits {
  private byUser = new Map<string, Limits>();
  private timer: NodeJS.Timeout | undefined;
  /** Counts changes made here, so a reload that read the rows before one never undoes it. */
  private changes = 0;

  private constructor(private readonly db: RouterDatabase) {}

  static async load(db: RouterDatabase): Promise<UserLimits> {
    const cache = new UserLimits(db);
    await cache.reload();
    cache.timer = setInterval(() => void cache.reload().catch(() => {}), RELOAD_MS);
    cache.timer.unref();
    return cache;
  }

  async reload(): Promise<void> {
    const changesBefore = this.changes;
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'limits'])
      .where('limits', 'is not', null)
      .execute();
    const fresh = new Map<string, Limits>();
    for (const row of rows) {
      const limits = limitsFromColumn(row.limits);
      if (limits) fresh.set(row.id, limits);
    }
    // A change made here while the SELECT ran may be missing from its rows: keep what is here
    // this time, the next reload catches up.
    if (this.changes !== changesBefore) return;
    this.byUser = fresh;
  }

  get(userId: string): Limits | null {
    return this.byUser.get(userId) ?? null;
  }

  /** Sets (or with null clears) a user's limits; false when there is no such user. */
  async set(userId: string, limits: Limits | null): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ limits: limitsToColumn(limits) })
      .where('id', '=', userId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    if (limits) this.byUser.set(userId, limits);
    else this.byUser.delete(userId);
    this.changes++;
    return true;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
