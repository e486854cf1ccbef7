/**
 * The dashboard's JSON APIs: overview, stats, nodes, the per-minute request chart, request
 * history (filtered pages, one record, streamed export) and the router's log tail.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { CloudGateway } from '../cloud/types.js';
import type { NodeRegistry } from '../fleet/registry.js';
import type { FleetNode } from '../fleet/types.js';
import type { RequestCapture } from '../history/capture.js';
import {
  exportHistory,
  getHistoryRecord,
  type HistoryFilters,
  listHistory,
  PAGE_SIZES,
} from '../history/queries.js';
import type { RequireScope } from '../http/auth-context.js';
import { badRequest, notFound } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import type { RouterLogging } from '../observability/logger.js';
import type { RouterDatabase } from '../store/database.js';
import { isoTime } from './json-time.js';
import { nodeToJson } from './node-view.js';

export interface DashboardDeps {
  db: RouterDatabase;
  registry: NodeRegistry;
  capture: RequestCapture;
  logging: RouterLogging;
  cloud?: CloudGateway;
  requireScope: RequireScope;
  /** Read-only access for viewers too (overview, stats, nodes, chart); defaults to admin only. */
  requireReader?: onRequestAsyncHookHandler;
  /** Metrics older than this are stale (upstream: 120 s). */
  metricsStaleMs?: number;
}

const timeParam = z
  .string()
  .transform((v, ctx) => {
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 time or milliseconds since the epoch' });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

const FiltersSchema = z.object({
  model: z.string().min(1).max(512).optional(),
  node_id: z.string().min(1).max(128).optional(),
  status: z.enum(['success', 'error']).optional(),
  api_key_id: z.string().min(1).max(128).optional(),
  request_id: z.string().min(1).max(200).optional(),
  trace_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits')
    .optional(),
  from: timeParam,
  to: timeParam,
});

const ListSchema = FiltersSchema.extend({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  per_page: z.coerce
    .number()
    .int()
    .refine((n) => (PAGE_SIZES as readonly number[]).includes(n), { message: 'must be 10, 25, 50 or 100' })
    .default(25),
});

const RouterLogsQuery = z.object({ limit: z.coerce.number().int().default(200) });

const ExportSchema = FiltersSchema.extend({ format: z.enum(['csv', 'json']).default('csv') });

function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue?.path.join('.') || null;
    throw badRequest(`Invalid value for '${param}': ${issue?.message}`, param, 'validation_error');
  }
  return result.data;
}

const toFilters = (q: z.output<typeof FiltersSchema>): HistoryFilters => ({
  model: q.model,
  nodeId: q.node_id,
  status: q.status,
  apiKeyId: q.api_key_id,
  requestId: q.request_id,
  traceId: q.trace_id,
  from: q.from,
  to: q.to,
});

/** The window of `tokens_per_second`. */
const TOKENS_WINDOW_MS = 60 * 60 * 1000;

const average = (values: Array<number | null>) => {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
};

export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const admin = deps.requireScope('admin:*');
  const reader = deps.requireReader ?? admin;
  describeRoutes(app, {
    'GET /v0/dashboard/stats': { summary: 'Fleet and request totals, cloud key presence' },
    'GET /v0/dashboard/nodes': { summary: 'Nodes as the dashboard shows them' },
    'GET /v0/dashboard/request-history': { summary: 'Requests per minute over the last 60 minutes' },
    'GET /v0/dashboard/overview': { summary: 'Nodes, stats and the per-minute chart in one call' },
    'GET /v0/dashboard/request-responses': {
      summary: 'Request history: filtered, paged (per_page 10/25/50/100)',
      query: ListSchema,
    },
    'GET /v0/dashboard/request-responses/export': {
      summary: 'Export request history as CSV or JSON (same filters)',
      query: ExportSchema,
      responses: { 200: { description: 'The export file', contentType: 'text/csv' } },
    },
    'GET /v0/dashboard/request-responses/:id': {
      summary: 'One request history record',
      responses: { 200: 'The record', 404: 'No such record' },
    },
    'GET /v0/dashboard/logs/router': {
      summary: "Tail the router's log (limit 1..1000, default 200)",
      query: RouterLogsQuery,
    },
  });
  const staleMs = deps.metricsStaleMs ?? 120_000;

  const dashboardNode = (node: FleetNode, now: number) => ({
    ...nodeToJson(node),
    uptime_seconds: node.onlineSince === null ? 0 : Math.floor((now - node.onlineSince) / 1000),
    metrics_last_updated_at: isoTime(node.metrics.updatedAt),
    metrics_stale: node.metrics.updatedAt === null || now - node.metrics.updatedAt > staleMs,
  });

  const stats = async () => {
    const nodes = deps.registry.all();
    const count = (status: string) => nodes.filter((n) => n.status === status).length;
    const rows = await deps.db
      .selectFrom('request_history')
      .select((eb) => [
        'status',
        eb.fn.countAll<number>().as('n'),
        eb.fn.avg<number>('duration_ms').as('avg_ms'),
        eb.fn.max<number>('timestamp').as('last_at'),
      ])
      .groupBy('status')
      .execute();
    const of = (status: string) => rows.find((r) => r.status === status);
    const successful = Number(of('success')?.n ?? 0);
    const failed = Number(of('error')?.n ?? 0);
    const total = successful + failed;
    const weightedAvg =
      total === 0
        ? null
        : (Number(of('success')?.avg_ms ?? 0) * successful + Number(of('error')?.avg_ms ?? 0) * failed) /
          total;
    const lastAt = Math.max(Number(of('success')?.last_at ?? 0), Number(of('error')?.last_at ?? 0));
    // Throughput of the last hour: completion tokens over the time spent producing them.
    const [recent] = await deps.db
      .selectFrom('request_history')
      .where('status', '=', 'success')
      .where('timestamp', '>=', Date.now() - TOKENS_WINDOW_MS)
      .where('completion_tokens', 'is not', null)
      .select((eb) => [
        eb.fn.sum<number>('completion_tokens').as('tokens'),
        eb.fn.sum<number>('duration_ms').as('ms'),
      ])
      .execute();
    const tokens = Number(recent?.tokens ?? 0);
    const ms = Number(recent?.ms ?? 0);
    const metricsTimes = nodes.map((n) => n.metrics.updatedAt).filter((t): t is number => t !== null);
    return {
      total_nodes: nodes.length,
      online_nodes: count('online'),
      pending_nodes: count('pending'),
      registering_nodes: count('registering'),
      offline_nodes: count('offline'),
      total_requests: total,
      successful_requests: successful,
      failed_requests: failed,
      total_active_requests: nodes.reduce((sum, n) => sum + n.stats.inFlight, 0),
      average_response_time_ms: weightedAvg === null ? null : Math.round(weightedAvg),
      tokens_per_second: tokens > 0 && ms > 0 ? Math.round((tokens / ms) * 10_000) / 10 : null,
      average_gpu_usage: average(nodes.map((n) => n.metrics.gpuUsage)),
      average_gpu_memory_usage: average(nodes.map((n) => n.metrics.gpuMemoryUsage)),
      last_request_at: lastAt > 0 ? new Date(lastAt).toISOString() : null,
      last_metrics_updated_at: metricsTimes.length ? new Date(Math.max(...metricsTimes)).toISOString() : null,
      ...(deps.cloud?.keyPresence() ?? {
        openai_key_present: false,
        google_key_present: false,
        anthropic_key_present: false,
      }),
    };
  };

  app.get('/v0/dashboard/stats', { onRequest: reader }, stats);

  app.get('/v0/dashboard/nodes', { onRequest: reader }, async () => {
    const now = Date.now();
    return deps.registry.all().map((n) => dashboardNode(n, now));
  });

  app.get('/v0/dashboard/request-history', { onRequest: reader }, async () => deps.capture.minutes.series());

  app.get('/v0/dashboard/overview', { onRequest: reader }, async () => {
    const started = performance.now();
    const now = Date.now();
    return {
      nodes: deps.registry.all().map((n) => dashboardNode(n, now)),
      stats: await stats(),
      history: deps.capture.minutes.series(now),
      generated_at: new Date(now).toISOString(),
      generation_time_ms: Math.round((performance.now() - started) * 100) / 100,
    };
  });

  app.get('/v0/dashboard/request-responses', { onRequest: admin }, async (request) => {
    const q = parseQuery(ListSchema, request.query);
    return listHistory(deps.db, toFilters(q), q.page, q.per_page);
  });

  app.get('/v0/dashboard/request-responses/export', { onRequest: admin }, async (request, reply) => {
    const q = parseQuery(ExportSchema, request.query);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    reply
      .header(
        'content-type',
        q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      )
      .header('content-disposition', `attachment; filename="request-history-${stamp}.${q.format}"`);
    // A generator-backed stream: rows are read and written in chunks, never all at once.
    return reply.send(Readable.from(exportHistory(deps.db, toFilters(q), q.format)));
  });

  app.get<{ Params: { id: string } }>(
    '/v0/dashboard/request-responses/:id',
    { onRequest: admin },
    async (request) => {
      const record = await getHistoryRecord(deps.db, request.params.id);
      if (!record) throw notFound('Request record not found', 'record_not_found');
      return record;
    },
  );

  app.get('/v0/dashboard/logs/router', { onRequest: admin }, async (request) => {
    const q = parseQuery(RouterLogsQuery, request.query);
    const limit = Math.min(1000, Math.max(1, q.limit));
    return { source: 'router', entries: deps.logging.ring.tail(limit), path: deps.logging.currentFile() };
  });
}
