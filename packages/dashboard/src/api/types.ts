/** The router's JSON shapes the dashboard reads (see README "Management API"). */

export type Role = 'admin' | 'viewer';
export interface Me {
  user_id: string;
  username: string;
  role: Role;
}

export type NodeStatus = 'online' | 'pending' | 'registering' | 'offline';

export interface ModelDownload {
  model: string;
  state: 'queued' | 'downloading' | 'verifying' | 'done' | 'error';
  bytes_downloaded: number;
  bytes_total: number | null;
  error?: string | null;
}

export interface DashboardNode {
  id: string;
  machine_name: string;
  ip_address: string;
  base_url: string;
  runtime_version: string;
  status: NodeStatus;
  registered_at: string | null;
  last_seen: string | null;
  online_since: string | null;
  custom_name: string | null;
  tags: string[];
  notes: string | null;
  models: Array<{ id: string; ready: boolean; capabilities?: string[] }>;
  gpu_available: boolean;
  gpu_devices: Array<{ model: string; count: number; memory?: number }>;
  gpu_model: string | null;
  model_downloads: ModelDownload[];
  metrics: {
    cpu_usage: number | null;
    memory_usage: number | null;
    gpu_usage: number | null;
    gpu_memory_usage: number | null;
    active_requests: number | null;
    updated_at: string | null;
  };
  router_stats: {
    in_flight: number;
    total_requests: number;
    successful_requests: number;
    failed_requests: number;
  };
  uptime_seconds: number;
  metrics_stale: boolean;
}

export interface Stats {
  total_nodes: number;
  online_nodes: number;
  pending_nodes: number;
  registering_nodes: number;
  offline_nodes: number;
  total_requests: number;
  successful_requests: number;
  failed_requests: number;
  total_active_requests: number;
  average_response_time_ms: number | null;
  tokens_per_second: number | null;
  average_gpu_usage: number | null;
  average_gpu_memory_usage: number | null;
  openai_key_present: boolean;
  google_key_present: boolean;
  anthropic_key_present: boolean;
}

export interface MinutePoint {
  minute: string;
  success: number;
  error: number;
}

export interface Overview {
  nodes: DashboardNode[];
  stats: Stats;
  history: MinutePoint[];
  generated_at: string;
}

export interface MetricsSample {
  timestamp: number;
  cpu_usage: number | null;
  memory_usage: number | null;
  gpu_usage: number | null;
  gpu_memory_usage: number | null;
  active_requests: number;
}

export interface LogEntry {
  timestamp?: string;
  ts?: string;
  level?: string;
  target?: string;
  message?: string;
  msg?: string;
  fields?: Record<string, unknown>;
}

export interface LogTail {
  source: string;
  entries: LogEntry[];
  path: string | null;
}

export interface ApiModel {
  id: string;
  owned_by: string;
  display_name?: string;
  format?: string;
  lifecycle_status?: 'pending' | 'caching' | 'registered' | 'error';
  download_progress?: {
    percent: number;
    bytes_downloaded: number;
    bytes_total: number | null;
    error: string | null;
  };
  ready?: boolean;
  servable?: boolean;
  servable_reason?: string | null;
  capabilities?: Record<string, boolean>;
}

export interface HistoryRecord {
  id: string;
  timestamp: string;
  request_type: string;
  model: string;
  node_id: string | null;
  node_machine_name: string | null;
  node_ip: string | null;
  client_ip: string | null;
  api_key_id: string | null;
  stream: boolean;
  status: 'success' | 'error';
  status_code: number | null;
  duration_ms: number;
  error_message: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  time_to_first_token_ms: number | null;
  completed_at: string | null;
  request_body?: unknown;
  response_body?: unknown;
}

export interface HistoryPage {
  records: HistoryRecord[];
  total: number;
  page: number;
  per_page: number;
}

export interface ApiKey {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface User {
  id: string;
  username: string;
  role: Role;
  created_at: string;
  last_login: string | null;
}

export interface Invitation {
  id: string;
  status: 'active' | 'used' | 'revoked' | 'expired';
  created_at: string;
  expires_at: string;
  used_by: string | null;
  used_at: string | null;
  code?: string;
}

export interface DiscoverResult {
  base_model: string;
  gguf_alternatives: Array<{
    repo: string;
    provider: string;
    trusted: boolean;
    files: Array<{ filename: string; size_bytes: number | null; quantization: string | null }>;
  }>;
}

/** `GET /v0/dashboard/cache-routing`: prefix-cache routing and admission control. */
export interface CacheHitFigures {
  requests: number;
  /** Requests whose node reported `cached_tokens`. */
  reported: number;
  hits: number;
  hit_rate: number | null;
  prompt_tokens: number;
  cached_tokens: number;
  cached_token_ratio: number | null;
  avg_prefix_match_chars: number | null;
  queued: number;
  avg_queue_wait_ms: number | null;
}

export interface CacheHitNode extends CacheHitFigures {
  node_id: string;
  node_machine_name: string | null;
}

export interface RoutingDecision {
  id: string;
  at: string;
  model: string;
  node_id: string;
  node_machine_name: string | null;
  status: string;
  stream: boolean;
  prompt_tokens: number | null;
  cached_tokens: number | null;
  prefix_match_chars: number | null;
  node_load: number | null;
  queue_wait_ms: number | null;
  time_to_first_token_ms: number | null;
  duration_ms: number;
}

export interface AdmissionQueueStats {
  queue_depth: number;
  queue_depth_by_priority: Record<'high' | 'normal' | 'low', number>;
  queue_max: number;
  queue_timeout_seconds: number;
  admitted_total: number;
  queued_total: number;
  rejected_full_total: number;
  rejected_timeout_total: number;
  abandoned_total: number;
  wait_seconds_sum: number;
  wait_seconds_max: number;
}

export interface CacheRouting {
  policy: string;
  window_minutes: number;
  models: Array<{ model: string; totals: CacheHitFigures; nodes: CacheHitNode[] }>;
  tokens: {
    bucket_seconds: number;
    buckets: Array<{ at: string; requests: number; evaluated_tokens: number; cached_tokens: number }>;
  };
  recent: RoutingDecision[];
  queue: AdmissionQueueStats;
  prefix_index: {
    entries: number;
    maxEntries: number;
    evictions: number;
    drops: number;
    checks: number;
    misses: number;
  } | null;
}
