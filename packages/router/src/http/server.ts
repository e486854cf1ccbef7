/**
 * Assembles the Fastify server: body parsing that keeps the raw bytes, one error handler that
 * renders every failure in the shape of its route family, and a JSON 404.
 */

import type { IncomingMessage } from 'node:http';
import { anthropicError, managementError, openAIError } from '@llm-router/protocol';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { HttpError } from './errors.js';
import { registerJsonBodyParser } from './raw-body.js';

export interface ServerOptions {
  bodyLimitBytes: number;
  log: Logger;
}

const isOpenAIRoute = (url: string) => url.startsWith('/v1/') || url === '/v1';
/** Anthropic Messages routes answer in Anthropic's error shape, so Anthropic SDKs read them. */
const isAnthropicRoute = (url: string) =>
  url === '/v1/messages' || url.startsWith('/v1/messages/') || url.startsWith('/v1/messages?');

export function renderError(
  url: string,
  status: number,
  message: string,
  code: string,
  param: string | null = null,
) {
  if (isAnthropicRoute(url)) return anthropicError(status, message);
  return isOpenAIRoute(url) ? openAIError(status, message, code, param) : managementError(message, code);
}

/** Maps Fastify's own errors (body too large, bad content type, …) to a status and a code. */
function describeFrameworkError(error: FastifyError): { status: number; code: string; message: string } {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      code: 'request_too_large',
      message: 'Request body is larger than the router accepts',
    };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      code: 'unsupported_media_type',
      message: 'Send the request body as application/json',
    };
  }
  if (error.validation) return { status: 400, code: 'validation_error', message: error.message };
  const status =
    error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  return status === 500
    ? { status, code: 'internal_error', message: 'Internal server error' }
    : { status, code: 'invalid_request', message: error.message };
}

/** Every route the server registers (method + URL pattern), so tests can check each one's auth. */
export const registeredRoutes = new WeakMap<FastifyInstance, Array<{ method: string; url: string }>>();

/** Bytes of an oversized body read and thrown away so the client can finish sending and read the 413. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads and discards a request body (up to a bound). A client still uploading an oversized
 * body would otherwise hit a reset (EPIPE) before it could read our 413.
 */
function discardBody(stream: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let drained = 0;
    stream.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > MAX_DRAIN_BYTES) stream.destroy();
    });
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

export function createHttpServer(options: ServerOptions): FastifyInstance {
  // Typed as the default instance so route modules need not know the logger's concrete type.
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    // Per-request access lines would drown the log on a busy router; request history records them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // Model ids contain slashes and arrive URL-encoded (`org%2Fname`); keep them routable.
    routerOptions: { maxParamLength: 1024 },
  });
  registerJsonBodyParser(app);
  // Declared-too-large bodies are refused only after they have been received (and discarded).
  // preParsing runs after the routes' onRequest auth, so strangers get 401, not a drained body.
  app.addHook('preParsing', async (request) => {
    const declared = Number(request.headers['content-length']);
    if (!(declared > options.bodyLimitBytes)) return;
    await discardBody(request.raw);
    throw new HttpError(413, 'Request body is larger than the router accepts', 'request_too_large');
  });
  const routes: Array<{ method: string; url: string }> = [];
  registeredRoutes.set(app as unknown as FastifyInstance, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: route.url });
  });

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      reply.headers(error.headers);
      return reply
        .code(error.status)
        .send(renderError(request.url, error.status, error.message, error.code, error.param));
    }
    const described = describeFrameworkError(error);
    if (described.status >= 500) request.log.error({ err: error, url: request.url }, 'unhandled error');
    return reply
      .code(described.status)
      .send(renderError(request.url, described.status, described.message, described.code));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        renderError(
          request.url,
          404,
          `No route for ${request.method} ${request.url.split('?')[0]}`,
          'not_found',
        ),
      ),
  );

  return app as unknown as FastifyInstance;
}
