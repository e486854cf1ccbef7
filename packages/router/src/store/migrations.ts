/**
 * Versioned schema migrations. Each entry runs once, in order, recorded by Kysely's migrator
 * in `kysely_migration`. Never edit a migration that has shipped: add a new one.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_login', 'bigint')
        .addColumn('token_generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('key_prefix', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('nodes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('machine_name', 'text', (c) => c.notNull())
        .addColumn('ip_address', 'text', (c) => c.notNull())
        .addColumn('base_url', 'text', (c) => c.notNull())
        .addColumn('runtime_version', 'text', (c) => c.notNull())
        .addColumn('runtime_port', 'integer', (c) => c.notNull())
        .addColumn('node_api_port', 'integer')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('online_since', 'bigint')
        .addColumn('gpu_available', 'integer', (c) => c.notNull())
        .addColumn('gpu_devices', 'text', (c) => c.notNull())
        .addColumn('gpu_count', 'integer', (c) => c.notNull())
        .addColumn('gpu_model', 'text')
        .addColumn('supported_runtimes', 'text', (c) => c.notNull())
        .addColumn('models', 'text', (c) => c.notNull())
        .addColumn('custom_name', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('notes', 'text')
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_invitations_and_history': {
    async up(db: Kysely<unknown>) {
      // Approval is a property of the node's identity: once approved, a node that re-registers
      // or comes back from offline stays approved; a pending one stays pending.
      await db.schema
        .alterTable('nodes')
        .addColumn('approved', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema
        .createTable('invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('code_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('used_by', 'text')
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('request_history')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('request_type', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text')
        .addColumn('node_machine_name', 'text')
        .addColumn('node_ip', 'text')
        .addColumn('client_ip', 'text')
        .addColumn('api_key_id', 'text')
        .addColumn('stream', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('request_body', 'text')
        .addColumn('response_body', 'text')
        .addColumn('duration_ms', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer', (c) => c.notNull())
        .addColumn('error_message', 'text')
        .addColumn('prompt_tokens', 'integer')
        .addColumn('completion_tokens', 'integer')
        .addColumn('time_to_first_token_ms', 'bigint')
        .addColumn('completed_at', 'bigint', (c) => c.notNull())
        .execute();
      for (const column of ['timestamp', 'model', 'node_id', 'status', 'api_key_id']) {
        await db.schema
          .createIndex(`request_history_${column}`)
          .on('request_history')
          .column(column)
          .execute();
      }
      await db.schema
        .createIndex('request_history_timestamp_status')
        .on('request_history')
        .columns(['timestamp', 'status'])
        .execute();
    },
  },
  '0003_models': {
    async up(db: Kysely<unknown>) {
      // The model registry (issue 4). Files and tasks hang off their model and go with it.
      await db.schema
        .createTable('models')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repo', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('quantization', 'text')
        .addColumn('gguf_policy', 'text')
        .addColumn('chat_template', 'text')
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('required_memory_bytes', 'bigint', (c) => c.notNull())
        .addColumn('servable', 'integer', (c) => c.notNull())
        .addColumn('servable_reason', 'text')
        .addColumn('capabilities', 'text', (c) => c.notNull())
        .addColumn('warnings', 'text', (c) => c.notNull())
        .addColumn('lifecycle_status', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('cached_at', 'bigint')
        .execute();
      await db.schema
        .createTable('model_files')
        .addColumn('model_id', 'text', (c) => c.notNull().references('models.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('source_path', 'text')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint')
        .addColumn('expected_sha256', 'text')
        .addColumn('expected_git_sha1', 'text')
        .addColumn('sha256', 'text')
        .addColumn('etag', 'text')
        .addColumn('bytes_downloaded', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('model_files_pk', ['model_id', 'name'])
        .execute();
      await db.schema
        .createTable('model_tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model_id', 'text', (c) => c.notNull().references('models.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('model_tasks_model_id').on('model_tasks').column('model_id').execute();
      await db.schema.createIndex('model_tasks_status').on('model_tasks').column('status').execute();
      // Small key/value state; `models_version` lives here so it only ever moves forward.
      await db.schema
        .createTable('model_registry_state')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0004_responses': {
    async up(db: Kysely<unknown>) {
      // Stored OpenAI Responses (issue 9): the reply object and the conversation that led to it,
      // so `previous_response_id` can continue it. Owner is `key:<api key id>` or `user:<id>`.
      await db.schema
        .createTable('responses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('provider', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('conversation', 'text', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('responses_created_at').on('responses').column('created_at').execute();
    },
  },
  '0006_routing_decisions': {
    async up(db: Kysely<unknown>) {
      // Prefix-cache routing and admission control (issue 12): what the router decided and
      // what the node reported. Null for rows from before, cloud requests and embeddings.
      for (const column of ['cached_tokens', 'prefix_match_chars', 'node_load', 'queue_wait_ms']) {
        await db.schema.alterTable('request_history').addColumn(column, 'integer').execute();
      }
    },
  },
  '0007_request_tracing': {
    async up(db: Kysely<unknown>) {
      // Issue 11: the request id and trace a row belongs to, and where its time went
      // (the Server-Timing breakdown). Null for rows written before this migration.
      const columns: Array<[string, 'text' | 'double precision']> = [
        ['request_id', 'text'],
        ['trace_id', 'text'],
        ['timing_auth_ms', 'double precision'],
        ['timing_select_ms', 'double precision'],
        ['timing_connect_ms', 'double precision'],
        ['timing_ttfb_ms', 'double precision'],
      ];
      // SQLite adds one column per ALTER TABLE statement.
      for (const [name, type] of columns) {
        await db.schema.alterTable('request_history').addColumn(name, type).execute();
      }
      await db.schema
        .createIndex('request_history_request_id')
        .on('request_history')
        .column('request_id')
        .execute();
    },
  },
  // Per-key and per-user limits, and the counters that enforce them. A counter row is one
  // window (a minute, a UTC day or month) of one limit of one subject (`key:<id>`, `user:<id>`);
  // admission reserves with one conditional UPDATE per row, so routers sharing PostgreSQL
  // never admit past a limit.
  '0008_limits': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('api_keys').addColumn('limits', 'text').execute();
      await db.schema.alterTable('users').addColumn('limits', 'text').execute();
      await db.schema
        .createTable('limit_counters')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('counter', 'text', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('used', 'bigint', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('limit_counters_pk', ['subject', 'counter', 'window_start'])
        .execute();
      await db.schema
        .createIndex('limit_counters_window')
        .on('limit_counters')
        .column('window_start')
        .execute();
    },
  },
  // Several routers on one database: every heartbeat any replica receives lands here, so each
  // replica routes to every live node; `change_versions` lets replicas on SQLite see changes
  // (PostgreSQL also sends them through LISTEN/NOTIFY).
  '0008_fleet_sync': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('node_heartbeats')
        .addColumn('node_id', 'text', (c) => c.primaryKey())
        .addColumn('router_id', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('models', 'text', (c) => c.notNull())
        .addColumn('active_requests', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('initializing', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('change_versions')
        .addColumn('topic', 'text', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  // The node attempts a request failed over from (timeouts, dead or broken nodes), per request.
  '0009_failed_attempts': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('request_history').addColumn('failed_attempts', 'text').execute();
    },
  },
  // Several routers, one model cache: a model's cache tasks run on the replica that holds its
  // lease (taken with one conditional upsert, renewed while the tasks run, taken over once expired).
  '0010_model_task_leases': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('model_task_leases')
        .addColumn('model_id', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  // The index on (timestamp, status) serves every query the one on timestamp alone served (time
  // ranges, newest first, retention), so that one only cost each recorded request a B-tree insert.
  '0011_history_timestamp_index': {
    async up(db: Kysely<unknown>) {
      await db.schema.dropIndex('request_history_timestamp').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
