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
import type { NodeHeartbeatsTable } from '../store/schema.js';
import type { NodeRegistry } from './registry.js';
import type { FleetNode } from './types.js';

const SYNC_MS = 1000;
/**
 * Heartbeats accepted here are written for the other replicas in one statement this often.
 * A statement per heartbeat cost about 140 µs of the main thread each (a third of handling a
 * heartbeat), and the other replicas read them only once a second anyway.
 */
const LIVENESS_FLUSH_MS = 200;
/** Six parameters a row: well under SQLite's and PostgreSQL's limits on one statement's. */
const LIVENESS_ROWS_PER_STATEMENT = 1000;

export class FleetSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private readonly announced = new Set<string>();
  /** Each node's latest liveness not written yet. */
  private pending = new Map<string, NodeHeartbeatsTable>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

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

  /**
   * Queues the node's latest liveness for the other replicas (off the request path): written
   * with the others' within `LIVENESS_FLUSH_MS`, or at once for a node new to this replica,
   * which the others are then told about.
   */
  recordLiveness(node: FleetNode): void {
    this.pending.set(node.id, {
      node_id: node.id,
      router_id: this.routerId,
      last_seen: node.lastSeen,
      models: JSON.stringify(node.models),
      active_requests: node.metrics.activeRequests,
      initializing: node.initializing ? 1 : 0,
    });
    if (!this.announced.has(node.id)) {
      this.announced.add(node.id);
      void this.flushLiveness().then(() =>
        this.feed
          ?.notify('fleet')
          .catch((error) => this.log.warn({ err: error }, 'announcing a node change failed')),
      );
      return;
    }
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flushLiveness(), LIVENESS_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /** Writes the queued liveness rows in one statement, after any write still running. */
  flushLiveness(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pending.size === 0) return this.flushing;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    for (let at = 0; at < rows.length; at += LIVENESS_ROWS_PER_STATEMENT)
      this.writeLiveness(rows.slice(at, at + LIVENESS_ROWS_PER_STATEMENT));
    return this.flushing;
  }

  private writeLiveness(rows: NodeHeartbeatsTable[]): void {
    this.flushing = this.flushing.then(() =>
      this.db
        .insertInto('node_heartbeats')
        .values(rows)
        .onConflict((oc) =>
          oc
            .column('node_id')
            .doUpdateSet((eb) => ({
              router_id: eb.ref('excluded.router_id'),
              last_seen: eb.ref('excluded.last_seen'),
              models: eb.ref('excluded.models'),
              active_requests: eb.ref('excluded.active_requests'),
              initializing: eb.ref('excluded.initializing'),
            }))
            // Never behind what another replica wrote later.
            .whereRef('node_heartbeats.last_seen', '<=', 'excluded.last_seen'),
        )
        .execute()
        .then(
          () => undefined,
          (error) => this.log.warn({ err: error, rows: rows.length }, 'recording node liveness failed'),
        ),
    );
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

  /** Stops syncing; resolves once the queued liveness rows are written. */
  stop(): Promise<void> {
    clearInterval(this.timer);
    this.registry.onLiveness = null;
    this.registry.onAdminChange = null;
    return this.flushLiveness();
  }
}
