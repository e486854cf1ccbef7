/** Deletes request history older than LLM_ROUTER_HISTORY_RETENTION_DAYS, at start and hourly. */
import type { Logger } from 'pino';
import type { RouterDatabase } from '../store/database.js';
import { deleteHistoryBefore } from './queries.js';

export function startHistoryRetention(db: RouterDatabase, retentionDays: number, log: Logger): () => void {
  const sweep = async () => {
    try {
      const removed = await deleteHistoryBefore(db, Date.now() - retentionDays * 86_400_000);
      if (removed > 0) log.info({ removed, retentionDays }, 'deleted expired request history');
    } catch (error) {
      log.error({ err: error }, 'request history cleanup failed');
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
