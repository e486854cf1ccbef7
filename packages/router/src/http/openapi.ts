/**
 * The router's OpenAPI 3.1 document, served at `/openapi.json`. It is generated, not written:
 * each route module describes its routes in one table beside them
 * (`describeRoutes(app, { 'POST /v0/api-keys': { summary, body: CreateApiKeySchema, … } })`),
 * the inputs are the very zod schemas the routes validate with (converted by
 * `z.toJSONSchema`), and security is read off each route's auth guard (`http/auth-context.ts`
 * tags every guard with what it demands). A Fastify `onRoute` hook records every route as it
 * is registered; the document joins the two. A route without a descriptor is left out, and
 * `packages/router/test/openapi.test.ts` fails on it (and on a descriptor that names no route).
 * Keys are `METHOD url` exactly as registered (`GET /v0/models/*`), so route lines stay untouched.
 *
 * The document is public: it describes paths, inputs and which credential each route needs,
 * never a secret (the upstream's MCP server reads it the same way).
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { routerVersion } from '../package-info.js';
import { type AuthRequirement, authRequirementOf } from './auth-context.js';

export interface RouteResponseDoc {
  description: string;
  /** A zod schema of the JSON reply, where the route has one. */
  schema?: z.ZodType;
  /** Content type when the reply is not JSON (CSV export, model files, SSE). */
  contentType?: string;
}

/** What a route says about itself for the OpenAPI document. Keep it beside the route's module. */
export interface RouteDoc {
  summary: string;
  description?: string;
  /** Defaults to a tag derived from the path (`/v0/api-keys/:id` → `api-keys`, `/v1/*` → `openai`). */
  tags?: string[];
  /** The zod schema the route parses its JSON body with. */
  body?: z.ZodType;
  /** The zod object schema the route parses its query string with. */
  query?: z.ZodType;
  /** Descriptions of path parameters, by name (`id`; a `*` wildcard is named by `wildcard`). */
  params?: Record<string, string>;
  /** Name for a `*` wildcard segment (default `path`). Model ids contain slashes, so they are wildcards. */
  wildcard?: string;
  /** Extra request headers the route needs besides its credential (e.g. `X-Node-Token`). */
  headers?: Record<string, string>;
  /** Replies by status. 401/403 are added from the route's guard; the error shape from its family. */
  responses?: Record<number, string | RouteResponseDoc>;
}

/** Descriptors by `METHOD url`, as the route is registered (`GET /v0/users/:id`). */
export type RouteDocs = Record<string, RouteDoc>;

interface CollectedRoute {
  method: string;
  url: string;
  auth?: AuthRequirement;
}

interface Collected {
  routes: CollectedRoute[];
  docs: Map<string, RouteDoc>;
}

/** Routes and descriptors of each server, collected by its onRoute hook. */
const collected = new WeakMap<FastifyInstance, Collected>();

const routeKey = (method: string, url: string) => `${method} ${url}`;

/** `/v0/users/:id` → `/v0/users/{id}`; a trailing `*` becomes `{<wildcard>}`. */
export function openApiPath(url: string, wildcard = 'path'): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, `{${wildcard}}`);
}

const jsonSchema = (schema: z.ZodType): Record<string, unknown> => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
};

const ERROR_SCHEMAS = {
  ManagementError: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'code'],
        properties: { message: { type: 'string' }, code: { type: 'string' } },
      },
    },
  },
  OpenAIError: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'param', 'code'],
        properties: {
          message: { type: 'string' },
          type: { type: 'string' },
          param: { type: ['string', 'null'] },
          code: { type: ['string', 'null'] },
        },
      },
    },
  },
};

const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`sk_…`) or a dashboard session JWT from POST /v0/auth/login.',
  },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (`sk_…`).' },
  nodeToken: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Node-Token',
    description: 'The `nt_…` token a node received when it registered.',
  },
};

const AUTH_TEXT: Record<AuthRequirement, string> = {
  'admin:*': 'Needs an admin session JWT or an API key with the `admin:*` scope.',
  'node:register': 'Needs an API key with the `node:register` scope (`admin:*` implies it).',
  'api:inference': 'Needs an API key with the `api:inference` scope, or any signed-in user JWT.',
  'metrics:read':
    'Needs an API key with the `metrics:read` scope (`admin:*` implies it), or an admin session.',
  user: 'Needs a dashboard session JWT (Authorization: Bearer).',
  models: 'Needs an `api:inference` API key (or user JWT), or a registered node’s `X-Node-Token`.',
};

function securityFor(auth: AuthRequirement | undefined): Array<Record<string, string[]>> {
  if (!auth) return [];
  if (auth === 'user') return [{ bearer: [] }];
  if (auth === 'models') return [{ bearer: [] }, { apiKey: [] }, { nodeToken: [] }];
  return [{ bearer: [] }, { apiKey: [] }];
}

function defaultTag(url: string): string {
  if (url.startsWith('/v1/')) return 'openai';
  return url.split('/')[2] ?? 'router';
}

function queryParameters(schema: z.ZodType) {
  const json = jsonSchema(schema) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function responseObject(entry: string | RouteResponseDoc) {
  const response = typeof entry === 'string' ? { description: entry } : entry;
  if (!response.schema && !response.contentType) return { description: response.description };
  return {
    description: response.description,
    content: {
      [response.contentType ?? 'application/json']: {
        schema: response.schema ? jsonSchema(response.schema) : {},
      },
    },
  };
}

function operationFor(route: CollectedRoute, doc: RouteDoc) {
  const { url, auth } = route;
  const errorRef = {
    $ref: `#/components/schemas/${url.startsWith('/v1/') ? 'OpenAIError' : 'ManagementError'}`,
  };
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: errorRef } },
  });
  const pathParams = [...openApiPath(url, doc.wildcard).matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    description:
      doc.params?.[name] ??
      (name === doc.wildcard
        ? 'May contain slashes (`org/name`), or send it URL-encoded (`org%2Fname`).'
        : name),
    schema: { type: 'string' },
  }));
  const headerParams = Object.entries(doc.headers ?? {}).map(([name, description]) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
  }));
  const responses: Record<string, unknown> = {};
  for (const [status, entry] of Object.entries(doc.responses ?? { 200: 'OK' })) {
    responses[status] = responseObject(entry);
  }
  if (doc.body || doc.query) responses['400'] ??= error('Invalid input: the message names the field.');
  if (auth) {
    responses['401'] ??= error('Missing, invalid or expired credentials.');
    if (auth !== 'user') responses['403'] ??= error('The credential lacks the needed scope or role.');
  }
  const description = [doc.description, auth ? AUTH_TEXT[auth] : 'No credentials needed.']
    .filter(Boolean)
    .join('\n\n');
  return {
    operationId: `${route.method.toLowerCase()}${openApiPath(url, doc.wildcard).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}`,
    summary: doc.summary,
    description,
    tags: doc.tags ?? [defaultTag(url)],
    security: securityFor(auth),
    ...(auth ? { 'x-required-auth': auth } : {}),
    parameters: [...pathParams, ...(doc.query ? queryParameters(doc.query) : []), ...headerParams],
    ...(doc.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body) } } } }
      : {}),
    responses,
  };
}

/** Builds the document from the routes registered so far. */
export function buildOpenApiDocument(app: FastifyInstance) {
  const paths: Record<string, Record<string, unknown>> = {};
  const state = collected.get(app);
  for (const route of state?.routes ?? []) {
    const doc = state?.docs.get(routeKey(route.method, route.url));
    if (!doc) continue;
    const path = openApiPath(route.url, doc.wildcard);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operationFor(route, doc);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'LLM Router API',
      version: routerVersion,
      description:
        'OpenAI-compatible inference (`/v1`) and the management API (`/v0`) of LLM Router. ' +
        '`/v1` errors are OpenAI-shaped; `/v0` errors are `{"error":{"message","code"}}`.',
    },
    paths,
    components: { schemas: ERROR_SCHEMAS, securitySchemes: SECURITY_SCHEMES },
  };
}

/** The descriptor shared by the `/v1` inference routes. */
export function inferenceDoc(summary: string, body: z.ZodType): RouteDoc {
  return {
    summary,
    description:
      'Prefix the model with `openai:`, `google:` or `anthropic:` to use a cloud provider; other models go to a node that has them. Unknown fields are forwarded untouched.',
    body,
    responses: {
      200: {
        description: 'OpenAI-shaped reply, or an SSE stream (`text/event-stream`) when `stream` is true',
        contentType: 'application/json',
      },
      404: 'model_not_found',
      502: 'node_upstream_error: the node or provider failed',
      503: 'No node can serve the model right now',
      504: 'Upstream timeout',
    },
  };
}

/**
 * Adds a route module's descriptors. Call it once in the module's `register…Routes`, with one
 * entry per route it registers; a key that matches no route fails the OpenAPI test.
 */
export function describeRoutes(app: FastifyInstance, docs: RouteDocs): void {
  const state = collected.get(app);
  if (!state) return; // a bare Fastify instance in a unit test: nothing to document
  for (const [key, doc] of Object.entries(docs)) state.docs.set(key, doc);
}

/** Registered routes without a descriptor, and descriptors that name no route (for the test). */
export function undocumentedRoutes(app: FastifyInstance): { missing: string[]; stale: string[] } {
  const state = collected.get(app);
  const registered = new Set((state?.routes ?? []).map((r) => routeKey(r.method, r.url)));
  return {
    missing: [...registered].filter((key) => !state?.docs.has(key)),
    stale: [...(state?.docs.keys() ?? [])].filter((key) => !registered.has(key)),
  };
}

/**
 * Starts collecting descriptors (call before any route is registered) and serves the document
 * at `GET /openapi.json`, built once on first request, after every route exists.
 */
export function registerOpenApi(app: FastifyInstance): void {
  const state: Collected = { routes: [], docs: new Map() };
  collected.set(app, state);
  app.addHook('onRoute', (route: RouteOptions) => {
    const guards = [route.onRequest].flat().filter(Boolean);
    const auth = guards.map(authRequirementOf).find((r) => r !== undefined);
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') state.routes.push({ method, url: route.url, auth });
    }
  });
  describeRoutes(app, {
    'GET /openapi.json': { summary: 'This OpenAPI 3.1 document (public)', tags: ['meta'] },
  });
  let document: unknown;
  app.get('/openapi.json', async () => {
    document ??= buildOpenApiDocument(app);
    return document;
  });
}
