/**
 * Operational routes: liveness, startup readiness, metrics (JSON and Prometheus), the log tail
 * and the runtime log level. Errors here use the management shape.
 */
import type { FastifyInstance } from 'fastify';
import { LOG_LEVELS, type LogLevel } from '../config/config.js';
import { renderPrometheus } from '../observability/prometheus.js';
import { CpuSampler, takeSnapshot } from '../observability/snapshot.js';
import type { NodeServices } from '../services.js';
import { badRequest } from './errors.js';

const DEFAULT_TAIL = 200;
const MAX_TAIL = 1000;

export function parseTail(raw: unknown): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : DEFAULT_TAIL;
  if (!Number.isFinite(n)) return DEFAULT_TAIL;
  return Math.min(MAX_TAIL, Math.max(1, Math.floor(n)));
}

export function registerOpsRoutes(app: FastifyInstance, services: NodeServices): void {
  // Separate samplers: each reader sees CPU load over its own interval between calls.
  const jsonCpu = new CpuSampler();
  const promCpu = new CpuSampler();

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/startup', async (_request, reply) => {
    if (services.models.started) return { status: 'ready' };
    return reply.code(503).send({ status: 'starting' });
  });

  app.get('/metrics', async () => takeSnapshot(services, jsonCpu));

  app.get('/metrics/prom', async (_request, reply) => {
    const text = renderPrometheus(await takeSnapshot(services, promCpu));
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });

  app.get<{ Querystring: { tail?: string } }>('/v0/logs', async (request) => ({
    entries: services.logging.ring.tail(parseTail(request.query.tail)),
    path: services.logging.filePath,
  }));

  app.get('/log/level', async () => ({ level: services.log.level }));

  app.post('/log/level', async (request) => {
    const level = (request.body as { level?: unknown } | undefined)?.level;
    if (typeof level !== 'string' || level.trim() === '') {
      throw badRequest(`'level' is required, one of: ${LOG_LEVELS.join(', ')}`, 'level', 'missing_level');
    }
    const normalised = level.trim().toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(normalised)) {
      throw badRequest(`'level' must be one of: ${LOG_LEVELS.join(', ')}`, 'level', 'invalid_level');
    }
    services.logging.setLevel(normalised as LogLevel);
    services.log.info({ newLevel: normalised }, 'log level changed');
    return { level: normalised };
  });
}
