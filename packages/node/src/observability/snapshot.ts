/**
 * One consistent view of the node's load and counters, shared by `/metrics`, `/metrics/prom`
 * and (partly) heartbeats, so the three never disagree about what a number means.
 */
import { memoryUsage } from 'node:process';
import type { GpuStats } from '../llama/gpu-stats.js';
import type { NodeServices } from '../services.js';
import { TTFT_BUCKETS } from './metrics.js';
import { CpuSampler, memoryUsagePercent } from './system-stats.js';

export interface NodeSnapshot {
  uptime_seconds: number;
  active_requests: number;
  queued_requests: number;
  total_requests: number;
  successful_requests: number;
  failed_requests: number;
  aborted_requests: number;
  rejected_requests: number;
  requests_by_endpoint: Record<string, number>;
  prompt_tokens_total: number;
  /** Prompt tokens evaluated by the model vs reused from a sequence's KV cache. */
  prompt_tokens_evaluated_total: number;
  prompt_tokens_cached_total: number;
  tokens_generated_total: number;
  tokens_per_second: number | null;
  average_response_time_ms: number | null;
  request_duration_seconds_sum: number;
  /** Time to the first generated token (the role chunk a stream opens with does not count). */
  time_to_first_token_seconds: { bounds: readonly number[]; buckets: number[]; sum: number; count: number };
  cpu_usage: number;
  memory_usage: number;
  process_resident_memory_bytes: number;
  process_heap_used_bytes: number;
  models: { total: number; ready: number; loading: number; failed: number };
  model_states: {
    id: string;
    state: string;
    /** Context sequences the model has, and how many are generating now. */
    sequences_total: number;
    sequences_busy: number;
    queued_requests: number;
    load_seconds: number | null;
  }[];
  gpu: GpuStats & {
    available: boolean;
    backend: string | false;
    devices: number;
    memory_total_bytes: number;
  };
  /** Kept for the upstream's `/metrics` shape; model pulls arrive in a later version. */
  pull_count: number;
}

export async function takeSnapshot(services: NodeServices, cpu: CpuSampler): Promise<NodeSnapshot> {
  const { metrics, models, gpu } = services;
  const all = models.all();
  const count = (state: string) => all.filter((m) => m.state === state).length;
  const memory = memoryUsage();
  const gpuStats = await services.gpuSampler.sample();
  return {
    uptime_seconds: metrics.uptimeSeconds(),
    active_requests: metrics.activeRequests,
    queued_requests: models.queuedRequests(),
    total_requests: metrics.totalRequests,
    successful_requests: metrics.outcomes.success,
    failed_requests: metrics.outcomes.error,
    aborted_requests: metrics.outcomes.aborted,
    rejected_requests: metrics.outcomes.rejected,
    requests_by_endpoint: { ...metrics.byEndpoint },
    prompt_tokens_total: metrics.promptTokens,
    prompt_tokens_evaluated_total: metrics.promptTokensEvaluated,
    prompt_tokens_cached_total: metrics.promptTokensCached,
    tokens_generated_total: metrics.completionTokens,
    tokens_per_second:
      metrics.generationSeconds > 0 ? metrics.completionTokens / metrics.generationSeconds : null,
    average_response_time_ms: metrics.averageResponseTimeMs(),
    request_duration_seconds_sum: metrics.durationSecondsSum,
    time_to_first_token_seconds: {
      bounds: TTFT_BUCKETS,
      ...metrics.ttft,
      buckets: [...metrics.ttft.buckets],
    },
    cpu_usage: cpu.sample(),
    memory_usage: memoryUsagePercent(),
    process_resident_memory_bytes: memory.rss,
    process_heap_used_bytes: memory.heapUsed,
    models: { total: all.length, ready: count('ready'), loading: count('loading'), failed: count('failed') },
    model_states: all.map((m) => ({
      id: m.id,
      state: m.state,
      sequences_total: m.loaded?.pool?.size ?? 0,
      sequences_busy: m.loaded?.pool?.busy ?? 0,
      queued_requests: m.loaded?.pool?.queued ?? 0,
      load_seconds: m.loadSeconds,
    })),
    gpu: {
      ...gpuStats,
      available: gpu.available,
      backend: gpu.backend,
      devices: gpu.devices.reduce((sum, d) => sum + d.count, 0),
      memory_total_bytes: gpu.totalVramBytes,
    },
    pull_count: 0,
  };
}

export { CpuSampler };
