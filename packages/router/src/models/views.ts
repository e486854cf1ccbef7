/**
 * The JSON shapes the registry shows: the `/v1/models` entries (`listForApi`), the node feed
 * (`GET /v0/models`), one model's detail, and the manifest nodes download from.
 */
import type { HubClient } from './hf-client.js';
import { type ModelRecord, primaryFile, servedFiles } from './types.js';

export interface DownloadProgress {
  /** 0..1 (the contract's scale), over the bytes to fetch from the hub. */
  percent: number;
  bytes_downloaded: number;
  bytes_total: number | null;
  error: string | null;
}

/** One registered model for `/v1/models`, ready for the lead to merge with the fleet's view. */
export interface ApiModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'router';
  display_name: string;
  format: ModelRecord['format'];
  lifecycle_status: ModelRecord['lifecycleStatus'];
  download_progress: DownloadProgress;
  /** Cached on the router and servable by nodes. Whether a node has loaded it is the fleet's part. */
  ready: boolean;
  servable: boolean;
  servable_reason: string | null;
  capabilities: { chat_completion: boolean; completion: boolean; embeddings: boolean };
}

export const encodedId = (id: string) => encodeURIComponent(id);
export const manifestUrlOf = (id: string) => `/v0/models/registry/${encodedId(id)}/manifest.json`;
export const fileUrlOf = (id: string, name: string) =>
  `/v0/models/registry/${encodedId(id)}/files/${encodeURIComponent(name)}`;

export function downloadProgress(record: ModelRecord): DownloadProgress {
  const fromHub = record.files.filter((f) => f.sourcePath !== null);
  const sizes = fromHub.map((f) => f.sizeBytes);
  const total = sizes.every((s) => s !== null) ? sizes.reduce<number>((sum, s) => sum + (s ?? 0), 0) : null;
  const downloaded = fromHub.reduce(
    (sum, f) =>
      sum +
      (f.status === 'done'
        ? (f.sizeBytes ?? f.bytesDownloaded)
        : Math.min(f.bytesDownloaded, f.sizeBytes ?? Infinity)),
    0,
  );
  let percent = total ? downloaded / total : 0;
  if (record.lifecycleStatus === 'registered') percent = 1;
  return {
    percent: Math.min(1, Math.round(percent * 10_000) / 10_000),
    bytes_downloaded: downloaded,
    bytes_total: total,
    error: record.lifecycleStatus === 'error' ? record.error : null,
  };
}

export const isReady = (record: ModelRecord) => record.lifecycleStatus === 'registered' && record.servable;

export function apiEntry(record: ModelRecord): ApiModelEntry {
  return {
    id: record.id,
    object: 'model',
    created: Math.floor(record.createdAt / 1000),
    owned_by: 'router',
    display_name: record.displayName,
    format: record.format,
    lifecycle_status: record.lifecycleStatus,
    download_progress: downloadProgress(record),
    ready: isReady(record),
    servable: record.servable,
    servable_reason: record.servableReason,
    capabilities: {
      chat_completion: record.capabilities.includes('chat'),
      completion: record.capabilities.includes('completion') || record.capabilities.includes('chat'),
      embeddings: record.capabilities.includes('embeddings'),
    },
  };
}

/** A `GET /v0/models` row: the contract's ModelInfo plus the lifecycle and distribution fields. */
export function feedEntry(record: ModelRecord, hub: HubClient, modelDir: string) {
  const primary = primaryFile(record);
  const registered = record.lifecycleStatus === 'registered';
  const singleGguf = record.format === 'gguf' && primary?.name === 'model.gguf';
  const label = record.quantization ? ` ${record.quantization}` : '';
  return {
    name: record.id,
    display_name: record.displayName,
    description: `${record.displayName} (${record.format}${label}) from Hugging Face ${record.repo}`,
    size: record.sizeBytes,
    required_memory: record.requiredMemoryBytes,
    tags: [record.format],
    capabilities: record.capabilities,
    source: record.format === 'gguf' ? 'hf_gguf' : 'hf_safetensors',
    repo: record.repo,
    revision: record.revision,
    filename: record.filename,
    format: record.format,
    quantization: record.quantization,
    chat_template: record.chatTemplate,
    /** The hub URL of the chosen file (a node's last resort); null when the router produced it. */
    download_url: record.files.some((f) => f.sourcePath === null)
      ? null
      : hub.resolveUrl(record.repo, record.revision, record.filename),
    /** Absolute path of the primary file on the router; a node that can read it uses it in place. */
    path: registered && primary ? `${modelDir}/${primary.name}` : null,
    primary_file: primary?.name ?? null,
    manifest_url: manifestUrlOf(record.id),
    blob_url: singleGguf ? `/v0/models/blob/${encodedId(record.id)}` : null,
    last_modified: new Date(record.cachedAt ?? record.updatedAt).toISOString(),
    status: record.lifecycleStatus,
    lifecycle_status: record.lifecycleStatus,
    error: record.error,
    download_progress: downloadProgress(record),
    ready: isReady(record),
    servable: record.servable,
    servable_reason: record.servableReason,
  };
}

/** The admin/CLI view of one model: the feed row plus warnings, files and tasks. */
export function detailEntry(record: ModelRecord, hub: HubClient, modelDir: string) {
  return {
    ...feedEntry(record, hub, modelDir),
    gguf_policy: record.ggufPolicy,
    warnings: record.warnings,
    created_at: new Date(record.createdAt).toISOString(),
    files: record.files.map((f) => ({
      name: f.name,
      source_path: f.sourcePath,
      role: f.role,
      size: f.sizeBytes,
      sha256: f.sha256 ?? f.expectedSha256,
      status: f.status,
      bytes_downloaded: f.bytesDownloaded,
    })),
    tasks: record.tasks.map((t) => ({
      id: t.id,
      kind: t.kind,
      status: t.status,
      attempts: t.attempts,
      error: t.error,
      params: t.params,
      created_at: new Date(t.createdAt).toISOString(),
      finished_at: t.finishedAt === null ? null : new Date(t.finishedAt).toISOString(),
    })),
  };
}

const PRIORITY_FILES = new Set(['config.json', 'tokenizer.json']);

/** `manifest.json`: every served file with its size and verified SHA-256, sorted by name. */
export function manifestOf(record: ModelRecord) {
  return {
    model: record.id,
    format: record.format,
    revision: record.revision,
    primary_file: primaryFile(record)?.name ?? null,
    files: servedFiles(record).map((f) => ({
      name: f.name,
      size: f.sizeBytes,
      sha256: f.sha256,
      digest: `sha256:${f.sha256}`,
      url: fileUrlOf(record.id, f.name),
      ...(PRIORITY_FILES.has(f.name) ? { priority: 10 } : {}),
    })),
  };
}
