/** The registry's in-memory records: what the database holds plus live download progress. */
import type { ModelCapability } from '@llm-router/protocol';
import type { QuantLabel } from './quant.js';
import type { GgufPolicy, ModelFormat } from './selection.js';

export type LifecycleStatus = 'pending' | 'caching' | 'registered' | 'error';

export interface ModelFileRecord {
  /** Plain name inside the model's cache folder. */
  name: string;
  /** Path in the hub repo; null for files the router produces (quantization output). */
  sourcePath: string | null;
  role: 'weights' | 'metadata' | 'quantize_source';
  sizeBytes: number | null;
  expectedSha256: string | null;
  expectedGitSha1: string | null;
  /** Verified SHA-256 of the cached file; set when `status` is `done`. */
  sha256: string | null;
  etag: string | null;
  /** Live while downloading; persisted at least once a second. */
  bytesDownloaded: number;
  status: 'pending' | 'done';
  priority: number;
}

export type TaskKind = 'download' | 'quantize';
export type TaskStatus = 'queued' | 'in_progress' | 'completed' | 'failed';

export interface ModelTaskRecord {
  id: string;
  modelId: string;
  kind: TaskKind;
  status: TaskStatus;
  attempts: number;
  error: string | null;
  params: { source?: string; target?: QuantLabel };
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface ModelRecord {
  id: string;
  repo: string;
  revision: string;
  displayName: string;
  format: ModelFormat;
  filename: string;
  quantization: QuantLabel | null;
  ggufPolicy: GgufPolicy | null;
  chatTemplate: string | null;
  sizeBytes: number;
  requiredMemoryBytes: number;
  servable: boolean;
  servableReason: string | null;
  capabilities: ModelCapability[];
  warnings: string[];
  lifecycleStatus: LifecycleStatus;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  cachedAt: number | null;
  files: ModelFileRecord[];
  tasks: ModelTaskRecord[];
}

/** The file nodes load: `model.gguf`, the first part of a split GGUF, or the safetensors entry point. */
export function primaryFile(record: ModelRecord): ModelFileRecord | undefined {
  const weights = record.files.filter((f) => f.role === 'weights');
  if (record.format === 'gguf')
    return weights.find((f) => f.name === 'model.gguf') ?? weights.sort(byName)[0];
  return (
    weights.find((f) => f.name.endsWith('.safetensors.index.json')) ??
    weights.find((f) => f.name.endsWith('.safetensors'))
  );
}

const byName = (a: ModelFileRecord, b: ModelFileRecord) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Files nodes may fetch: everything but a quantization source. */
export const servedFiles = (record: ModelRecord) =>
  record.files.filter((f) => f.role !== 'quantize_source').sort(byName);
