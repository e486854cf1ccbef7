/**
 * Prefix-cache hit rates per model and node, from request history: how often the node reported
 * reusing part of the prompt (`cached_tokens > 0`), and what share of prompt tokens it skipped.
 * Only node-served generation requests whose reply carried usage count towards the rates.
 * Also the prompt tokens evaluated and reused over time, and the latest routing decisions, for
 * the dashboard's Routing view (no bodies, keys or client addresses: viewers may read them).
 */

import type { RouterDatabase } from '../store/database.js';
import { sql } from '../store/kysely-runtime.js';

export interface CacheHitRow {
  node_id: string;
  node_machine_name: string | null;
  requests: number;
  /**
   * Requests whose reply reported `cached_tokens`: this project's nodes report it on every reply
   * (streams in their usage trailer); other servers may not.
   */
  reported: number;
  hits: number;
  hit_rate: number | null;
  prompt_tokens: number;
  cached_tokens: number;
  cached_token_ratio: number | null;
  /** Mean prefix the router expected the node to hold (cache_aware), in characters. */
  avg_prefix_match_chars: number | null;
  queued: number;
  avg_queue_wait_ms: number | null;
}

export interface CacheHitSummary {
  model: string;
  totals: Omit<CacheHitRow, 'node_id' | 'node_machine_name'>;
  nodes: CacheHitRow[];
}

const num = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));
const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export async function cacheHitSummary(db: RouterDatabase, fromMs: number): Promise<CacheHitSummary[]> {
  const rows = await db
    .selectFrom('request_history')
    .select([
      'model',
      'node_id',
      sql<string | null>`max(node_machine_name)`.as('machine'),
      sql<number>`count(*)`.as('requests'),
      sql<number>`sum(case when cached_tokens is not null then 1 else 0 end)`.as('reported'),
      sql<number>`sum(case when cached_tokens > 0 then 1 else 0 end)`.as('hits'),
      sql<number>`sum(case when cached_tokens is not null then prompt_tokens else 0 end)`.as('prompt'),
      sql<number>`sum(coalesce(cached_tokens, 0))`.as('cached'),
      sql<number>`sum(coalesce(prefix_match_chars, 0))`.as('match_sum'),
      sql<number>`sum(case when prefix_match_chars is not null then 1 else 0 end)`.as('match_count'),
      sql<number>`sum(case when queue_wait_ms is not null then 1 else 0 end)`.as('queued'),
      sql<number>`sum(coalesce(queue_wait_ms, 0))`.as('wait_sum'),
    ])
    .where('timestamp', '>=', fromMs)
    .where('node_id', 'is not', null)
    .where('node_id', 'not like', 'cloud:%')
    .where('request_type', '!=', 'embeddings')
    .groupBy(['model', 'node_id'])
    .orderBy('model')
    .orderBy('node_id')
    .execute();

  const byModel = new Map<string, CacheHitSummary>();
  for (const row of rows) {
    const requests = num(row.requests);
    const reported = num(row.reported);
    const hits = num(row.hits);
    const prompt = num(row.prompt);
    const cached = num(row.cached);
    const matchCount = num(row.match_count);
    const queued = num(row.queued);
    const entry: CacheHitRow = {
      node_id: row.node_id as string,
      node_machine_name: row.machine,
      requests,
      reported,
      hits,
      hit_rate: ratio(hits, reported),
      prompt_tokens: prompt,
      cached_tokens: cached,
      cached_token_ratio: ratio(cached, prompt),
      avg_prefix_match_chars: matchCount > 0 ? num(row.match_sum) / matchCount : null,
      queued,
      avg_queue_wait_ms: queued > 0 ? num(row.wait_sum) / queued : null,
    };
    let summary = byModel.get(row.model);
    if (!summary) {
      summary = { model: row.model, totals: emptyTotals(), nodes: [] };
      byModel.set(row.model, summary);
    }
    summary.nodes.push(entry);
    addTo(summary.totals, entry, matchCount, num(row.match_sum), num(row.wait_sum));
  }
  for (const summary of byModel.values()) {
    const t = summary.totals as Totals;
    t.hit_rate = ratio(t.hits, t.reported);
    t.cached_token_ratio = ratio(t.cached_tokens, t.prompt_tokens);
    t.avg_prefix_match_chars = t._matchCount > 0 ? t._matchSum / t._matchCount : null;
    t.avg_queue_wait_ms = t.queued > 0 ? t._waitSum / t.queued : null;
    delete (t as Partial<Totals>)._matchCount;
    delete (t as Partial<Totals>)._matchSum;
    delete (t as Partial<Totals>)._waitSum;
  }
  return [...byModel.values()];
}

/** Node-served generation requests (the ones a KV cache can serve), as one query's filter. */
function nodeGenerations(db: RouterDatabase, fromMs: number) {
  return db
    .selectFrom('request_history')
    .where('timestamp', '>=', fromMs)
    .where('node_id', 'is not', null)
    .where('node_id', 'not like', 'cloud:%')
    .where('request_type', '!=', 'embeddings');
}

export interface CacheTokenBucket {
  /** Start of the bucket (ISO time). */
  at: string;
  requests: number;
  /** Prompt tokens the nodes evaluated, of requests that reported `cached_tokens`. */
  evaluated_tokens: number;
  cached_tokens: number;
}

/** At most this many buckets per series: the bucket grows with the window. */
const MAX_BUCKETS = 120;

/** Prompt tokens evaluated vs served from cache, in buckets of whole minutes over the window. */
export async function cacheTokenSeries(
  db: RouterDatabase,
  fromMs: number,
  toMs: number,
): Promise<{ bucket_seconds: number; buckets: CacheTokenBucket[] }> {
  const minutes = Math.max(1, Math.ceil((toMs - fromMs) / 60_000 / MAX_BUCKETS));
  const bucketMs = minutes * 60_000;
  const rows = await nodeGenerations(db, fromMs)
    .select([
      // Integer division on the bigint column, in SQLite and PostgreSQL alike.
      sql<number>`timestamp / ${sql.lit(bucketMs)}`.as('bucket'),
      sql<number>`count(*)`.as('requests'),
      sql<number>`sum(case when cached_tokens is not null then prompt_tokens - cached_tokens else 0 end)`.as(
        'evaluated',
      ),
      sql<number>`sum(coalesce(cached_tokens, 0))`.as('cached'),
    ])
    .groupBy(sql`timestamp / ${sql.lit(bucketMs)}`)
    .execute();
  const byBucket = new Map(rows.map((row) => [num(row.bucket), row]));
  const buckets: CacheTokenBucket[] = [];
  for (let bucket = Math.floor(fromMs / bucketMs); bucket <= Math.floor(toMs / bucketMs); bucket++) {
    const row = byBucket.get(bucket);
    buckets.push({
      at: new Date(bucket * bucketMs).toISOString(),
      requests: num(row?.requests),
      evaluated_tokens: num(row?.evaluated),
      cached_tokens: num(row?.cached),
    });
  }
  return { bucket_seconds: bucketMs / 1000, buckets };
}

/** One routing decision as history recorded it. */
export interface RoutingDecisionRow {
  /** The history record's id. */
  id: string;
  at: string;
  model: string;
  node_id: string;
  node_machine_name: string | null;
  status: string;
  stream: boolean;
  prompt_tokens: number | null;
  cached_tokens: number | null;
  /** The prefix the router expected the node to hold (cache_aware), in characters. */
  prefix_match_chars: number | null;
  /** Requests in progress on the chosen node when it was chosen. */
  node_load: number | null;
  queue_wait_ms: number | null;
  time_to_first_token_ms: number | null;
  duration_ms: number;
}

/** The latest node-served generation requests in the window, newest first. */
export async function recentRoutingDecisions(
  db: RouterDatabase,
  fromMs: number,
  limit: number,
): Promise<RoutingDecisionRow[]> {
  const rows = await nodeGenerations(db, fromMs)
    .select([
      'id',
      'timestamp',
      'model',
      'node_id',
      'node_machine_name',
      'status',
      'stream',
      'prompt_tokens',
      'cached_tokens',
      'prefix_match_chars',
      'node_load',
      'queue_wait_ms',
      'time_to_first_token_ms',
      'duration_ms',
    ])
    .orderBy('timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  const orNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return rows.map((row) => ({
    id: row.id,
    at: new Date(Number(row.timestamp)).toISOString(),
    model: row.model,
    node_id: row.node_id as string,
    node_machine_name: row.node_machine_name,
    status: row.status,
    stream: Number(row.stream) === 1,
    prompt_tokens: orNull(row.prompt_tokens),
    cached_tokens: orNull(row.cached_tokens),
    prefix_match_chars: orNull(row.prefix_match_chars),
    node_load: orNull(row.node_load),
    queue_wait_ms: orNull(row.queue_wait_ms),
    time_to_first_token_ms: orNull(row.time_to_first_token_ms),
    duration_ms: Number(row.duration_ms),
  }));
}

type Totals = CacheHitSummary['totals'] & { _matchCount: number; _matchSum: number; _waitSum: number };

function emptyTotals(): Totals {
  return {
    requests: 0,
    reported: 0,
    hits: 0,
    hit_rate: null,
    prompt_tokens: 0,
    cached_tokens: 0,
    cached_token_ratio: null,
    avg_prefix_match_chars: null,
    queued: 0,
    avg_queue_wait_ms: null,
    _matchCount: 0,
    _matchSum: 0,
    _waitSum: 0,
  };
}

function addTo(
  totals: CacheHitSummary['totals'],
  row: CacheHitRow,
  matchCount: number,
  matchSum: number,
  waitSum: number,
) {
  const t = totals as Totals;
  t.requests += row.requests;
  t.reported += row.reported;
  t.hits += row.hits;
  t.prompt_tokens += row.prompt_tokens;
  t.cached_tokens += row.cached_tokens;
  t.queued += row.queued;
  t._matchCount += matchCount;
  t._matchSum += matchSum;
  t._waitSum += waitSum;
}
