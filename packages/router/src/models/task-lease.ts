/**
 * Leases on models' cache tasks, held in the database (`model_task_leases`): router replicas
 * share the model cache folder, so a model's download or quantization must run on one replica
 * only. A lease is taken with one conditional upsert (a new row, or the row taken over when it
 * expired or is already ours: never a read-then-write), renewed while the tasks run, and
 * released when they end. A replica whose renewal fails has lost the model to another replica
 * and stops at once. A holder id names its host and process, so a router that starts after a
 * crash (SIGKILL, no chance to release) clears the leases of dead processes on its own machine
 * at once instead of waiting for them to expire; a holder on another machine can only expire.
 */
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RouterDatabase } from '../store/database.js';

export class TaskLeases {
  constructor(
    private readonly db: RouterDatabase,
    /** This replica's id (random per process). */
    readonly holder: string,
    /** How long a lease lasts without renewal. */
    readonly ttlMs: number,
  ) {}

  /** How often a running model's lease is renewed: a third of its length. */
  get renewMs(): number {
    return Math.max(1, Math.floor(this.ttlMs / 3));
  }

  /** Takes the model's lease (new, expired, or already ours); false while another replica holds it. */
  async acquire(modelId: string, now = Date.now()): Promise<boolean> {
    const expiresAt = now + this.ttlMs;
    const row = await this.db
      .insertInto('model_task_leases')
      .values({ model_id: modelId, holder: this.holder, expires_at: expiresAt })
      .onConflict((oc) =>
        oc
          .column('model_id')
          .doUpdateSet({ holder: this.holder, expires_at: expiresAt })
          .where((eb) =>
            eb.or([
              eb('model_task_leases.expires_at', '<=', now),
              eb('model_task_leases.holder', '=', this.holder),
            ]),
          ),
      )
      .returning('holder')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Extends a lease this replica holds; false when it is no longer ours (taken over or released). */
  async renew(modelId: string, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('model_task_leases')
      .set({ expires_at: now + this.ttlMs })
      .where('model_id', '=', modelId)
      .where('holder', '=', this.holder)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Gives the lease up (tasks done, failed, cancelled, or shutdown); a no-op if it is not ours. */
  async release(modelId: string): Promise<void> {
    await this.db
      .deleteFrom('model_task_leases')
      .where('model_id', '=', modelId)
      .where('holder', '=', this.holder)
      .execute();
  }

  /** Removes the lease whoever holds it: the model was deleted. */
  async drop(modelId: string): Promise<void> {
    await this.db.deleteFrom('model_task_leases').where('model_id', '=', modelId).execute();
  }

  /**
   * Removes the leases held by processes of this machine that no longer exist (a router that
   * was killed): their downloads can be taken up now. Returns how many were cleared.
   */
  async clearDeadLocalHolders(): Promise<number> {
    const rows = await this.db.selectFrom('model_task_leases').select(['model_id', 'holder']).execute();
    let cleared = 0;
    for (const row of rows) {
      const owner = parseHolder(row.holder);
      if (!owner || owner.machine !== MACHINE || owner.pid === process.pid || processAlive(owner.pid))
        continue;
      const result = await this.db
        .deleteFrom('model_task_leases')
        .where('model_id', '=', row.model_id)
        .where('holder', '=', row.holder)
        .executeTakeFirst();
      cleared += Number(result.numDeletedRows);
    }
    return cleared;
  }
}

/**
 * Where this process's pid means something: the host name and, on Linux, the pid namespace (two
 * containers may share a host name, never a pid namespace).
 */
const MACHINE = (() => {
  let namespace = '';
  try {
    namespace = readlinkSync('/proc/self/ns/pid'); // e.g. "pid:[4026531836]"
  } catch {
    // Not Linux: the host name alone.
  }
  return `${hostname()}${namespace}`.replaceAll('/', '_');
})();

/** A holder id for this process: `<machine>/<pid>/<random>` (the random part tells restarts apart). */
export function localHolderId(random: string): string {
  return `${MACHINE}/${process.pid}/${random}`;
}

function parseHolder(holder: string): { machine: string; pid: number } | null {
  const match = /^(.*)\/(\d+)\/[^/]+$/.exec(holder);
  return match ? { machine: match[1], pid: Number(match[2]) } : null;
}

/** Whether a process of this machine exists (EPERM: it does, under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
