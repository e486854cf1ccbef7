/** Figures the Routing view derives from `GET /v0/dashboard/cache-routing`. */
import type { AdmissionQueueStats, CacheHitFigures, CacheRouting } from '../api/types';

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/** Hit rate and cached-token share over every model. */
export function routingTotals(
  data: Pick<CacheRouting, 'models'>,
): Pick<
  CacheHitFigures,
  'hits' | 'reported' | 'prompt_tokens' | 'cached_tokens' | 'hit_rate' | 'cached_token_ratio'
> {
  let hits = 0;
  let reported = 0;
  let prompt = 0;
  let cached = 0;
  for (const { totals } of data.models) {
    hits += totals.hits;
    reported += totals.reported;
    prompt += totals.prompt_tokens;
    cached += totals.cached_tokens;
  }
  return {
    hits,
    reported,
    prompt_tokens: prompt,
    cached_tokens: cached,
    hit_rate: ratio(hits, reported),
    cached_token_ratio: ratio(cached, prompt),
  };
}

/** The mean wait of the requests that had to wait, in ms; null when none did. */
export function queueMeanWaitMs(
  queue: Pick<AdmissionQueueStats, 'wait_seconds_sum' | 'queued_total'>,
): number | null {
  return queue.queued_total > 0 ? (queue.wait_seconds_sum / queue.queued_total) * 1000 : null;
}
