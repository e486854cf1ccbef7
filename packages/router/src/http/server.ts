/**
 * Assembles the Fastify server: request ids, timing and trace on every request, body parsing
 * that keeps the raw bytes, one error handler that renders every failure in the shape of its
 * route family, and a JSON 404.
 */

import type { IncomingMessage } from 'node:http';
import { anthropicError, managementError, openAIError } from '@llm-router/protocol';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { uuidV7 } from '../observability/ids.js';
import { RequestTiming } from '../observability/request-timing.js';
import { traceContextOf } from '../observability/trace-context.js';
import { HttpError } from './errors.js';
import { registerOpenApi } from './openapi.js';
import { bodyTooLarge, registerJsonBodyParser } from './raw-body.js';
import { lazyRequestLogger } from './request-logger.js';

export interface ServerOptions {
  bodyLimitBytes: number;
  /** Longest time a client may take to send its request body before it gets 408. */
  bodyReadTimeoutMs: number;
  log: Logger;
}

/** Printable ASCII without spaces, at most 200 characters: safe to echo, log and store. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

const isOpenAIRoute = (url: string) => url.startsWith('/v1/') || url === '/v1';
const isV1 = (url: string) => isOpenAIRoute(url) || url.startsWith('/v1?');
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
  if (error.code === 'FST_ERR_BAD_URL') {
    return {
      status: 400,
      code: 'invalid_url',
      message: 'The URL is not valid: a path segment has malformed percent-encoding',
    };
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return {
      status: 414,
      code: 'uri_too_long',
      message: 'URI Too Long: a path segment is longer than the router accepts (1024 characters)',
    };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return {
      status: 400,
      code: 'invalid_request',
      message: 'Request body length does not match the Content-Length header',
    };
  }
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
function discardBody(stream: IncomingMessage, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let drained = 0;
    // A client trickling an oversized body must not hold the connection open forever.
    const timer = setTimeout(() => stream.destroy(), timeoutMs);
    stream.once('close', () => clearTimeout(timer));
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
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: options.bodyLimitBytes,
    // Model ids contain slashes and arrive URL-encoded (`org%2Fname`); keep them routable.
    routerOptions: { maxParamLength: 1024 },
    // The client's `x-request-id` (when it is a sane token) names the request in logs, history
    // and the node's logs; otherwise the router makes one up (a time-ordered UUIDv7, cheap to index).
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : uuidV7();
    },
    // URLs the router cannot decode (bad percent-encoding, over-long ids) answer in our shapes too.
    frameworkErrors: (error, request, reply) => {
      const described = describeFrameworkError(error);
      (reply as unknown as FastifyReply)
        .code(described.status)
        .send(renderError(request.url, described.status, described.message, described.code));
    },
  });
  // One hook per phase for every request, each a callback (no promise): on a busy router each
  // hook and each extra stream on the request path is a measurable share of its CPU.
  // Every `/v1` request (whatever its format: OpenAI, Anthropic Messages, Responses, model
  // listing) gets its timing and trace here, before any route's auth, so `Server-Timing` and
  // `x-trace-id` are on every response, even a 401 or a 404. Streams write their head through
  // `openSseReply`, which adds `Server-Timing` itself.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (isV1(request.url)) {
      request.timing = new RequestTiming();
      request.trace = traceContextOf(request);
      reply.header('x-trace-id', request.trace.traceId);
    }
    done();
  });
  registerJsonBodyParser(app, options);
  // preParsing runs after every onRequest hook, the routes' auth included: `auth` ends here, and
  // strangers get 401, not a drained body. Declared-too-large bodies are refused only after they
  // have been received (and discarded), so the client can read the 413.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    request.timing?.markAuthenticated();
    const declared = Number(request.headers['content-length']);
    if (!(declared > options.bodyLimitBytes)) {
      done(null, payload);
      return;
    }
    void discardBody(request.raw, options.bodyReadTimeoutMs).then(() => done(bodyTooLarge()));
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.timing) reply.header('server-timing', request.timing.header());
    done(null, payload);
  });
  const routes: Array<{ method: string; url: string }> = [];
  registeredRoutes.set(app as unknown as FastifyInstance, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  // Collects every route's descriptor from here on and serves them as GET /openapi.json.
  registerOpenApi(app as unknown as FastifyInstance);

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
