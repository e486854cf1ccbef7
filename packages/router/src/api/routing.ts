/**
 * `GET /v0/dashboard/cache-routing`: dashboard-ready data on prefix-cache routing and admission
 * control — hit rate per model and node (from request history), the router queue (depth, waits,
 * rejections) and the prefix index. Readable by dashboard viewers, not only admins.
 */
import { scopeAllows } from '@llm-router/protocol';
import type { FastifyInstance } from 'fastify';
import type { AdmissionController } from '../admission/controller.js';
import type { PrefixIndex } from '../balancer/prefix-index.js';
import { cacheHitSummary } from '../history/cache-summary.js';
import type { RequireScope } from '../http/auth-context.js';
import { badRequest, forbidden } from '../http/errors.js';
import type { RouterDatabase } from '../store/database.js';

export interface RoutingRouteDeps {
  db: RouterDatabase;
  requireScope: RequireScope;
  policy: string;
  admission: AdmissionController;
  /** The cache_aware policy's index; null under other policies. */
  prefixIndex: PrefixIndex | null;
}

const DEFAULT_WINDOW_MINUTES = 60;
const MAX_WINDOW_MINUTES = 7 * 24 * 60;

export function registerRoutingRoutes(app: FastifyInstance, deps: RoutingRouteDeps): void {
  const signedIn = deps.requireScope('api:inference');
  // Dashboard users of any role may read it; API keys need admin:* like the rest of /v0/dashboard.
  const viewer: typeof signedIn = async function (this: unknown, request, reply) {
    await signedIn.call(this as never, request, reply);
    const principal = request.principal;
    if (principal?.kind === 'api_key' && !scopeAllows(principal.scopes, 'admin:*')) {
      throw forbidden("This API key lacks the 'admin:*' scope", 'insufficient_scope');
    }
  };

  app.get('/v0/dashboard/cache-routing', { onRequest: viewer }, async (request) => {
    const raw = (request.query as Record<string, unknown>).window_minutes;
    const minutes = raw === undefined ? DEFAULT_WINDOW_MINUTES : Number(raw);
    if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_WINDOW_MINUTES) {
      throw badRequest(
        `window_minutes must be a number of minutes between 1 and ${MAX_WINDOW_MINUTES}`,
        'window_minutes',
      );
    }
    return {
      policy: deps.policy,
      window_minutes: minutes,
      models: await cacheHitSummary(deps.db, Date.now() - minutes * 60_000),
      queue: deps.admission.stats(),
      prefix_index: deps.prefixIndex?.stats() ?? null,
    };
  });
}
