/** Reading request history: filtered pages, one record, and exports that stream in chunks. */
import type { SelectQueryBuilder } from 'kysely';
import { isoTime } from '../api/json-time.js';
import type { RouterDatabase } from '../store/database.js';
import type { Database, RequestHistoryTable } from '../store/schema.js';

export interface HistoryFilters {
  model?: string;
  nodeId?: string;
  status?: 'success' | 'error';
  apiKeyId?: string;
  requestId?: string;
  traceId?: string;
  /** Inclusive range, ms since epoch. */
  from?: number;
  to?: number;
}

export const PAGE_SIZES = [10, 25, 50, 100] as const;

type HistoryQuery = SelectQueryBuilder<Database, 'request_history', object>;

function applyFilters(query: HistoryQuery, f: HistoryFilters): HistoryQuery {
  let q = query;
  if (f.model !== undefined) q = q.where('model', '=', f.model);
  if (f.nodeId !== undefined) q = q.where('node_id', '=', f.nodeId);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.apiKeyId !== undefined) q = q.where('api_key_id', '=', f.apiKeyId);
  if (f.requestId !== undefined) q = q.where('request_id', '=', f.requestId);
  if (f.traceId !== undefined) q = q.where('trace_id', '=', f.traceId);
  if (f.from !== undefined) q = q.where('timestamp', '>=', f.from);
  if (f.to !== undefined) q = q.where('timestamp', '<=', f.to);
  return q;
}

const parseJson = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

const numberOrNull = (value: number | null | undefined) =>
  value === null || value === undefined ? null : Number(value);

/** The API shape of a record; `withBodies` adds the stored request and response. */
export function historyToJson(row: RequestHistoryTable, withBodies: boolean) {
  const base = {
    id: row.id,
    timestamp: isoTime(row.timestamp),
    request_type: row.request_type,
    model: row.model,
    node_id: row.node_id,
    node_machine_name: row.node_machine_name,
    node_ip: row.node_ip,
    client_ip: row.client_ip,
    api_key_id: row.api_key_id,
    stream: row.stream === 1,
    status: row.status,
    status_code: row.status_code,
    duration_ms: Number(row.duration_ms),
    error_message: row.error_message,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    time_to_first_token_ms: row.time_to_first_token_ms === null ? null : Number(row.time_to_first_token_ms),
    completed_at: isoTime(row.completed_at),
    request_id: row.request_id ?? null,
    trace_id: row.trace_id ?? null,
    /** Where the time went (the Server-Timing breakdown); null fields were not measured. */
    timing: {
      auth_ms: numberOrNull(row.timing_auth_ms),
      select_ms: numberOrNull(row.timing_select_ms),
      connect_ms: numberOrNull(row.timing_connect_ms),
      ttfb_ms: numberOrNull(row.timing_ttfb_ms),
    },
    cached_tokens: row.cached_tokens ?? null,
    prefix_match_chars: row.prefix_match_chars ?? null,
    node_load: row.node_load ?? null,
    queue_wait_ms: row.queue_wait_ms ?? null,
    /** The node attempts that failed before the reply, in order (empty when the first answered). */
    failed_attempts: parseJson(row.failed_attempts ?? null) ?? [],
  };
  if (!withBodies) return base;
  return { ...base, request_body: parseJson(row.request_body), response_body: parseJson(row.response_body) };
}

export async function listHistory(
  db: RouterDatabase,
  filters: HistoryFilters,
  page: number,
  perPage: number,
) {
  const base = applyFilters(db.selectFrom('request_history') as HistoryQuery, filters);
  const [{ total }] = await base.select((eb) => eb.fn.countAll<number>().as('total')).execute();
  const rows = await base
    .selectAll()
    .orderBy('timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(perPage)
    .offset((page - 1) * perPage)
    .execute();
  return {
    records: rows.map((r) => historyToJson(r as RequestHistoryTable, false)),
    total: Number(total),
    page,
    per_page: perPage,
    total_pages: Math.max(1, Math.ceil(Number(total) / perPage)),
  };
}

export async function getHistoryRecord(db: RouterDatabase, id: string) {
  const row = await db.selectFrom('request_history').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? historyToJson(row, true) : undefined;
}

const EXPORT_CHUNK = 500;

/**
 * Every matching row, newest first, read in chunks by keyset pagination (timestamp, id), so
 * memory stays flat however large the history is.
 */
export async function* iterateHistory(
  db: RouterDatabase,
  filters: HistoryFilters,
): AsyncGenerator<RequestHistoryTable> {
  let cursor: { timestamp: number; id: string } | null = null;
  for (;;) {
    let q = applyFilters(db.selectFrom('request_history') as HistoryQuery, filters).selectAll();
    if (cursor) {
      const { timestamp, id } = cursor;
      q = q.where((eb) =>
        eb.or([
          eb('timestamp', '<', timestamp),
          eb.and([eb('timestamp', '=', timestamp), eb('id', '<', id)]),
        ]),
      );
    }
    const rows = (await q
      .orderBy('timestamp', 'desc')
      .orderBy('id', 'desc')
      .limit(EXPORT_CHUNK)
      .execute()) as RequestHistoryTable[];
    for (const row of rows) yield row;
    if (rows.length < EXPORT_CHUNK) return;
    const last = rows[rows.length - 1];
    cursor = { timestamp: Number(last.timestamp), id: last.id };
  }
}

export const CSV_COLUMNS = [
  'id',
  'timestamp',
  'request_type',
  'model',
  'node_id',
  'node_machine_name',
  'node_ip',
  'client_ip',
  'api_key_id',
  'stream',
  'status',
  'status_code',
  'duration_ms',
  'prompt_tokens',
  'completion_tokens',
  'time_to_first_token_ms',
  'request_id',
  'trace_id',
  'timing_auth_ms',
  'timing_select_ms',
  'timing_connect_ms',
  'timing_ttfb_ms',
  'error_message',
  'completed_at',
  'cached_tokens',
  'prefix_match_chars',
  'node_load',
  'queue_wait_ms',
] as const;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // Quote cells with separators, and neutralise leading formula characters for spreadsheets.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV or JSON text for an export, produced row by row. */
export async function* exportHistory(
  db: RouterDatabase,
  filters: HistoryFilters,
  format: 'csv' | 'json',
): AsyncGenerator<string> {
  if (format === 'csv') {
    yield `${CSV_COLUMNS.join(',')}\n`;
    for await (const row of iterateHistory(db, filters)) {
      const json = historyToJson(row, false) as Record<string, unknown>;
      yield `${CSV_COLUMNS.map((c) => csvCell(json[c])).join(',')}\n`;
    }
    return;
  }
  yield '[';
  let first = true;
  for await (const row of iterateHistory(db, filters)) {
    yield `${first ? '' : ','}\n${JSON.stringify(historyToJson(row, true))}`;
    first = false;
  }
  yield '\n]\n';
}

export async function deleteHistoryBefore(db: RouterDatabase, cutoff: number): Promise<number> {
  const result = await db.deleteFrom('request_history').where('timestamp', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}
