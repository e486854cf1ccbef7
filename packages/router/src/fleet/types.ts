/**
 * The in-memory view of one node that routing works from. The registry owns these objects;
 * the balancer and proxy only read them (and the proxy adjusts `inFlight` through the
 * registry's `beginRequest`/`endRequest`).
 */
import type { GpuDevice, ModelDownload, NodeModel, NodeStatus } from '@llm-router/protocol';

export interface NodeMetrics {
  cpuUsage: number | null;
  memoryUsage: number | null;
  gpuUsage: number | null;
  gpuMemoryUsage: number | null;
  gpuMemoryTotalMb: number | null;
  gpuMemoryUsedMb: number | null;
  gpuTemperature: number | null;
  gpuCapabilityScore: number | null;
  /** Active requests the node itself reported in its last heartbeat. */
  activeRequests: number;
  averageResponseTimeMs: number | null;
  /** When these metrics arrived (ms since epoch); null before the first heartbeat. */
  updatedAt: number | null;
}

/** Counters the router keeps itself, independent of what the node reports. */
export interface NodeRouterStats {
  /** Requests the router has sent to this node and not yet finished (streams: until the last byte). */
  inFlight: number;
  totalAssigned: number;
  successes: number;
  failures: number;
  latencySumMs: number;
  /**
   * When the balancer last picked this node, as a round-robin tick (0: never); see
   * balancer/rotation.ts. Not a time, and not persisted.
   */
  lastPicked: number;
}

export interface FleetNode {
  id: string;
  machineName: string;
  ipAddress: string;
  /** Where the router sends requests, without a trailing slash: `http://host:port`. */
  baseUrl: string;
  runtimeVersion: string;
  runtimePort: number;
  nodeApiPort: number | null;
  status: NodeStatus;
  /** False while the node waits for an admin's approval (LLM_ROUTER_REQUIRE_NODE_APPROVAL). */
  approved: boolean;
  registeredAt: number;
  lastSeen: number;
  onlineSince: number | null;
  gpuAvailable: boolean;
  gpuDevices: GpuDevice[];
  gpuCount: number;
  gpuModel: string | null;
  supportedRuntimes: string[];
  /** Every model the node has, ready or not. */
  models: NodeModel[];
  initializing: boolean;
  readyModels: [number, number] | null;
  /** Models the node is pulling from the router, as its last heartbeat reported them. */
  modelDownloads: ModelDownload[];
  metrics: NodeMetrics;
  stats: NodeRouterStats;
  customName: string | null;
  tags: string[];
  notes: string | null;
}

export function nodeHasReadyModel(node: FleetNode, model: string): boolean {
  return node.models.some((m) => m.ready && m.id === model);
}

/** A node's model entry that declares embeddings and nothing else (none declared: text generation). */
export function declaresOnlyEmbeddings(entry: NodeModel): boolean {
  return entry.capabilities?.every((c) => c === 'embeddings') ?? false;
}

/**
 * True when some node lists `model` and every entry for it, on any node in any state, declares
 * it embeddings-only. The straightforward walk; the registry answers from a cache.
 */
export function servesOnlyEmbeddings(nodes: Iterable<FleetNode>, model: string): boolean {
  let listed = false;
  for (const node of nodes) {
    for (const entry of node.models) {
      if (entry.id !== model) continue;
      if (!declaresOnlyEmbeddings(entry)) return false;
      listed = true;
    }
  }
  return listed;
}

export interface RequestOutcome {
  success: boolean;
  latencyMs: number;
}

/** What the request path (balancer, proxy, `/v1` routes) needs from the node registry. */
export interface FleetView {
  /** Online nodes whose model list has `model` ready. */
  candidatesFor(model: string): readonly FleetNode[];
  /** Whether any known node (any state) lists `model`, ready or not. */
  isModelKnown(model: string): boolean;
  /**
   * Whether `model` is known and every node that lists it declares it embeddings-only, so a
   * chat or completion request for it can be refused up front (see `servesOnlyEmbeddings`).
   */
  servesOnlyEmbeddings(model: string): boolean;
  /** All nodes, in registration order. */
  all(): FleetNode[];
  get(nodeId: string): FleetNode | undefined;
  /** Counts a request as in flight on the node (the router's own count). */
  beginRequest(nodeId: string): void;
  /** Ends what `beginRequest` started; streams call this after their last byte. */
  endRequest(nodeId: string, outcome: RequestOutcome): void;
}
