/**
 * Prometheus `/metrics`: on the main port behind an `admin:*` or `metrics:read` key (or an admin
 * session), and optionally on its own listener without auth (LLM_ROUTER_METRICS_ADDR), for
 * scrapers on a private network that should hold no key.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { RequireScope } from '../http/auth-context.js';
import { describeRoutes } from '../http/openapi.js';
import type { RouterMetrics } from '../observability/metrics.js';

export function registerMetricsRoute(
  app: FastifyInstance,
  deps: { metrics: RouterMetrics; requireScope: RequireScope },
): void {
  describeRoutes(app, {
    'GET /metrics': {
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['meta'],
      responses: { 200: { description: 'Prometheus text format 0.0.4', contentType: 'text/plain' } },
    },
  });
  app.get('/metrics', { onRequest: deps.requireScope('metrics:read') }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.contentType);
    return deps.metrics.render();
  });
}

/** The unauthenticated metrics listener: `GET /metrics` only, everything else 404. */
export async function startMetricsListener(
  metrics: RouterMetrics,
  address: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Only GET /metrics is served here', code: 'not_found' } }));
      return;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(text);
      },
      () => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Collecting metrics failed', code: 'internal_error' } }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
