/**
 * The routing facts request history keeps per request (issue 12): what the node reported
 * reusing from its KV cache, what the balancer expected, and the admission queue wait.
 */
export interface RoutingRecord {
  /** `usage.prompt_tokens_details.cached_tokens` as the node reported it. */
  cachedTokens?: number;
  /** Characters of the prompt the chosen node was believed to hold (cache_aware). */
  prefixMatchChars?: number;
  /** Requests in progress on the chosen node when it was chosen (cache_aware). */
  nodeLoad?: number;
  /** Time spent in the router's admission queue. */
  queueWaitMs?: number;
}

const whole = (value: number | undefined) => (value === undefined ? null : Math.round(value));

/** The history columns for these facts (null when unknown). */
export function routingColumns(record: RoutingRecord) {
  return {
    cached_tokens: whole(record.cachedTokens),
    prefix_match_chars: whole(record.prefixMatchChars),
    node_load: whole(record.nodeLoad),
    queue_wait_ms: whole(record.queueWaitMs),
  };
}
