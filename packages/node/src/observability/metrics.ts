/**
 * Request counters for `/metrics`, `/metrics/prom` and heartbeats. Memory is bounded: response
 * times are averaged over the most recent requests only.
 */
import type { InferenceKind } from '@llm-router/protocol';

export type Outcome = 'success' | 'error' | 'aborted' | 'rejected';

const RECENT_WINDOW = 100;

/** Upper bounds (seconds) of the time-to-first-token histogram buckets. */
export const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export interface RequestTracker {
  /**
   * Adds tokens as they become known (may be called more than once). The first completion
   * token marks the request's time to first token: the prefill is done and content exists.
   */
  addTokens(prompt: number, completion: number): void;
  finish(outcome: Outcome): void;
}

export class NodeMetrics {
  readonly startedAt = Date.now();
  activeRequests = 0;
  totalRequests = 0;
  promptTokens = 0;
  completionTokens = 0;
  /** Prompt tokens the model evaluated, and those served from a sequence's KV cache instead. */
  promptTokensEvaluated = 0;
  promptTokensCached = 0;
  /** Time spent generating, for the tokens-per-second figure. */
  generationSeconds = 0;
  readonly outcomes: Record<Outcome, number> = { success: 0, error: 0, aborted: 0, rejected: 0 };
  readonly byEndpoint: Record<InferenceKind, number> = { chat: 0, completions: 0, embeddings: 0 };
  durationSecondsSum = 0;
  /** Time to the first generated token: cumulative counts per TTFT_BUCKETS bound, sum, count. */
  readonly ttft = { buckets: TTFT_BUCKETS.map(() => 0), sum: 0, count: 0 };
  private readonly recentMs: number[] = [];

  startRequest(endpoint: InferenceKind): RequestTracker {
    const started = performance.now();
    this.activeRequests++;
    this.totalRequests++;
    this.byEndpoint[endpoint]++;
    let finished = false;
    let sawFirstToken = false;
    return {
      addTokens: (prompt, completion) => {
        this.promptTokens += prompt;
        this.completionTokens += completion;
        if (completion > 0 && !sawFirstToken) {
          sawFirstToken = true;
          this.observeTtft((performance.now() - started) / 1000);
        }
      },
      finish: (outcome) => {
        if (finished) return;
        finished = true;
        this.activeRequests--;
        this.outcomes[outcome]++;
        const ms = performance.now() - started;
        this.durationSecondsSum += ms / 1000;
        if (outcome === 'success') {
          this.recentMs.push(ms);
          if (this.recentMs.length > RECENT_WINDOW) this.recentMs.shift();
        }
      },
    };
  }

  private observeTtft(seconds: number): void {
    this.ttft.sum += seconds;
    this.ttft.count++;
    TTFT_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) this.ttft.buckets[i]++;
    });
  }

  recordPromptCache(evaluated: number, cached: number): void {
    this.promptTokensEvaluated += evaluated;
    this.promptTokensCached += cached;
  }

  recordGenerationTime(seconds: number): void {
    this.generationSeconds += seconds;
  }

  uptimeSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Mean latency of the most recent successful requests, or null before the first one. */
  averageResponseTimeMs(): number | null {
    if (this.recentMs.length === 0) return null;
    return this.recentMs.reduce((a, b) => a + b, 0) / this.recentMs.length;
  }
}
