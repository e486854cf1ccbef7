/**
 * Several routers, one fleet: every heartbeat a replica accepts is written to
 * `node_heartbeats`, and every replica reads the other replicas' fresh rows once a second (and
 * at once when the change feed says the fleet moved), so a node heartbeating to any replica is
 * routable from all of them. A node whose heartbeats stop (on every replica) goes offline by
 * the usual node timeout. In-flight counts stay per replica, plus what the node reports.
 * An admin's changes to a node (deletion, name, tags, notes, approval) are announced on the
 * same feed, and every replica applies the `nodes` table as it finds it on its next sync.
 */
import type { NodeModel } from '@llm-router/protocol';
import type { Logger } from 'pino';
import type { ChangeFeed } from '../store/change-feed.js';
import type { RouterDatabase } from '../store/database.js';
import type { NodeRegistry } from './registry.js';
import type { FleetNode } from './types.js';

const SYNC_MS = 1000;

export class FleetSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private readonly announced = new Set<string>();

  constructor(
    private readonly db: RouterDatabase,
    private readonly registry: NodeRegistry,
    /** This replica's id (random per process). */
    private readonly routerId: string,
    /** Heartbeats older than this are not adopted (the node timeout). */
    private readonly staleMs: number,
    private readonly log: Logger,
    private readonly feed: ChangeFeed | null = null,
  ) {}

  start(): void {
    this.registry.onLiveness = (node) => this.recordLiveness(node);
    this.registry.onAdminChange = () => {
      this.feed
        ?.notify('fleet')
        .catch((error) => this.log.warn({ err: error }, 'announcing a node change failed'));
    };
    this.feed?.on('fleet', () => void this.sync());
    this.timer = setInterval(() => void this.sync(), SYNC_MS);
    this.timer.unref();
  }

  /** Writes the node's latest liveness for the other replicas (off the request path). */
  recordLiveness(node: FleetNode): void {
    const row = {
      node_id: node.id,
      router_id: this.routerId,
      last_seen: node.lastSeen,
      models: JSON.stringify(node.models),
      active_requests: node.metrics.activeRequests,
      initializing: node.initializing ? 1 : 0,
    };
    const firstHere = !this.announced.has(node.id);
    this.announced.add(node.id);
    void this.db
      .insertInto('node_heartbeats')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('node_id')
          .doUpdateSet({
            router_id: row.router_id,
            last_seen: row.last_seen,
            models: row.models,
            active_requests: row.active_requests,
            initializing: row.initializing,
          })
          .where('node_heartbeats.last_seen', '<=', row.last_seen),
      )
      .execute()
      // A node new to this replica (registered, or moved here): tell the others at once.
      .then(() => (firstHere ? this.feed?.notify('fleet') : undefined))
      .catch((error) => this.log.warn({ err: error, nodeId: node.id }, 'recording node liveness failed'));
  }

  /** Adopts the other replicas' fresh heartbeats; one run at a time. */
  sync(now = Date.now()): Promise<void> {
    this.running ??= this.syncOnce(now)
      .catch((error) => this.log.warn({ err: error }, 'fleet sync failed'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async syncOnce(now: number): Promise<void> {
    const comparable = this.registry.settledIds();
    this.registry.applyStored(await this.db.selectFrom('nodes').selectAll().execute(), comparable);
    const rows = await this.db
      .selectFrom('nodes')
      .innerJoin('node_heartbeats', 'node_heartbeats.node_id', 'nodes.id')
      .selectAll('nodes')
      .select([
        'node_heartbeats.last_seen as hb_last_seen',
        'node_heartbeats.models as hb_models',
        'node_heartbeats.active_requests as hb_active_requests',
        'node_heartbeats.initializing as hb_initializing',
      ])
      .where('node_heartbeats.router_id', '<>', this.routerId)
      .where('node_heartbeats.last_seen', '>', now - this.staleMs)
      .execute();
    for (const row of rows) {
      const { hb_last_seen, hb_models, hb_active_requests, hb_initializing, ...node } = row;
      this.registry.adoptRemote(node, {
        lastSeen: Number(hb_last_seen),
        models: JSON.parse(hb_models) as NodeModel[],
        activeRequests: Number(hb_active_requests),
        initializing: Number(hb_initializing) === 1,
      });
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.registry.onLiveness = null;
    this.registry.onAdminChange = null;
  }
}
