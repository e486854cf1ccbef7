/** The JSON shape of a node in the management API (upstream field names, plus our additions). */
import type { FleetNode } from '../fleet/types.js';
import { isoTime } from './json-time.js';

export function nodeToJson(node: FleetNode) {
  const readyIds = node.models.filter((m) => m.ready).map((m) => m.id);
  return {
    id: node.id,
    machine_name: node.machineName,
    ip_address: node.ipAddress,
    base_url: node.baseUrl,
    runtime_version: node.runtimeVersion,
    runtime_port: node.runtimePort,
    node_api_port: node.nodeApiPort,
    status: node.status,
    registered_at: isoTime(node.registeredAt),
    last_seen: isoTime(node.lastSeen),
    online_since: isoTime(node.onlineSince),
    custom_name: node.customName,
    tags: node.tags,
    notes: node.notes,
    loaded_models: readyIds.filter((id) => isChatModel(node, id)),
    loaded_embedding_models: readyIds.filter((id) => isEmbeddingModel(node, id)),
    models: node.models,
    supported_runtimes: node.supportedRuntimes,
    gpu_available: node.gpuAvailable,
    gpu_devices: node.gpuDevices,
    gpu_count: node.gpuCount,
    gpu_model: node.gpuModel,
    initializing: node.initializing,
    ready_models: node.readyModels,
    model_downloads: node.modelDownloads,
    metrics: {
      cpu_usage: node.metrics.cpuUsage,
      memory_usage: node.metrics.memoryUsage,
      gpu_usage: node.metrics.gpuUsage,
      gpu_memory_usage: node.metrics.gpuMemoryUsage,
      active_requests: node.metrics.activeRequests,
      updated_at: isoTime(node.metrics.updatedAt),
    },
    router_stats: {
      in_flight: node.stats.inFlight,
      total_requests: node.stats.totalAssigned,
      successful_requests: node.stats.successes,
      failed_requests: node.stats.failures,
    },
  };
}

function capabilitiesOf(node: FleetNode, id: string) {
  return node.models.find((m) => m.id === id)?.capabilities;
}
const isChatModel = (node: FleetNode, id: string) => capabilitiesOf(node, id)?.includes('chat') ?? true;
const isEmbeddingModel = (node: FleetNode, id: string) =>
  capabilitiesOf(node, id)?.includes('embeddings') ?? false;
