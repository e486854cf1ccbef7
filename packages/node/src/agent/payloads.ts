/** The registration and heartbeat bodies, built from what the node really has and measures. */
import type { HeartbeatRequest, ModelDownload, NodeModel, RegisterNodeRequest } from '@llm-router/protocol';
import type { GpuStats } from '../llama/gpu-stats.js';
import type { GpuInfo } from '../llama/runtime.js';

export const SUPPORTED_RUNTIMES = ['llama_cpp'];

export interface NodeIdentity {
  machineName: string;
  ip: string;
  port: number;
  publicUrl: string;
  version: string;
  gpu: GpuInfo;
}

export interface NodeLoad {
  models: NodeModel[];
  initializing: boolean;
  activeRequests: number;
  averageResponseTimeMs: number | null;
  cpuUsage: number;
  memoryUsage: number;
  gpu: GpuStats;
  /** Models being pulled from the router (model sync); absent when sync is off. */
  modelDownloads?: ModelDownload[];
}

export function buildRegisterBody(
  nodeId: string,
  identity: NodeIdentity,
  load: NodeLoad,
): RegisterNodeRequest {
  const { gpu } = identity;
  return {
    node_id: nodeId,
    machine_name: identity.machineName,
    ip_address: identity.ip,
    runtime_version: identity.version,
    // Upstream routers call runtime_port + 1; ours calls base_url. Both see the real port here.
    runtime_port: identity.port,
    node_api_port: identity.port,
    base_url: identity.publicUrl,
    gpu_available: gpu.available,
    gpu_devices: gpu.devices,
    gpu_count: gpu.devices.reduce((sum, d) => sum + d.count, 0),
    ...(gpu.devices[0] ? { gpu_model: gpu.devices[0].model } : {}),
    supported_runtimes: SUPPORTED_RUNTIMES,
    models: load.models,
    initializing: load.initializing,
  };
}

const round = (value: number) => Math.round(value * 100) / 100;

export function buildHeartbeatBody(nodeId: string, load: NodeLoad): HeartbeatRequest {
  const ready = load.models.filter((m) => m.ready);
  const embeddingOnly = ready.filter(
    (m) => m.capabilities?.length === 1 && m.capabilities[0] === 'embeddings',
  );
  return {
    node_id: nodeId,
    cpu_usage: round(load.cpuUsage),
    memory_usage: round(load.memoryUsage),
    gpu_usage: load.gpu.gpu_usage,
    gpu_memory_usage: load.gpu.gpu_memory_usage === null ? null : round(load.gpu.gpu_memory_usage),
    gpu_memory_total_mb: load.gpu.gpu_memory_total_mb,
    gpu_memory_used_mb: load.gpu.gpu_memory_used_mb,
    gpu_temperature: load.gpu.gpu_temperature,
    gpu_model_name: load.gpu.gpu_model_name,
    active_requests: load.activeRequests,
    average_response_time_ms: load.averageResponseTimeMs === null ? null : round(load.averageResponseTimeMs),
    loaded_models: ready.map((m) => m.id),
    // Encoder-only models; generative models also embed, which `models[].capabilities` says.
    loaded_embedding_models: embeddingOnly.map((m) => m.id),
    supported_runtimes: SUPPORTED_RUNTIMES,
    initializing: load.initializing,
    ready_models: [ready.length, load.models.length],
    models: load.models,
    ...(load.modelDownloads ? { model_downloads: load.modelDownloads } : {}),
  };
}
