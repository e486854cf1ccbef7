/**
 * Deletes request history (and stored `/v1/responses`, which follow the same retention) older
 * than LLM_ROUTER_HISTORY_RETENTION_DAYS, at start and hourly.
 */
import type { Logger } from 'pino';
import { ResponseStore } from '../responses/store.js';
import type { RouterDatabase } from '../store/database.js';
import { deleteHistoryBefore } from './queries.js';

export function startHistoryRetention(db: RouterDatabase, retentionDays: number, log: Logger): () => void {
  const sweep = async () => {
    try {
      const cutoff = Date.now() - retentionDays * 86_400_000;
      const removed = await deleteHistoryBefore(db, cutoff);
      if (removed > 0) log.info({ removed, retentionDays }, 'deleted expired request history');
      const responses = await new ResponseStore(db).deleteBefore(cutoff);
      if (responses > 0) log.info({ removed: responses, retentionDays }, 'deleted expired stored responses');
    } catch (error) {
      log.error({ err: error }, 'request history cleanup failed');
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
