/**
 * The node registry: the in-memory fleet that routing reads (no database on the request
 * path), persisted to the `nodes` table on every change so the fleet survives a restart.
 */
import { randomUUID } from 'node:crypto';
import type { HeartbeatRequestSchema, NodeModel, RegisterNodeRequestSchema } from '@llm-router/protocol';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { newNodeToken, sha256Hex } from '../auth/secrets.js';
import type { RouterDatabase } from '../store/database.js';
import type { NodesTable } from '../store/schema.js';
import { MetricsRing, type MetricsSample } from './metrics-ring.js';
import { emptyMetrics, emptyStats, fromRow, toRow } from './node-row.js';
import { RoutingLookup } from './routing-lookup.js';
import { noteSelectionChange } from './selection-changes.js';
import type { FleetNode, FleetView, RequestOutcome } from './types.js';

export type RegisterInput = z.output<typeof RegisterNodeRequestSchema>;
export type HeartbeatInput = z.output<typeof HeartbeatRequestSchema>;

export type HeartbeatResult =
  | { ok: true; node: FleetNode }
  | { ok: false; reason: 'unknown_node' | 'bad_token' };

export interface NodeSettings {
  customName?: string | null;
  tags?: string[];
  notes?: string | null;
}

export interface RegistryOptions {
  /** New nodes wait in `pending` until an admin approves them. */
  requireApproval: boolean;
}

/** A node is ready for traffic once it reports every model loaded and is not initializing. */
function isReady(node: FleetNode): boolean {
  if (node.initializing) return false;
  if (node.readyModels) return node.readyModels[0] >= node.readyModels[1];
  return node.models.every((m) => m.ready);
}

export function nodeBaseUrl(
  input: Pick<RegisterInput, 'base_url' | 'ip_address' | 'node_api_port' | 'runtime_port'>,
) {
  if (input.base_url) return input.base_url.replace(/\/+$/, '');
  const host = input.ip_address.includes(':') ? `[${input.ip_address}]` : input.ip_address;
  return `http://${host}:${input.node_api_port ?? input.runtime_port}`;
}

/** A node's latest heartbeat as another replica recorded it. */
export interface RemoteHeartbeat {
  lastSeen: number;
  models: NodeModel[];
  activeRequests: number;
  initializing: boolean;
}

export class NodeRegistry implements FleetView {
  private readonly nodes = new Map<string, FleetNode>();
  private readonly tokenHashes = new Map<string, string>();
  private readonly metricsHistory = new Map<string, MetricsRing>();
  private readonly writes = new Map<string, Promise<void>>();
  /** Routing's per-request questions, cached (see routing-lookup.ts). */
  private readonly lookup = new RoutingLookup(this.nodes);
  /** Set by main: records each heartbeat this replica accepts for the other replicas. */
  onLiveness: ((node: FleetNode) => void) | null = null;
  /** Set by main: an admin changed or removed a node here; the other replicas are told. */
  onAdminChange: (() => void) | null = null;

  private constructor(
    private readonly db: RouterDatabase,
    private readonly log: Logger,
    private readonly options: RegistryOptions,
  ) {}

  /** Loads persisted nodes. They start offline: only a heartbeat proves a node is alive. */
  static async load(
    db: RouterDatabase,
    log: Logger,
    options: RegistryOptions = { requireApproval: false },
  ): Promise<NodeRegistry> {
    const registry = new NodeRegistry(db, log, options);
    const rows = await db.selectFrom('nodes').selectAll().orderBy('registered_at').execute();
    for (const row of rows) {
      registry.nodes.set(row.id, fromRow(row));
      registry.fleetChanged();
      registry.tokenHashes.set(row.id, row.token_hash);
    }
    return registry;
  }

  /**
   * Registers a new node or updates a known one; always issues a fresh node token.
   *
   * Re-registering a known id is how a restarted node comes back, but it must not let someone
   * else take the node over: the caller proves it is that node with the node's current token.
   * Without it, a node that is still online keeps its identity (`id_in_use`), and an offline one
   * may be claimed but loses its approval (it waits for an admin again when approval is on).
   */
  async register(
    input: RegisterInput,
    presentedToken: string | undefined,
    now = Date.now(),
  ): Promise<{ node: FleetNode; created: boolean; token: string } | { conflict: 'id_in_use' }> {
    const id = input.node_id ?? randomUUID();
    const known = this.nodes.get(id);
    const proven =
      known !== undefined && presentedToken !== undefined && this.tokenMatches(id, presentedToken);
    if (known && !proven && known.status !== 'offline') return { conflict: 'id_in_use' };
    const previous = known;
    const node: FleetNode = {
      id,
      machineName: input.machine_name,
      ipAddress: input.ip_address,
      baseUrl: nodeBaseUrl(input),
      runtimeVersion: input.runtime_version,
      runtimePort: input.runtime_port,
      nodeApiPort: input.node_api_port ?? null,
      status: 'registering',
      approved: proven && previous ? previous.approved : !this.options.requireApproval,
      registeredAt: previous?.registeredAt ?? now,
      lastSeen: now,
      onlineSince: previous?.status === 'online' ? previous.onlineSince : null,
      gpuAvailable: input.gpu_available,
      gpuDevices: input.gpu_devices,
      gpuCount: input.gpu_count ?? input.gpu_devices.reduce((sum, d) => sum + d.count, 0),
      gpuModel: input.gpu_model ?? input.gpu_devices[0]?.model ?? null,
      supportedRuntimes: input.supported_runtimes,
      models: dedupeModels(input.models ?? []),
      initializing: input.initializing ?? false,
      readyModels: null,
      modelDownloads: previous?.modelDownloads ?? [],
      metrics: previous?.metrics ?? emptyMetrics(),
      stats: previous?.stats ?? emptyStats(),
      customName: previous?.customName ?? null,
      tags: previous?.tags ?? [],
      notes: previous?.notes ?? null,
    };
    this.applyReadiness(node, now);
    const token = newNodeToken();
    this.nodes.set(id, node);
    this.fleetChanged();
    this.tokenHashes.set(id, sha256Hex(token));
    await this.persist(node, true);
    this.onLiveness?.(node);
    this.log.info(
      { nodeId: id, machine: node.machineName, baseUrl: node.baseUrl, status: node.status },
      'node registered',
    );
    return { node, created: !previous, token };
  }

  private tokenMatches(nodeId: string, token: string): boolean {
    return this.tokenHashes.get(nodeId) === sha256Hex(token);
  }

  /** Applies a heartbeat if the token belongs to this very node. */
  heartbeat(token: string, input: HeartbeatInput, now = Date.now()): HeartbeatResult {
    const node = this.nodes.get(input.node_id);
    if (!node) return { ok: false, reason: 'unknown_node' };
    if (!this.tokenMatches(node.id, token)) return { ok: false, reason: 'bad_token' };
    node.lastSeen = now;
    node.metrics = {
      cpuUsage: input.cpu_usage,
      memoryUsage: input.memory_usage,
      gpuUsage: input.gpu_usage ?? null,
      gpuMemoryUsage: input.gpu_memory_usage ?? null,
      gpuMemoryTotalMb: input.gpu_memory_total_mb ?? null,
      gpuMemoryUsedMb: input.gpu_memory_used_mb ?? null,
      gpuTemperature: input.gpu_temperature ?? null,
      gpuCapabilityScore: input.gpu_capability_score ?? null,
      activeRequests: input.active_requests,
      averageResponseTimeMs: input.average_response_time_ms ?? null,
      updatedAt: now,
    };
    noteSelectionChange(node);
    this.recordSample(node.id, {
      timestamp: now,
      cpu_usage: input.cpu_usage,
      memory_usage: input.memory_usage,
      gpu_usage: input.gpu_usage ?? null,
      gpu_memory_usage: input.gpu_memory_usage ?? null,
      active_requests: input.active_requests,
    });
    const models = input.models ?? input.loaded_models.map((id) => ({ id, ready: true }));
    // Load figures (busy sequences, queue) move with every heartbeat; only the rest is persisted.
    const modelsChanged = modelsKey(models) !== modelsKey(node.models);
    // An empty list from an old node means "unknown", not "no models" (upstream behaviour).
    if (input.models !== undefined || input.loaded_models.length > 0) node.models = dedupeModels(models);
    node.initializing = input.initializing;
    node.readyModels = input.ready_models ?? null;
    node.modelDownloads = input.model_downloads ?? [];
    const statusBefore = node.status;
    this.applyReadiness(node, now);
    if (modelsChanged || statusBefore !== node.status) {
      // Only then can a candidate list change: a heartbeat that just refreshes load figures (the
      // usual one, 100 a second from 1,000 nodes) keeps every model's cached list.
      this.fleetChanged();
      if (statusBefore !== node.status) {
        this.log.info({ nodeId: node.id, from: statusBefore, to: node.status }, 'node status changed');
      }
      void this.persist(node);
    }
    this.onLiveness?.(node);
    return { ok: true, node };
  }

  /** Marks nodes offline whose last heartbeat is older than `timeoutMs`. Returns the ids. */
  expireSilentNodes(timeoutMs: number, now = Date.now()): string[] {
    const expired: string[] = [];
    for (const node of this.nodes.values()) {
      if (node.status !== 'offline' && now - node.lastSeen > timeoutMs) {
        node.status = 'offline';
        node.onlineSince = null;
        this.fleetChanged();
        expired.push(node.id);
        this.log.warn(
          { nodeId: node.id, machine: node.machineName, lastSeen: node.lastSeen },
          'node went offline',
        );
        void this.persist(node);
      }
    }
    return expired;
  }

  /**
   * Applies what another replica saw (a node's row and its latest heartbeat there): the node
   * becomes routable here too while those heartbeats stay fresh, and its token (issued there)
   * is accepted here, so the node can move to this replica. Never persisted from here.
   */
  adoptRemote(row: NodesTable, heartbeat: RemoteHeartbeat): void {
    this.tokenHashes.set(row.id, row.token_hash);
    let node = this.nodes.get(row.id);
    if (!node) {
      node = fromRow(row);
      this.nodes.set(row.id, node);
      // Its models are known now, even if the heartbeat below turns out not to be newer.
      this.fleetChanged();
    }
    if (heartbeat.lastSeen <= node.lastSeen) return;
    const modelsBefore = modelsKey(node.models);
    const statusBefore = node.status;
    node.baseUrl = row.base_url;
    node.approved = row.approved === 1;
    node.lastSeen = heartbeat.lastSeen;
    node.models = dedupeModels(heartbeat.models);
    node.initializing = heartbeat.initializing;
    node.metrics = {
      ...node.metrics,
      activeRequests: heartbeat.activeRequests,
      updatedAt: heartbeat.lastSeen,
    };
    noteSelectionChange(node);
    this.applyReadiness(node, heartbeat.lastSeen);
    // As for a heartbeat here: only a change of models or status changes candidate lists. The
    // others' heartbeats arrive every sync (1,000 nodes: all of them each second), and most
    // only move load figures, which the lists' node objects already carry.
    if (statusBefore !== node.status || modelsKey(node.models) !== modelsBefore) this.fleetChanged();
  }

  /**
   * Applies the `nodes` table as another replica left it: a node deleted there is forgotten
   * here, and an admin's settings and approval made there show here. Only nodes this replica
   * knew before `rows` were read, with no write of theirs in flight then, are compared (a node
   * registered here meanwhile is not in `rows` yet, and must not be dropped).
   */
  applyStored(rows: readonly NodesTable[], comparable: ReadonlySet<string>): void {
    const stored = new Map(rows.map((row) => [row.id, row]));
    for (const id of comparable) {
      const node = this.nodes.get(id);
      if (!node || this.writes.has(id)) continue;
      const row = stored.get(id);
      if (!row) {
        this.nodes.delete(id);
        this.tokenHashes.delete(id);
        this.metricsHistory.delete(id);
        this.fleetChanged();
        this.log.info({ nodeId: id }, 'node removed on another replica');
        continue;
      }
      node.customName = row.custom_name;
      node.tags = JSON.parse(row.tags);
      node.notes = row.notes;
      if (node.approved !== (row.approved === 1)) {
        node.approved = row.approved === 1;
        if (node.status !== 'offline') this.applyReadiness(node, Date.now());
        this.fleetChanged();
      }
    }
  }

  /** Ids whose in-memory state may be compared with rows read after this call (see `applyStored`). */
  settledIds(): Set<string> {
    const ids = new Set<string>();
    for (const id of this.nodes.keys()) if (!this.writes.has(id)) ids.add(id);
    return ids;
  }

  /** The node a token was issued to, if any (node tokens may read `/v1/models`). */
  nodeForToken(token: string): FleetNode | undefined {
    const hash = sha256Hex(token);
    for (const [id, tokenHash] of this.tokenHashes) if (tokenHash === hash) return this.nodes.get(id);
    return undefined;
  }

  /** Lets a pending node in; it goes online (or registering) at once. */
  async approve(nodeId: string): Promise<FleetNode | 'unknown' | 'not_pending'> {
    const node = this.nodes.get(nodeId);
    if (!node) return 'unknown';
    if (node.approved) return 'not_pending';
    node.approved = true;
    if (node.status !== 'offline') this.applyReadiness(node, Date.now());
    this.fleetChanged();
    await this.persist(node, true);
    this.onAdminChange?.();
    this.log.info({ nodeId, status: node.status }, 'node approved');
    return node;
  }

  /** Forces a node offline now; its next heartbeat brings it back. */
  async disconnect(nodeId: string): Promise<FleetNode | undefined> {
    const node = this.nodes.get(nodeId);
    if (!node) return undefined;
    node.status = 'offline';
    node.onlineSince = null;
    this.fleetChanged();
    await this.persist(node);
    return node;
  }

  /** Forgets a node entirely: its token stops working and its metrics are dropped. */
  async remove(nodeId: string): Promise<boolean> {
    if (!this.nodes.delete(nodeId)) return false;
    this.fleetChanged();
    this.tokenHashes.delete(nodeId);
    this.metricsHistory.delete(nodeId);
    // A row write still in flight must land before the delete, or it would bring the node back.
    await this.writes.get(nodeId);
    await this.db.deleteFrom('nodes').where('id', '=', nodeId).execute();
    await this.db.deleteFrom('node_heartbeats').where('node_id', '=', nodeId).execute();
    this.onAdminChange?.();
    return true;
  }

  async updateSettings(nodeId: string, settings: NodeSettings): Promise<FleetNode | undefined> {
    const node = this.nodes.get(nodeId);
    if (!node) return undefined;
    if (settings.customName !== undefined) node.customName = settings.customName;
    if (settings.tags !== undefined) node.tags = settings.tags;
    if (settings.notes !== undefined) node.notes = settings.notes;
    await this.persist(node, true);
    this.onAdminChange?.();
    return node;
  }

  metricsFor(nodeId: string): MetricsSample[] | undefined {
    if (!this.nodes.has(nodeId)) return undefined;
    return this.metricsHistory.get(nodeId)?.toArray() ?? [];
  }

  private recordSample(nodeId: string, sample: MetricsSample): void {
    let ring = this.metricsHistory.get(nodeId);
    if (!ring) {
      ring = new MetricsRing();
      this.metricsHistory.set(nodeId, ring);
    }
    ring.push(sample);
  }

  candidatesFor(model: string): readonly FleetNode[] {
    return this.lookup.candidatesFor(model);
  }

  isModelKnown(model: string): boolean {
    return this.lookup.isModelKnown(model);
  }

  servesOnlyEmbeddings(model: string): boolean {
    return this.lookup.servesOnlyEmbeddings(model);
  }

  /** A node's status, approval or model list may have changed: routing's cached answers go. */
  private fleetChanged(): void {
    this.lookup.invalidate();
  }

  all(): FleetNode[] {
    return [...this.nodes.values()];
  }

  get(nodeId: string): FleetNode | undefined {
    return this.nodes.get(nodeId);
  }

  beginRequest(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    node.stats.inFlight++;
    node.stats.totalAssigned++;
    noteSelectionChange(node);
  }

  endRequest(nodeId: string, outcome: RequestOutcome): void {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    node.stats.inFlight = Math.max(0, node.stats.inFlight - 1);
    if (outcome.success) node.stats.successes++;
    else node.stats.failures++;
    node.stats.latencySumMs += outcome.latencyMs;
    noteSelectionChange(node);
  }

  private applyReadiness(node: FleetNode, now: number): void {
    const next = !node.approved ? 'pending' : isReady(node) ? 'online' : 'registering';
    if (next === 'online' && node.status !== 'online') node.onlineSince = now;
    if (next !== 'online') node.onlineSince = null;
    node.status = next;
  }

  /**
   * Writes a node's row. Writes for one node run one after another (a later state never lands
   * before an earlier one), and a node removed meanwhile is not written back.
   */
  private persist(node: FleetNode, withSettings = false): Promise<void> {
    const previous = this.writes.get(node.id) ?? Promise.resolve();
    const next = previous.then(() =>
      this.nodes.has(node.id) ? this.writeRow(node, withSettings) : undefined,
    );
    this.writes.set(node.id, next);
    void next.finally(() => {
      if (this.writes.get(node.id) === next) this.writes.delete(node.id);
    });
    return next;
  }

  /**
   * An existing row keeps its admin settings (name, tags, notes, approval) unless this write is
   * an admin's or a registration's: another replica may have changed them a moment ago.
   */
  private async writeRow(node: FleetNode, withSettings: boolean): Promise<void> {
    const row = toRow(node, this.tokenHashes.get(node.id) ?? '');
    try {
      const { id: _id, ...all } = row;
      const { custom_name: _n, tags: _t, notes: _o, approved: _a, ...live } = all;
      const changes = withSettings ? all : live;
      await this.db
        .insertInto('nodes')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet(changes))
        .execute();
    } catch (error) {
      this.log.error({ err: error, nodeId: node.id }, 'failed to persist node');
    }
  }
}

/** What identifies a node's model list for persistence: everything but the live load figures. */
function modelsKey(models: NodeModel[]): string {
  return JSON.stringify(
    models.map(({ busy_sequences: _busy, queued_requests: _queued, ...identity }) => identity),
  );
}

function dedupeModels(models: NodeModel[]): NodeModel[] {
  const byId = new Map<string, NodeModel>();
  for (const m of models) {
    const id = m.id.trim();
    if (id) byId.set(id, { ...m, id });
  }
  return [...byId.values()];
}
