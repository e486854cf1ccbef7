/** The node's metrics in the Prometheus text format, all named `llm_node_*`. */
import type { NodeSnapshot } from './snapshot.js';

type Labels = Record<string, string>;
type ModelState = NodeSnapshot['model_states'][number];

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function series(name: string, value: number, labels: Labels = {}): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${Number.isFinite(value) ? value : 0}`;
}

export function renderPrometheus(s: NodeSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, values: [number, Labels?][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [value, labels] of values) lines.push(series(name, value, labels));
  };
  metric('llm_node_uptime_seconds', 'gauge', 'Seconds since the node started.', [[s.uptime_seconds]]);
  metric('llm_node_active_requests', 'gauge', 'Inference requests in progress (queued ones included).', [
    [s.active_requests],
  ]);
  metric('llm_node_queued_requests', 'gauge', 'Requests waiting for a free context sequence.', [
    [s.queued_requests],
  ]);
  metric('llm_node_requests_total', 'counter', 'Inference requests by outcome.', [
    [s.successful_requests, { outcome: 'success' }],
    [s.failed_requests, { outcome: 'error' }],
    [s.aborted_requests, { outcome: 'aborted' }],
    [s.rejected_requests, { outcome: 'rejected' }],
  ]);
  metric(
    'llm_node_endpoint_requests_total',
    'counter',
    'Inference requests by endpoint.',
    Object.entries(s.requests_by_endpoint).map(([endpoint, n]) => [n, { endpoint }]),
  );
  metric(
    // `_total`, not `_sum`: a lone counter of seconds (promtool rejects `_sum` outside histograms).
    'llm_node_request_duration_seconds_total',
    'counter',
    'Total time spent answering inference requests.',
    [[s.request_duration_seconds_sum]],
  );
  metric('llm_node_prompt_tokens_total', 'counter', 'Prompt tokens read.', [[s.prompt_tokens_total]]);
  metric(
    'llm_node_prompt_tokens_evaluated_total',
    'counter',
    'Prompt tokens the model evaluated (prefill).',
    [[s.prompt_tokens_evaluated_total]],
  );
  metric(
    'llm_node_prompt_tokens_cached_total',
    'counter',
    "Prompt tokens reused from a sequence's KV cache instead of being evaluated.",
    [[s.prompt_tokens_cached_total]],
  );
  metric('llm_node_completion_tokens_total', 'counter', 'Tokens generated.', [[s.tokens_generated_total]]);
  metric(
    'llm_node_tokens_per_second',
    'gauge',
    'Generated tokens per second of generation time, since the node started.',
    [[s.tokens_per_second ?? 0]],
  );
  metric('llm_node_rejected_requests_total', 'counter', 'Requests refused because the queue was full.', [
    [s.rejected_requests],
  ]);
  const perModel = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    value: (m: ModelState) => number | null,
  ) =>
    metric(
      name,
      type,
      help,
      s.model_states.flatMap((m) => {
        const v = value(m);
        return v === null ? [] : [[v, { model: m.id }] as [number, Labels]];
      }),
    );
  perModel(
    'llm_node_sequences_capacity',
    'gauge',
    'Context sequences of each loaded model.',
    (m) => m.sequences_total,
  );
  perModel('llm_node_sequences_busy', 'gauge', 'Context sequences generating now.', (m) => m.sequences_busy);
  perModel(
    'llm_node_model_queue_length',
    'gauge',
    'Requests waiting for a sequence, per model.',
    (m) => m.queued_requests,
  );
  perModel(
    'llm_node_model_load_seconds',
    'gauge',
    'How long the last load of each model took.',
    (m) => m.load_seconds,
  );
  const ttft = s.time_to_first_token_seconds;
  lines.push(
    '# HELP llm_node_time_to_first_token_seconds Time from the request to its first generated token.',
    '# TYPE llm_node_time_to_first_token_seconds histogram',
    ...ttft.bounds.map((le, i) =>
      series('llm_node_time_to_first_token_seconds_bucket', ttft.buckets[i], { le: String(le) }),
    ),
    series('llm_node_time_to_first_token_seconds_bucket', ttft.count, { le: '+Inf' }),
    series('llm_node_time_to_first_token_seconds_sum', ttft.sum),
    series('llm_node_time_to_first_token_seconds_count', ttft.count),
  );
  metric('llm_node_cpu_usage_percent', 'gauge', 'Host CPU busy share since the previous scrape.', [
    [s.cpu_usage],
  ]);
  metric('llm_node_memory_usage_percent', 'gauge', 'Host memory in use.', [[s.memory_usage]]);
  metric('llm_node_process_resident_memory_bytes', 'gauge', 'Resident memory of the node process.', [
    [s.process_resident_memory_bytes],
  ]);
  metric('llm_node_models', 'gauge', 'Models by state.', [
    [s.models.ready, { state: 'ready' }],
    [s.models.loading, { state: 'loading' }],
    [s.models.failed, { state: 'failed' }],
  ]);
  metric(
    'llm_node_model_ready',
    'gauge',
    '1 when the model answers requests.',
    s.model_states.map((m) => [m.state === 'ready' ? 1 : 0, { model: m.id }]),
  );
  metric('llm_node_gpu_devices', 'gauge', 'GPU devices llama.cpp uses.', [[s.gpu.devices]]);
  metric('llm_node_gpu_memory_bytes', 'gauge', 'GPU memory.', [
    [s.gpu.memory_total_bytes, { kind: 'total' }],
    [(s.gpu.gpu_memory_used_mb ?? 0) * 1024 * 1024, { kind: 'used' }],
  ]);
  if (s.gpu.gpu_usage !== null)
    metric('llm_node_gpu_usage_percent', 'gauge', 'GPU utilisation.', [[s.gpu.gpu_usage]]);
  metric('llm_node_pulls_total', 'counter', 'Model pulls (reserved for model sync).', [[s.pull_count]]);
  return `${lines.join('\n')}\n`;
}
