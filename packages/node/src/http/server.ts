/**
 * Assembles the node's HTTP server: body limit, request ids, CORS, the routes, and one error
 * handler so every failure is JSON in the right shape and none escapes as a crash.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { NodeServices } from '../services.js';
import { errorBody, HttpError, toHttpError } from './errors.js';
import { registerChatRoute } from './openai/chat.js';
import { registerCompletionsRoute } from './openai/completions.js';
import { registerEmbeddingsRoute } from './openai/embeddings.js';
import { registerModelsRoutes } from './openai/models.js';
import { registerTokenizeRoute } from './openai/tokenize.js';
import { registerOpsRoutes } from './ops-routes.js';

export function buildServer(services: NodeServices): FastifyInstance {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app's default generic types.
    loggerInstance: services.log as FastifyBaseLogger,
    // Inference routes log one summary line each; per-request access lines would double that.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: services.config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });

  // Nodes have no authentication (they sit behind the router); CORS lets tools call them directly.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('access-control-allow-origin', '*');
    if (request.method === 'OPTIONS') {
      return reply
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', request.headers['access-control-request-headers'] ?? '*')
        .code(204)
        .send();
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const httpError = toHttpError(error);
    if (httpError.status >= 500 && !(error instanceof HttpError)) {
      request.log.error({ err: error, url: request.url }, 'request failed');
    }
    if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
    reply.code(httpError.status).headers(httpError.headers).send(errorBody(request.url, httpError));
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new HttpError(
      404,
      `No route for ${request.method} ${request.url.split('?')[0]}`,
      'not_found',
    );
    reply.code(404).send(errorBody(request.url, error));
  });

  registerOpsRoutes(app, services);
  registerModelsRoutes(app, services);
  registerChatRoute(app, services);
  registerCompletionsRoute(app, services);
  registerEmbeddingsRoute(app, services);
  registerTokenizeRoute(app, services);
  return app;
}
