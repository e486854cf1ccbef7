/**
 * Tells every router replica sharing the database that something changed (an API key revoked,
 * the fleet moved, a model registered, deleted or cached), so they act within a second or two instead of at their next periodic
 * reload. PostgreSQL: `NOTIFY llm_router, '<topic>'` and a dedicated LISTEN connection that
 * reconnects after a database restart. Both databases also bump `change_versions`, which
 * replicas poll (the only channel on SQLite, and a safety net for notifications lost while a
 * LISTEN connection was down).
 */

import type pg from 'pg';
import { isPostgres, type RouterDatabase } from './database.js';
import { sql } from './kysely-runtime.js';

const CHANNEL = 'llm_router';
const POLL_MS = 500;
const RECONNECT_MS = 1000;

export type ChangeTopic = 'api_keys' | 'fleet' | 'models';

export class ChangeFeed {
  private readonly handlers = new Map<ChangeTopic, Array<() => void>>();
  private readonly seen = new Map<string, number>();
  private listener: pg.Client | null = null;
  private pollTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The first poll only records where each topic stands; later ones report what moved. */
  private baseline = false;

  constructor(
    private readonly db: RouterDatabase,
    private readonly postgresUrl: string | null,
  ) {}

  static async start(db: RouterDatabase, databaseUrl: string): Promise<ChangeFeed> {
    const feed = new ChangeFeed(db, isPostgres(db) ? databaseUrl : null);
    await feed.poll();
    feed.pollTimer = setInterval(() => void feed.poll().catch(() => {}), POLL_MS);
    feed.pollTimer.unref();
    if (feed.postgresUrl) await feed.listen().catch(() => feed.scheduleReconnect());
    return feed;
  }

  on(topic: ChangeTopic, handler: () => void): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /** Announces a change to every replica (this one included, through the same path). */
  async notify(topic: ChangeTopic): Promise<void> {
    await this.db
      .insertInto('change_versions')
      .values({ topic, version: 1 })
      .onConflict((oc) => oc.column('topic').doUpdateSet({ version: sql`change_versions.version + 1` }))
      .execute();
    if (this.postgresUrl) await sql`select pg_notify(${CHANNEL}, ${topic})`.execute(this.db);
  }

  private fire(topic: string): void {
    for (const handler of this.handlers.get(topic as ChangeTopic) ?? []) {
      try {
        handler();
      } catch {
        // A handler's failure must not stop the others; each logs its own problems.
      }
    }
  }

  private async poll(): Promise<void> {
    const rows = await this.db.selectFrom('change_versions').selectAll().execute();
    for (const row of rows) {
      const version = Number(row.version);
      const before = this.seen.get(row.topic);
      this.seen.set(row.topic, version);
      // A topic's first row (its first change ever) is a change too, once the baseline is taken.
      if (this.baseline && before !== version) this.fire(row.topic);
    }
    this.baseline = true;
  }

  private async listen(): Promise<void> {
    if (this.closed || !this.postgresUrl) return;
    // Loaded here, not at the top: a SQLite router starts without `pg` (cold start).
    const { default: postgres } = await import('pg');
    const client = new postgres.Client({ connectionString: this.postgresUrl });
    client.on('error', () => this.scheduleReconnect());
    client.on('end', () => this.scheduleReconnect());
    client.on('notification', (message) => {
      if (message.payload) this.fire(message.payload);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const old = this.listener;
    this.listener = null;
    old?.end().catch(() => {});
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.listen().catch(() => this.scheduleReconnect());
    }, RECONNECT_MS);
    this.reconnectTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = null;
    await client?.end().catch(() => {});
  }
}
