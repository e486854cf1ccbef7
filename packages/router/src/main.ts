/**
 * The router's composition root: opens the database, loads keys and nodes into memory, wires
 * the routes and starts listening. `startRouter` is what the CLI and the tests call.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AdmissionController } from './admission/controller.js';
import { registerRoutingMetrics, routingMetricSamples } from './admission/metrics.js';
import { registerApiKeyRoutes } from './api/api-keys.js';
import { registerAuthRoutes } from './api/auth.js';
import { registerCloudMetricsRoute } from './api/cloud-metrics.js';
import { registerDashboardRoutes } from './api/dashboard.js';
import { registerInvitationRoutes } from './api/invitations.js';
import { registerMetricsRoute, startMetricsListener } from './api/metrics.js';
import { registerModelRoutes } from './api/models.js';
import { registerNodeAdminRoutes } from './api/node-admin.js';
import { registerNodeRoutes } from './api/nodes.js';
import { registerOpenAIRoutes } from './api/openai.js';
import { registerRoutingRoutes } from './api/routing.js';
import { registerUserRoutes } from './api/users.js';
import { ApiKeyStore } from './auth/api-keys.js';
import { JwtIssuer, loadJwtSecret } from './auth/jwt.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { ensureFirstAdmin, type FirstAdminResult } from './auth/users.js';
import type { CacheAwarePolicy } from './balancer/cache_aware.js';
import { createBalancer } from './balancer/index.js';
import { createCloudGateway } from './cloud/index.js';
import type { RouterConfig } from './config/config.js';
import { FleetSync } from './fleet/fleet-sync.js';
import { startHealthMonitor } from './fleet/health-monitor.js';
import { NodeRegistry } from './fleet/registry.js';
import { RequestCapture } from './history/capture.js';
import { HistoryRecorder } from './history/recorder.js';
import { startHistoryRetention } from './history/retention.js';
import {
  createRequireModelsAccess,
  createRequireReader,
  createRequireScope,
  createRequireUser,
} from './http/auth-guard.js';
import { describeRoutes } from './http/openapi.js';
import { createHttpServer } from './http/server.js';
import { SessionCookies } from './http/session.js';
import { registerDashboard } from './http/static-dashboard.js';
import { registerLimitAdmission, settleFinished } from './limits/admission.js';
import { LimitCounters } from './limits/counters.js';
import { Limiter } from './limits/limiter.js';
import { UserLimits } from './limits/user-limits.js';
import { ModelService } from './models/service.js';
import { createRouterLogging, type RouterLogging } from './observability/logger.js';
import { RouterMetrics } from './observability/metrics.js';
import { createRouterTracing } from './observability/tracing.js';
import { ResponseStore } from './responses/store.js';
import { ChangeFeed } from './store/change-feed.js';
import { openDatabase, type RouterDatabase } from './store/database.js';

export interface RunningRouter {
  app: FastifyInstance;
  url: string;
  db: RouterDatabase;
  registry: NodeRegistry;
  /** The model registry (issue 4): register/delete, node feed, `modelsVersion()`, `listForApi()`. */
  models: ModelService;
  apiKeys: ApiKeyStore;
  recorder: HistoryRecorder;
  /** Prometheus metrics; other modules add gauges with `metrics.registerGauge`. */
  metrics: RouterMetrics;
  /** The unauthenticated metrics listener's URL when LLM_ROUTER_METRICS_ADDR is set. */
  metricsUrl: string | null;
  logging: RouterLogging;
  firstAdmin: FirstAdminResult | null;
  /** Admission control (router queue): its numbers can be registered with a metrics registry. */
  admission: AdmissionController;
  close(): Promise<void>;
}

/** How long shutdown waits for in-flight requests before cutting connections. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Heartbeat interval suggested to nodes: a third of the offline timeout, at most 10 s. */
const suggestedHeartbeatSecs = (config: RouterConfig) =>
  Math.max(1, Math.min(10, config.nodeTimeoutMs / 3000));

export function defaultLogging(config: RouterConfig): RouterLogging {
  return createRouterLogging({
    level: config.logLevel,
    dir: config.logDir,
    retentionDays: config.logRetentionDays,
  });
}

export async function startRouter(
  config: RouterConfig,
  logging: RouterLogging = defaultLogging(config),
): Promise<RunningRouter> {
  const { log } = logging;
  for (const warning of config.warnings) log.warn(warning);
  const db = await openDatabase(config.databaseUrl);
  const apiKeys = await ApiKeyStore.load(db);
  const jwtSecret = loadJwtSecret(config.jwtSecret, config.dataDir);
  const jwt = new JwtIssuer(jwtSecret);
  const session = new SessionCookies(jwtSecret);
  const firstAdmin = await ensureFirstAdmin(db, config.adminUsername, config.adminPassword);
  const registry = await NodeRegistry.load(db, log.child({ component: 'fleet' }), {
    requireApproval: config.requireNodeApproval,
  });
  const models = await ModelService.start({
    db,
    config: config.models,
    fleet: registry,
    log: log.child({ component: 'models' }),
  });
  const stopMonitor = startHealthMonitor(registry, config.healthCheckIntervalMs, config.nodeTimeoutMs);
  // Replicas sharing the database: changes announced at once, the fleet shared through it.
  const changes = await ChangeFeed.start(db, config.databaseUrl);
  changes.on('api_keys', () => {
    apiKeys.reload().catch((error) => log.warn({ err: error }, 'reloading API keys failed'));
  });
  models.followReplicas(changes);
  apiKeys.onChange = () => {
    changes.notify('api_keys').catch((error) => log.warn({ err: error }, 'announcing a key change failed'));
  };
  const fleetSync = new FleetSync(
    db,
    registry,
    randomUUID(),
    config.nodeTimeoutMs,
    log.child({ component: 'fleet-sync' }),
    changes,
  );
  fleetSync.start();
  const authDeps = { apiKeys, jwt, db, session };
  const requireScope = createRequireScope(authDeps);
  const requireUser = createRequireUser(authDeps);
  const requireReader = createRequireReader(authDeps);
  const cloud = createCloudGateway(config.env);
  const recorder = new HistoryRecorder(db, log.child({ component: 'history' }));
  const capture = new RequestCapture(recorder, registry);
  const metrics = new RouterMetrics({
    fleet: registry,
    history: { queued: () => recorder.pending, droppedRows: () => recorder.droppedRows },
    modelCache: () =>
      models.listForApi().map((m) => ({
        id: m.id,
        status: m.lifecycle_status,
        progress: m.download_progress.percent,
      })),
  });
  const stopRetention = startHistoryRetention(
    db,
    config.historyRetentionDays,
    log.child({ component: 'history' }),
  );

  const userLimits = await UserLimits.load(db);
  const limitCounters = new LimitCounters(db);
  const limiter = new Limiter(limitCounters);
  const pruneLimits = setInterval(() => void limitCounters.prune().catch(() => {}), 600_000);
  pruneLimits.unref();

  const app = createHttpServer({
    bodyLimitBytes: config.bodyLimitBytes,
    bodyReadTimeoutMs: config.bodyReadTimeoutMs,
    log,
  });
  metrics.registerGauge({
    name: 'llm_router_model_tasks_running',
    help: 'Models whose cache tasks (download, quantize) run on this replica, each under its task lease.',
    collect: () => [{ value: models.taskLeaseStats().running }],
  });
  metrics.registerCounter({
    name: 'llm_router_model_task_leases_total',
    help: 'Model task leases by event: taken_up (unfinished tasks taken up at start or from a replica that died), lost (taken over by another replica; the local task stopped).',
    labelNames: ['event'],
    collect: () => {
      const stats = models.taskLeaseStats();
      return [
        { value: stats.takenUp, labels: { event: 'taken_up' } },
        { value: stats.lost, labels: { event: 'lost' } },
      ];
    },
  });
  // OpenTelemetry export (OTLP/HTTP JSON) when OTEL_EXPORTER_OTLP_ENDPOINT is set; null otherwise.
  const tracing = createRouterTracing(app, config.env, log.child({ component: 'otlp' }));
  if (tracing) {
    const { stats } = tracing.exporter;
    metrics.registerCounter({
      name: 'llm_router_otlp_spans_total',
      help: 'OpenTelemetry spans by what became of them: exported, dropped (queue full) or failed (export failed).',
      labelNames: ['result'],
      collect: () => [
        { value: stats.exported, labels: { result: 'exported' } },
        { value: stats.dropped, labels: { result: 'dropped' } },
        { value: stats.failed, labels: { result: 'failed' } },
      ],
    });
  }
  app.get('/health', async () => ({ status: 'ok' }));
  describeRoutes(app, { 'GET /health': { summary: 'Liveness: `{"status":"ok"}`', tags: ['meta'] } });
  registerAuthRoutes(app, { db, jwt, throttle: new LoginThrottle(), requireUser, session });
  registerUserRoutes(app, { db, requireScope, userLimits });
  registerInvitationRoutes(app, { db, requireScope });
  registerApiKeyRoutes(app, { apiKeys, requireScope });
  registerNodeRoutes(app, {
    registry,
    requireScope,
    requireReader,
    allowNoGpu: config.allowNoGpu,
    heartbeatIntervalSecs: suggestedHeartbeatSecs(config),
    modelsVersion: () => models.modelsVersion(),
  });
  registerNodeAdminRoutes(app, { registry, requireScope, requireReader });
  registerLimitAdmission(app, {
    limiter,
    limitsFor: (principal) =>
      principal.kind === 'api_key' ? (principal.limits ?? null) : userLimits.get(principal.userId),
  });
  const balancer = createBalancer(config.balancerMode, {
    maxEntries: config.routing.prefixIndexMaxEntries,
    ttlMs: config.routing.prefixIndexTtlMs,
  });
  const admission = new AdmissionController(registry, {
    queueMax: config.routing.queueMax,
    queueTimeoutMs: config.routing.queueTimeoutMs,
    requestsPerSequence: config.routing.requestsPerSequence,
  });
  app.addHook('onClose', async () => admission.close());
  const prefixIndex = 'index' in balancer ? (balancer as CacheAwarePolicy).index : null;
  registerRoutingMetrics(metrics, () =>
    routingMetricSamples(admission.stats(), prefixIndex?.stats() ?? null),
  );
  registerOpenAIRoutes(app, {
    fleet: registry,
    config,
    requireScope,
    cloud,
    balancer,
    admission,
    onRequestFinished: (finished, request) => {
      capture.record(finished);
      metrics.observe(finished);
      tracing?.onRequestFinished(finished, request);
      settleFinished(request, finished).catch((error) =>
        log.warn({ err: error }, 'settling a rate-limit reservation failed'),
      );
    },
    responses: new ResponseStore(db),
    registeredModels: models,
    requireModelsAccess: createRequireModelsAccess(requireScope, (token) => registry.nodeForToken(token)),
  });
  app.addHook('onError', async (request, reply, error) => {
    if (!request.principal) return; // strangers' requests are not worth a history row
    capture.recordRejected({
      method: request.method,
      path: request.url.split('?')[0],
      // onError runs before the error handler sets the reply's status, so read it off the error.
      status: (error as { status?: number }).status ?? error.statusCode ?? 500,
      code: (error as { code?: string }).code,
      message: error.message,
      durationMs: reply.elapsedTime,
      clientIp: request.ip,
      apiKeyId: request.principal.kind === 'api_key' ? request.principal.apiKeyId : null,
    });
  });
  registerDashboardRoutes(app, { db, registry, capture, logging, cloud, requireScope, requireReader });
  registerCloudMetricsRoute(app, { cloud, requireScope });
  registerMetricsRoute(app, { metrics, requireScope });
  registerRoutingRoutes(app, {
    db,
    requireReader,
    policy: balancer.name,
    admission,
    prefixIndex,
  });
  registerModelRoutes(app, { models, requireScope });
  registerDashboard(app, { dir: config.env.LLM_ROUTER_DASHBOARD_DIR || undefined, log });

  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
  log.info(
    { url, balancer: config.balancerMode, database: config.databaseUrl.split(':')[0] },
    'router listening',
  );
  const metricsListener = config.metricsAddr ? await startMetricsListener(metrics, config.metricsAddr) : null;
  if (metricsListener) log.info({ url: metricsListener.url }, 'metrics listener (no auth) listening');

  return {
    app,
    url,
    db,
    registry,
    models,
    apiKeys,
    recorder,
    metrics,
    metricsUrl: metricsListener?.url ?? null,
    logging,
    firstAdmin,
    admission,
    async close() {
      stopMonitor();
      await metricsListener?.close();
      stopRetention();
      clearInterval(pruneLimits);
      userLimits.close();
      // Heartbeats arriving while the server drains are no longer queued for the others.
      const livenessWritten = fleetSync.stop();
      // Closing the server first lets in-flight requests finish and be recorded; then the last
      // history batch is flushed before the database closes.
      // A client that holds a connection open without sending a request would keep close()
      // waiting forever; after a grace period every remaining connection is cut.
      const grace = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await app.close();
      clearTimeout(grace);
      await cloud.close();
      // The last spans go out (each export bounded by OTEL_EXPORTER_OTLP_TIMEOUT).
      await tracing?.close();
      await recorder.close();
      await livenessWritten;
      await apiKeys.close();
      // Stops downloads (they resume on the next start) and lands their progress first.
      await models.close();
      await changes.close();
      await db.destroy();
      logging.close();
    },
  };
}
