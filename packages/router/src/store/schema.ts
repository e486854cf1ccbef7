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
}

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  nodes: NodesTable;
  invitations: InvitationsTable;
  request_history: RequestHistoryTable;
}
