/**
 * `GET /v0/dashboard/cache-routing`: dashboard-ready data on prefix-cache routing and admission
 * control — hit rate per model and node (from request history), the router queue (depth, waits,
 * rejections) and the prefix index. Readable by dashboard viewers, not only admins.
 */
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { AdmissionController } from '../admission/controller.js';
import type { PrefixIndex } from '../balancer/prefix-index.js';
import { cacheHitSummary, cacheTokenSeries, recentRoutingDecisions } from '../history/cache-summary.js';
import { badRequest } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import type { RouterDatabase } from '../store/database.js';

export interface RoutingRouteDeps {
  db: RouterDatabase;
  /** Viewers' JWTs and admin:* keys: the read-only operational views (`createRequireReader`). */
  requireReader: onRequestAsyncHookHandler;
  policy: string;
  admission: AdmissionController;
  /** The cache_aware policy's index; null under other policies. */
  prefixIndex: PrefixIndex | null;
}

const DEFAULT_WINDOW_MINUTES = 60;
const MAX_WINDOW_MINUTES = 7 * 24 * 60;
/** Routing decisions listed: the latest ones in the window. */
const RECENT_DECISIONS = 50;

export function registerRoutingRoutes(app: FastifyInstance, deps: RoutingRouteDeps): void {
  describeRoutes(app, {
    'GET /v0/dashboard/cache-routing': {
      summary: 'Prefix-cache routing and admission: hit rate per model and node, the queue, the prefix index',
      responses: {
        200: '`{policy, window_minutes, models, tokens: {bucket_seconds, buckets}, recent, queue, prefix_index}`',
        400: 'Bad window_minutes',
      },
    },
  });
  const viewer = deps.requireReader;

  app.get('/v0/dashboard/cache-routing', { onRequest: viewer }, async (request) => {
    const raw = (request.query as Record<string, unknown>).window_minutes;
    const minutes = raw === undefined ? DEFAULT_WINDOW_MINUTES : Number(raw);
    if (!Number.isFinite(minutes) || minutes < 1 || minutes > MAX_WINDOW_MINUTES) {
      throw badRequest(
        `window_minutes must be a number of minutes between 1 and ${MAX_WINDOW_MINUTES}`,
        'window_minutes',
      );
    }
    const now = Date.now();
    const from = now - minutes * 60_000;
    const [models, tokens, recent] = await Promise.all([
      cacheHitSummary(deps.db, from),
      cacheTokenSeries(deps.db, from, now),
      recentRoutingDecisions(deps.db, from, RECENT_DECISIONS),
    ]);
    return {
      policy: deps.policy,
      window_minutes: minutes,
      models,
      tokens,
      recent,
      queue: deps.admission.stats(),
      prefix_index: deps.prefixIndex?.stats() ?? null,
    };
  });
}
