/**
 * The OpenAPI document at /openapi.json: every route the router registers is in it (a route
 * added without a descriptor fails here), its inputs are the zod schemas the routes validate
 * with, and its security follows each route's guard.
 */
import ajv2020 from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath, undocumentedRoutes } from '../src/http/openapi.js';
import { registeredRoutes } from '../src/http/server.js';
import { startTestRouter, type TestRouter } from './support/router-harness.js';

// CommonJS modules: their `default` is the export itself, and it is what the types describe.
const Ajv2020 = ajv2020.default;
const addFormats = ajvFormats.default;

// biome-ignore lint/suspicious/noExplicitAny: the document is read field by field.
type Json = any;

let router: TestRouter;
let doc: Json;

beforeAll(async () => {
  router = await startTestRouter();
  const res = await router.call('GET', '/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(() => router.stop());

/** The OpenAPI path a registered route appears under (wildcards get their descriptor's name). */
function documentedPath(method: string, url: string): string | undefined {
  if (!url.endsWith('*')) return openApiPath(url);
  const prefix = url.slice(0, -1);
  return Object.keys(doc.paths).find(
    (p) => p.startsWith(prefix) && /^\{[^}/]+\}$/.test(p.slice(prefix.length)) && doc.paths[p][method],
  );
}

describe('GET /openapi.json', () => {
  it('is a public OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('LLM Router API');
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ in: 'header', name: 'X-API-Key' });
  });

  it('documents every registered /v0 and /v1 route, and no route that does not exist', () => {
    const { missing, stale } = undocumentedRoutes(router.app);
    expect(missing).toEqual([]);
    expect(stale).toEqual([]);
    const routes = (registeredRoutes.get(router.app) ?? []).filter((r) => /^\/v[01]\//.test(r.url));
    expect(routes.length).toBeGreaterThan(40);
    const absent = routes.filter((r) => {
      const path = documentedPath(r.method.toLowerCase(), r.url);
      return !path || !doc.paths[path]?.[r.method.toLowerCase()]?.summary;
    });
    expect(absent.map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it('declares every path parameter and gives each operation a unique id', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const op of Object.values<Json>(item)) {
        const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        expect(op.parameters.filter((p: Json) => p.in === 'path').map((p: Json) => p.name)).toEqual(names);
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      }
    }
  });

  it('takes request bodies and queries from the route schemas', () => {
    const createKey = doc.paths['/v0/api-keys'].post;
    const body = createKey.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['name', 'scopes']);
    expect(body.properties.scopes.items.enum).toEqual([
      'node:register',
      'api:inference',
      'metrics:read',
      'admin:*',
    ]);
    const chat = doc.paths['/v1/chat/completions'].post.requestBody.content['application/json'].schema;
    expect(chat.required).toEqual(['model', 'messages']);
    const history = doc.paths['/v0/dashboard/request-responses'].get.parameters.map((p: Json) => p.name);
    expect(history).toEqual(
      expect.arrayContaining(['model', 'node_id', 'status', 'from', 'to', 'page', 'per_page']),
    );
  });

  it("reads each route's security off its guard", () => {
    expect(doc.paths['/v0/auth/login'].post.security).toEqual([]);
    expect(doc.paths['/v0/users'].get['x-required-auth']).toBe('admin:*');
    expect(doc.paths['/v0/auth/me'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/v0/models'].get['x-required-auth']).toBe('node:register');
    expect(doc.paths['/v1/embeddings'].post['x-required-auth']).toBe('api:inference');
    expect(doc.paths['/v1/models'].get.security).toContainEqual({ nodeToken: [] });
    expect(doc.paths['/v0/users'].get.responses['403'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ManagementError',
    );
    expect(doc.paths['/v1/embeddings'].post.responses['401'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/OpenAIError',
    );
  });

  it('names model wildcards so ids with slashes are documented', () => {
    expect(doc.paths['/v0/models/{model}'].delete.summary).toMatch(/Delete/);
    expect(doc.paths['/v1/models/{model}'].get.parameters[0].description).toMatch(/slash/);
  });
});

describe('schemas in the document', () => {
  /** Every JSON Schema the document holds (bodies, parameters, responses, components). */
  function* schemasOf(value: Json, inSchema = false): Generator<Json> {
    if (!value || typeof value !== 'object') return;
    for (const [key, child] of Object.entries<Json>(value)) {
      if (key === 'schema' && !inSchema) yield child;
      else if (!inSchema) yield* schemasOf(child);
    }
  }

  it('are valid JSON Schema 2020-12 (the OpenAPI 3.1 dialect)', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components });
    let count = 0;
    for (const schema of schemasOf(doc.paths)) {
      const resolved = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
      expect(() => ajv.compile(resolved)).not.toThrow();
      count++;
    }
    expect(count).toBeGreaterThan(40);
  });

  it('accept what the route accepts and refuse what it refuses', async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const body = (path: string, method: string) =>
      ajv.compile(doc.paths[path][method].requestBody.content['application/json'].schema);
    const chat = body('/v1/chat/completions', 'post');
    const good = { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, extra: true };
    const bad = { model: 'm', messages: [], temperature: 3 };
    expect(chat(good)).toBe(true);
    expect(chat(bad)).toBe(false);
    const headers = { authorization: `Bearer ${await router.createKey(['admin:*'])}` };
    // The router agrees: the bad body is a 400 naming a field, the good one gets past validation.
    expect((await router.call('POST', '/v1/chat/completions', { body: bad, headers })).status).toBe(400);
    expect((await router.call('POST', '/v1/chat/completions', { body: good, headers })).status).toBe(404);
    const createUser = body('/v0/users', 'post');
    expect(createUser({ username: 'ann', password: 'long enough', role: 'viewer' })).toBe(true);
    expect(createUser({ username: 'ann', password: 'short', role: 'viewer' })).toBe(false);
    expect(createUser({ username: 'ann', password: 'long enough', role: 'root' })).toBe(false);
  });
});
