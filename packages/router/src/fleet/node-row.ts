/**
 * A fleet node as the `nodes` table stores it, and the empty live state a node starts with:
 * the mapping the registry persists through, kept apart from the registry's rules.
 */
import type { NodesTable } from '../store/schema.js';
import type { FleetNode } from './types.js';

export const emptyMetrics = (): FleetNode['metrics'] => ({
  cpuUsage: null,
  memoryUsage: null,
  gpuUsage: null,
  gpuMemoryUsage: null,
  gpuMemoryTotalMb: null,
  gpuMemoryUsedMb: null,
  gpuTemperature: null,
  gpuCapabilityScore: null,
  activeRequests: 0,
  averageResponseTimeMs: null,
  updatedAt: null,
});

export const emptyStats = (): FleetNode['stats'] => ({
  inFlight: 0,
  totalAssigned: 0,
  successes: 0,
  failures: 0,
  latencySumMs: 0,
  lastPicked: 0,
});

export function toRow(node: FleetNode, tokenHash: string): NodesTable {
  return {
    id: node.id,
    machine_name: node.machineName,
    ip_address: node.ipAddress,
    base_url: node.baseUrl,
    runtime_version: node.runtimeVersion,
    runtime_port: node.runtimePort,
    node_api_port: node.nodeApiPort,
    status: node.status,
    registered_at: node.registeredAt,
    last_seen: node.lastSeen,
    online_since: node.onlineSince,
    gpu_available: node.gpuAvailable ? 1 : 0,
    gpu_devices: JSON.stringify(node.gpuDevices),
    gpu_count: node.gpuCount,
    gpu_model: node.gpuModel,
    supported_runtimes: JSON.stringify(node.supportedRuntimes),
    models: JSON.stringify(node.models),
    custom_name: node.customName,
    tags: JSON.stringify(node.tags),
    notes: node.notes,
    token_hash: tokenHash,
    approved: node.approved ? 1 : 0,
  };
}

export function fromRow(row: NodesTable): FleetNode {
  return {
    id: row.id,
    machineName: row.machine_name,
    ipAddress: row.ip_address,
    baseUrl: row.base_url,
    runtimeVersion: row.runtime_version,
    runtimePort: row.runtime_port,
    nodeApiPort: row.node_api_port,
    status: 'offline',
    approved: row.approved === 1,
    registeredAt: Number(row.registered_at),
    lastSeen: Number(row.last_seen),
    onlineSince: null,
    gpuAvailable: row.gpu_available === 1,
    gpuDevices: JSON.parse(row.gpu_devices),
    gpuCount: row.gpu_count,
    gpuModel: row.gpu_model,
    supportedRuntimes: JSON.parse(row.supported_runtimes),
    models: JSON.parse(row.models),
    initializing: false,
    readyModels: null,
    modelDownloads: [],
    metrics: emptyMetrics(),
    stats: emptyStats(),
    customName: row.custom_name,
    tags: JSON.parse(row.tags),
    notes: row.notes,
  };
}
