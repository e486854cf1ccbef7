/**
 * `GET /v0/metrics/cloud` (admin): the cloud provider metrics in Prometheus text format.
 */
import type { FastifyInstance } from 'fastify';
import type { CloudMetrics } from '../cloud/metrics.js';
import type { RequireScope } from '../http/auth-context.js';
import { describeRoutes } from '../http/openapi.js';

export type CloudMetricsRouteOptions = { requireScope: RequireScope } & (
  | {
      /** The gateway from `createCloudGateway(...)`, which owns the metrics. */ cloud: {
        metrics: CloudMetrics;
      };
    }
  | { metrics: CloudMetrics }
);

export function registerCloudMetricsRoute(app: FastifyInstance, options: CloudMetricsRouteOptions): void {
  const metrics = 'cloud' in options ? options.cloud.metrics : options.metrics;
  describeRoutes(app, {
    'GET /v0/metrics/cloud': {
      summary: 'Prometheus metrics of cloud requests',
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' } },
    },
  });
  app.get('/v0/metrics/cloud', { onRequest: options.requireScope('admin:*') }, async (_request, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
}
