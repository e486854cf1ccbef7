/**
 * The node <-> router protocol: registration (`POST /v0/nodes`) and heartbeats
 * (`POST /v0/health`). Field names follow the upstream contract so that existing nodes keep
 * working; the additions (`node_id`, `base_url`, `models`) are optional on the wire.
 */
import { z } from 'zod';
import { MODEL_CAPABILITIES } from './endpoints.js';

/**
 * An optional field that also takes `null` (the upstream's serde reads null as "absent"), and
 * hands the router `undefined` for both.
 */
const absentOrNull = <T extends z.ZodTypeAny>(schema: T) =>
  schema
    .nullish()
    .transform((value): z.output<T> | undefined => value ?? undefined)
    .optional();

/** A list that may be missing or null on the wire; both mean empty. */
const listOrNull = <T extends z.ZodTypeAny>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((value): z.output<T>[] => value ?? []);

export const GpuDeviceSchema = z.object({
  model: z.string(),
  count: z.number().int().nonnegative(),
  /** Device memory in bytes. */
  memory: absentOrNull(z.number().nonnegative()),
});
export type GpuDevice = z.infer<typeof GpuDeviceSchema>;

/** One model a node has, and whether it can answer requests for it yet. */
export const NodeModelSchema = z.object({
  id: z.string().min(1),
  ready: z.boolean(),
  /** What the model can do on this node: `chat` (and completions) or `embeddings`. */
  capabilities: absentOrNull(z.array(z.enum(MODEL_CAPABILITIES))),
  /**
   * Extension (prefix-cache routing, admission control): the model's context sequences (requests
   * served at once), how many are busy, how many requests wait for one, and how many may wait
   * before the node refuses (503). Absent or null from nodes that do not report them.
   */
  sequences: z.number().int().nonnegative().nullish(),
  busy_sequences: z.number().int().nonnegative().nullish(),
  queued_requests: z.number().int().nonnegative().nullish(),
  queue_limit: z.number().int().nonnegative().nullish(),
  /** When this copy of the model was loaded (ms since epoch): a new value means its KV caches are empty. */
  loaded_at: z.number().nonnegative().nullish(),
});
export type NodeModel = z.infer<typeof NodeModelSchema>;

export const RegisterNodeRequestSchema = z.object({
  /** Stable id the node persists, so two hosts with one hostname stay two nodes. */
  node_id: absentOrNull(z.string().uuid()),
  machine_name: z.string().min(1).max(255),
  ip_address: z.string().min(1).max(255),
  runtime_version: z
    .string()
    .max(64)
    .nullish()
    .transform((value) => value ?? '1.0.0'),
  /** Kept for compatibility; the router calls `base_url` (or `ip_address:node_api_port`). */
  runtime_port: z.number().int().min(0).max(65535),
  node_api_port: absentOrNull(z.number().int().min(1).max(65535)),
  /** The URL the router should call, e.g. `http://10.0.0.5:11435`. */
  base_url: absentOrNull(z.string().url()),
  gpu_available: z.boolean(),
  gpu_devices: listOrNull(GpuDeviceSchema),
  gpu_count: absentOrNull(z.number().int().nonnegative()),
  gpu_model: absentOrNull(z.string()),
  supported_runtimes: listOrNull(z.string()),
  models: absentOrNull(z.array(NodeModelSchema)),
  initializing: absentOrNull(z.boolean()),
});
export type RegisterNodeRequest = z.input<typeof RegisterNodeRequestSchema>;

export const RegisterNodeResponseSchema = z.object({
  node_id: z.string(),
  status: z.enum(['registered', 'updated']),
  node_api_port: z.number().int().nullable(),
  node_token: z.string(),
  /** How often the router expects a heartbeat, in seconds. */
  heartbeat_interval_secs: z.number().optional(),
  models_version: z.number().int().optional(),
});
export type RegisterNodeResponse = z.infer<typeof RegisterNodeResponseSchema>;

const percent = z.number().min(0).max(100);

/** A model the node is pulling from the router, reported in heartbeats for the dashboard. */
export const ModelDownloadSchema = z.object({
  model: z.string().min(1),
  state: z.enum(['queued', 'downloading', 'verifying', 'done', 'error']),
  bytes_downloaded: z.number().nonnegative(),
  bytes_total: z.number().nonnegative().nullable(),
  error: z.string().nullable().optional(),
});
export type ModelDownload = z.infer<typeof ModelDownloadSchema>;

export const HeartbeatRequestSchema = z.object({
  node_id: z.string().uuid(),
  cpu_usage: percent,
  memory_usage: percent,
  gpu_usage: percent.nullish(),
  gpu_memory_usage: percent.nullish(),
  gpu_memory_total_mb: z.number().nonnegative().nullish(),
  gpu_memory_used_mb: z.number().nonnegative().nullish(),
  gpu_temperature: z.number().nullish(),
  gpu_model_name: z.string().nullish(),
  gpu_compute_capability: z.string().nullish(),
  gpu_capability_score: z.number().nullish(),
  active_requests: z.number().int().nonnegative(),
  average_response_time_ms: z.number().nonnegative().nullish(),
  loaded_models: listOrNull(z.string()),
  loaded_embedding_models: listOrNull(z.string()),
  loaded_asr_models: listOrNull(z.string()),
  loaded_tts_models: listOrNull(z.string()),
  supported_runtimes: listOrNull(z.string()),
  initializing: z
    .boolean()
    .nullish()
    .transform((value) => value ?? false),
  ready_models: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).nullish(),
  /** Extension: every model the node has, ready or not. */
  models: absentOrNull(z.array(NodeModelSchema)),
  /** Extension: models being pulled from the router, with byte progress. */
  model_downloads: absentOrNull(z.array(ModelDownloadSchema).max(1000)),
});
export type HeartbeatRequest = z.input<typeof HeartbeatRequestSchema>;

export const HeartbeatResponseSchema = z.object({
  node_status: z.string(),
  /** Bumped whenever the router's model set changes; nodes re-sync when it moves. */
  models_version: z.number().int(),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

/** Node states. Only `online` nodes receive traffic. */
export const NODE_STATUSES = ['pending', 'registering', 'online', 'offline'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];
