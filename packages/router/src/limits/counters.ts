/**
 * Limit counters in the database, reserved atomically. Each counter row is one window of one
 * limit; a reservation is one `UPDATE … SET used = used + n WHERE … AND used + n <= limit
 * RETURNING used` per row, all in one transaction. On PostgreSQL the UPDATE locks the row and
 * re-checks its WHERE after a concurrent writer commits, so routers sharing the database never
 * admit past a limit (no read-then-write). SQLite runs transactions one at a time.
 */

import type { RouterDatabase } from '../store/database.js';
import { sql } from '../store/kysely-runtime.js';

export interface CounterCharge {
  /** e.g. `rpm`, `tokens_per_day`, `tpm:model-name`. */
  counter: string;
  windowStart: number;
  amount: number;
  limit: number;
}

export type ReserveResult = { ok: true; used: number[] } | { ok: false; failed: number; used: number };

/** Thrown inside the transaction to roll back every row reserved before the one that is full. */
class Refused extends Error {
  constructor(
    readonly index: number,
    readonly used: number,
  ) {
    super('limit reached');
  }
}

export class LimitCounters {
  constructor(private readonly db: RouterDatabase) {}

  /** Reserves every charge or none; on refusal says which charge was full and its usage. */
  async reserve(subject: string, charges: CounterCharge[]): Promise<ReserveResult> {
    try {
      const used = await this.db.transaction().execute(async (tx) => {
        const after: number[] = [];
        for (const [index, charge] of charges.entries()) {
          await tx
            .insertInto('limit_counters')
            .values({ subject, counter: charge.counter, window_start: charge.windowStart, used: 0 })
            .onConflict((oc) => oc.columns(['subject', 'counter', 'window_start']).doNothing())
            .execute();
          const row = await tx
            .updateTable('limit_counters')
            .set({ used: sql`used + ${charge.amount}` })
            .where('subject', '=', subject)
            .where('counter', '=', charge.counter)
            .where('window_start', '=', charge.windowStart)
            .where(sql<boolean>`used + ${charge.amount} <= ${charge.limit}`)
            .returning('used')
            .executeTakeFirst();
          if (!row) {
            const current = await tx
              .selectFrom('limit_counters')
              .select('used')
              .where('subject', '=', subject)
              .where('counter', '=', charge.counter)
              .where('window_start', '=', charge.windowStart)
              .executeTakeFirst();
            throw new Refused(index, Number(current?.used ?? 0));
          }
          after.push(Number(row.used));
        }
        return after;
      });
      return { ok: true, used };
    } catch (error) {
      if (error instanceof Refused) return { ok: false, failed: error.index, used: error.used };
      throw error;
    }
  }

  /** Adds `delta` (negative: a refund) to counters reserved earlier; never refuses. */
  async adjust(subject: string, charges: Array<{ counter: string; windowStart: number; delta: number }>) {
    const moving = charges.filter((c) => c.delta !== 0);
    if (moving.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (const charge of moving) {
        await tx
          .updateTable('limit_counters')
          .set({ used: sql`used + ${charge.delta}` })
          .where('subject', '=', subject)
          .where('counter', '=', charge.counter)
          .where('window_start', '=', charge.windowStart)
          .execute();
      }
    });
  }

  /** Drops windows that ended: minute windows after two minutes, day/month ones after 40 days. */
  async prune(now = Date.now()): Promise<void> {
    await this.db
      .deleteFrom('limit_counters')
      .where((eb) =>
        eb.or([
          eb('window_start', '<', now - 40 * 86_400_000),
          eb.and([
            eb('window_start', '<', now - 120_000),
            eb.or([eb('counter', 'like', 'rpm%'), eb('counter', 'like', 'tpm%')]),
          ]),
        ]),
      )
      .execute();
  }
}
