/**
 * Table types for Kysely. Timestamps are milliseconds since the epoch (bigint), booleans are
 * 0/1 integers and lists are JSON text, so one schema runs on SQLite and PostgreSQL alike.
 */
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: 'admin' | 'viewer';
  created_at: number;
  last_login: number | null;
  /** Bumped on logout or password change; JWTs carrying an older generation are rejected. */
  token_generation: Generated<number>;
  /** JSON limits for this user's dashboard sessions (see limits/spec.ts); null = none. */
  limits?: string | null;
}

export interface ApiKeysTable {
  id: string;
  /** SHA-256 hex of the whole key; the key itself is never stored. */
  key_hash: string;
  /** The first characters of the key, shown in listings so people can tell keys apart. */
  key_prefix: string;
  name: string;
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
  /** JSON array of scopes. */
  scopes: string;
  last_used_at: number | null;
  /** JSON limits (see limits/spec.ts); null = none. */
  limits?: string | null;
}

/** The latest heartbeat of a node, whichever router replica received it. */
export interface NodeHeartbeatsTable {
  node_id: string;
  router_id: string;
  last_seen: number;
  /** JSON array of {id, ready, capabilities}. */
  models: string;
  active_requests: number;
  initializing: number;
}

/** A counter per topic (`api_keys`, `fleet`) bumped on every change, for replicas to notice. */
export interface ChangeVersionsTable {
  topic: string;
  version: number;
}

/** Which router replica runs a model's cache tasks (download, quantize), until `expires_at`. */
export interface ModelTaskLeasesTable {
  model_id: string;
  holder: string;
  expires_at: number;
}

/** One window of one limit of one subject; `used` is what admission reserved in it. */
export interface LimitCountersTable {
  subject: string;
  counter: string;
  window_start: number;
  used: number;
}

export interface NodesTable {
  id: string;
  machine_name: string;
  ip_address: string;
  base_url: string;
  runtime_version: string;
  runtime_port: number;
  node_api_port: number | null;
  status: string;
  registered_at: number;
  last_seen: number;
  online_since: number | null;
  gpu_available: number;
  /** JSON array of {model, count, memory}. */
  gpu_devices: string;
  gpu_count: number;
  gpu_model: string | null;
  /** JSON array. */
  supported_runtimes: string;
  /** JSON array of {id, ready, capabilities}. */
  models: string;
  custom_name: string | null;
  /** JSON array. */
  tags: string;
  notes: string | null;
  /** SHA-256 hex of the node token. */
  token_hash: string;
  /** 0 while the node waits for admin approval (LLM_ROUTER_REQUIRE_NODE_APPROVAL). */
  approved: number;
}

export interface InvitationsTable {
  id: string;
  code_hash: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  status: 'active' | 'used' | 'revoked';
  used_by: string | null;
  used_at: number | null;
}

/** One row per `/v1` request, including requests for which no node could be chosen. */
export interface RequestHistoryTable {
  id: string;
  timestamp: number;
  /** `chat`, `generate` (completions) or `embeddings`. */
  request_type: string;
  model: string;
  /** The node, or `cloud:<provider>` for cloud requests; null when no node was chosen. */
  node_id: string | null;
  node_machine_name: string | null;
  node_ip: string | null;
  client_ip: string | null;
  api_key_id: string | null;
  stream: number;
  /** JSON, with data-URLs and base64 payloads redacted. */
  request_body: string | null;
  /** JSON, capped in size; streams are stored reassembled. */
  response_body: string | null;
  duration_ms: number;
  status: 'success' | 'error';
  status_code: number;
  error_message: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  time_to_first_token_ms: number | null;
  completed_at: number;
  /** The request's `x-request-id` and W3C trace id (migration 0007). */
  request_id: string | null;
  trace_id: string | null;
  /** The Server-Timing breakdown in milliseconds (migration 0007). */
  timing_auth_ms: number | null;
  timing_select_ms: number | null;
  timing_connect_ms: number | null;
  timing_ttfb_ms: number | null;
  /** Prompt tokens the node served from its KV cache (`usage.prompt_tokens_details.cached_tokens`). */
  cached_tokens: number | null;
  /** Characters of the prompt the chosen node was believed to hold (cache_aware routing). */
  prefix_match_chars: number | null;
  /** Requests in progress on the chosen node when it was chosen (cache_aware routing). */
  node_load: number | null;
  /** Time spent in the router's admission queue, when the request had to wait. */
  queue_wait_ms: number | null;
  /**
   * JSON array of the node attempts that failed before the reply (`{node_id, kind, message}`,
   * in order); null when the first node answered (migration 0009).
   */
  failed_attempts: string | null;
}

/** A model registered from Hugging Face (issue 4). `id` is the repo id, lowercased. */
export interface ModelsTable {
  id: string;
  /** The repo as Hugging Face spells it (case kept), used for hub calls. */
  repo: string;
  revision: string;
  display_name: string;
  format: 'gguf' | 'safetensors';
  /** The hub file the registration chose (a `.gguf`, a `.safetensors` or an index). */
  filename: string;
  /** Quant label of the served GGUF (after quantization, the target label). */
  quantization: string | null;
  gguf_policy: string | null;
  /** Kept as metadata only; never written into the cached files. */
  chat_template: string | null;
  size_bytes: number;
  required_memory_bytes: number;
  /** 0 when no node engine can run the format yet (safetensors); see `servable_reason`. */
  servable: number;
  servable_reason: string | null;
  /** JSON array of `chat`, `completion`, `embeddings`. */
  capabilities: string;
  /** JSON array of registration warnings. */
  warnings: string;
  lifecycle_status: 'pending' | 'caching' | 'registered' | 'error';
  error: string | null;
  created_at: number;
  updated_at: number;
  cached_at: number | null;
}

/** One file of a model's router cache: expected (from the hub) and verified (on disk). */
export interface ModelFilesTable {
  model_id: string;
  /** Name inside the model's cache dir (a plain file name, no slashes). */
  name: string;
  /** Path in the hub repo; null for files the router produced (quantization output). */
  source_path: string | null;
  /** `weights`, `metadata`, or `quantize_source` (downloaded only to be quantized, never served). */
  role: 'weights' | 'metadata' | 'quantize_source';
  size_bytes: number | null;
  /** The LFS oid the hub publishes for the file. */
  expected_sha256: string | null;
  /** The git blob id, the only digest the hub publishes for small non-LFS files. */
  expected_git_sha1: string | null;
  /** The verified SHA-256 of the cached file (set when `status` is `done`). */
  sha256: string | null;
  etag: string | null;
  bytes_downloaded: number;
  status: 'pending' | 'done';
  priority: number;
}

/** A persisted cache task: `download` fetches a model's files, `quantize` runs llama-quantize. */
export interface ModelTasksTable {
  id: string;
  model_id: string;
  kind: 'download' | 'quantize';
  status: 'queued' | 'in_progress' | 'completed' | 'failed';
  attempts: number;
  error: string | null;
  /** JSON object: for `quantize`, `{source, target}`. */
  params: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface ModelRegistryStateTable {
  key: string;
  value: number;
}

/** A stored OpenAI Response (`/v1/responses` with `store`). JSON columns are text. */
export interface ResponsesTable {
  id: string;
  owner: string;
  model: string;
  /** `openai` when OpenAI itself holds the response too (native passthrough); null otherwise. */
  provider: string | null;
  created_at: number;
  /** The chat messages that led to this response (input side), JSON. */
  conversation: string;
  /** The response object as the client got it, JSON. */
  response: string;
}

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  nodes: NodesTable;
  invitations: InvitationsTable;
  request_history: RequestHistoryTable;
  models: ModelsTable;
  model_files: ModelFilesTable;
  model_tasks: ModelTasksTable;
  model_registry_state: ModelRegistryStateTable;
  limit_counters: LimitCountersTable;
  responses: ResponsesTable;
  node_heartbeats: NodeHeartbeatsTable;
  change_versions: ChangeVersionsTable;
  model_task_leases: ModelTaskLeasesTable;
}
