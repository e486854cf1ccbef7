/**
 * The router's daily log files (`llm-router.jsonl.YYYY-MM-DD`, UTC); rotation and expiry live
 * in the shared `DailyJsonlFile`.
 */
import { DailyJsonlFile } from '@llm-router/protocol/daily-log-file';

export class DailyLogFile extends DailyJsonlFile {
  constructor(dir: string, retentionDays: number, now: () => number = Date.now) {
    super(dir, 'llm-router.jsonl.', retentionDays, now);
  }
}
