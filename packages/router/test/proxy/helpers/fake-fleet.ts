/** A FleetView over hand-made nodes that counts what the proxy does to it. */
import type { NodeModel, NodeStatus } from '@llm-router/protocol';
import { emptyMetrics, emptyStats } from '../../../src/fleet/node-row.js';
import type { FleetNode, FleetView, NodeMetrics, RequestOutcome } from '../../../src/fleet/types.js';
import { nodeHasReadyModel, servesOnlyEmbeddings } from '../../../src/fleet/types.js';

let registration = 0;

export interface FleetNodeOptions {
  id: string;
  baseUrl?: string;
  models?: Array<string | NodeModel>;
  status?: NodeStatus;
  metrics?: Partial<NodeMetrics>;
  stats?: Partial<FleetNode['stats']>;
  registeredAt?: number;
}

export function makeFleetNode(options: FleetNodeOptions): FleetNode {
  const models = (options.models ?? ['m1']).map((m) => (typeof m === 'string' ? { id: m, ready: true } : m));
  return {
    id: options.id,
    machineName: `host-${options.id}`,
    ipAddress: '127.0.0.1',
    baseUrl: options.baseUrl ?? 'http://127.0.0.1:1',
    runtimeVersion: '1.0.0',
    runtimePort: 0,
    nodeApiPort: null,
    status: options.status ?? 'online',
    approved: true,
    registeredAt: options.registeredAt ?? ++registration,
    lastSeen: Date.now(),
    onlineSince: Date.now(),
    gpuAvailable: true,
    gpuDevices: [],
    gpuCount: 1,
    gpuModel: null,
    supportedRuntimes: ['llama_cpp'],
    models,
    initializing: false,
    readyModels: null,
    modelDownloads: [],
    // The registry's own empty state, so a new field of it reaches every test node too.
    metrics: { ...emptyMetrics(), ...options.metrics },
    stats: { ...emptyStats(), ...options.stats },
    customName: null,
    tags: [],
    notes: null,
  };
}

export class FakeFleet implements FleetView {
  begins = 0;
  ends = 0;
  readonly outcomes: Array<{ nodeId: string } & RequestOutcome> = [];

  constructor(public nodes: FleetNode[]) {}

  candidatesFor(model: string): FleetNode[] {
    return this.nodes.filter((node) => node.status === 'online' && nodeHasReadyModel(node, model));
  }

  isModelKnown(model: string): boolean {
    return this.nodes.some((node) => node.models.some((m) => m.id === model));
  }

  servesOnlyEmbeddings(model: string): boolean {
    return servesOnlyEmbeddings(this.nodes, model);
  }

  all(): FleetNode[] {
    return [...this.nodes];
  }

  get(nodeId: string): FleetNode | undefined {
    return this.nodes.find((node) => node.id === nodeId);
  }

  beginRequest(nodeId: string): void {
    const node = this.get(nodeId);
    if (!node) throw new Error(`beginRequest for unknown node ${nodeId}`);
    this.begins++;
    node.stats.inFlight++;
    node.stats.totalAssigned++;
  }

  endRequest(nodeId: string, outcome: RequestOutcome): void {
    const node = this.get(nodeId);
    if (!node) throw new Error(`endRequest for unknown node ${nodeId}`);
    if (node.stats.inFlight === 0) throw new Error(`endRequest without beginRequest on ${nodeId}`);
    this.ends++;
    node.stats.inFlight--;
    if (outcome.success) node.stats.successes++;
    else node.stats.failures++;
    node.stats.latencySumMs += outcome.latencyMs;
    this.outcomes.push({ nodeId, ...outcome });
  }

  totalInFlight(): number {
    return this.nodes.reduce((sum, node) => sum + node.stats.inFlight, 0);
  }
}
