/**
 * The auth matrix over every route the router registers: no credentials, a key with the wrong
 * scope, a viewer's JWT, an expired key, a revoked key, and an admin. A route added without a
 * row here fails the completeness check, so no route ships with unchecked auth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../src/http/server.js';
import { gpuNodeRegistration, startTestRouter, type TestRouter } from './support/router-harness.js';

/** `reader`: the read-only operational views, open to viewers' JWTs and to `admin:*` keys. */
type Access = 'public' | 'user' | 'admin' | 'reader' | 'node' | 'inference';

interface RouteCase {
  method: string;
  url: string;
  access: Access;
  body?: unknown;
}

const ID = '00000000-0000-4000-8000-000000000000';

const ROUTES: RouteCase[] = [
  { method: 'GET', url: '/health', access: 'public' },
  { method: 'GET', url: '/openapi.json', access: 'public' },
  { method: 'GET', url: '/dashboard', access: 'public' },
  { method: 'GET', url: '/dashboard/nodes', access: 'public' },
  { method: 'GET', url: '/dashboard/assets/app.js', access: 'public' },
  { method: 'GET', url: '/playground', access: 'public' },
  { method: 'GET', url: '/playground/chat', access: 'public' },
  { method: 'POST', url: '/v0/auth/login', access: 'public' },
  { method: 'POST', url: '/v0/auth/register', access: 'public' },
  { method: 'GET', url: '/v0/auth/me', access: 'user' },
  { method: 'POST', url: '/v0/auth/logout', access: 'user' },
  { method: 'GET', url: '/v0/users', access: 'admin' },
  { method: 'POST', url: '/v0/users', access: 'admin', body: {} },
  { method: 'PUT', url: `/v0/users/${ID}`, access: 'admin', body: { role: 'viewer' } },
  { method: 'DELETE', url: `/v0/users/${ID}`, access: 'admin' },
  { method: 'GET', url: '/v0/invitations', access: 'admin' },
  { method: 'POST', url: '/v0/invitations', access: 'admin', body: {} },
  { method: 'DELETE', url: `/v0/invitations/${ID}`, access: 'admin' },
  { method: 'GET', url: '/v0/api-keys', access: 'admin' },
  { method: 'POST', url: '/v0/api-keys', access: 'admin', body: {} },
  { method: 'PUT', url: `/v0/api-keys/${ID}`, access: 'admin', body: { name: 'x' } },
  { method: 'DELETE', url: `/v0/api-keys/${ID}`, access: 'admin' },
  { method: 'POST', url: '/v0/nodes', access: 'node', body: {} },
  { method: 'POST', url: '/v0/health', access: 'node', body: {} },
  { method: 'GET', url: '/v0/nodes', access: 'reader' },
  { method: 'DELETE', url: `/v0/nodes/${ID}`, access: 'admin' },
  { method: 'POST', url: `/v0/nodes/${ID}/disconnect`, access: 'admin' },
  { method: 'POST', url: `/v0/nodes/${ID}/approve`, access: 'admin' },
  { method: 'PUT', url: `/v0/nodes/${ID}/settings`, access: 'admin', body: {} },
  { method: 'GET', url: `/v0/nodes/${ID}/logs`, access: 'admin' },
  { method: 'GET', url: '/v0/dashboard/overview', access: 'reader' },
  { method: 'GET', url: '/v0/dashboard/stats', access: 'reader' },
  { method: 'GET', url: '/v0/dashboard/nodes', access: 'reader' },
  { method: 'GET', url: '/v0/dashboard/request-history', access: 'reader' },
  { method: 'GET', url: `/v0/dashboard/metrics/${ID}`, access: 'reader' },
  { method: 'GET', url: '/v0/dashboard/cache-routing', access: 'reader' },
  { method: 'GET', url: '/v0/dashboard/request-responses', access: 'admin' },
  { method: 'GET', url: `/v0/dashboard/request-responses/${ID}`, access: 'admin' },
  { method: 'GET', url: '/v0/dashboard/request-responses/export', access: 'admin' },
  { method: 'GET', url: '/v0/dashboard/logs/router', access: 'admin' },
  { method: 'GET', url: '/v0/metrics/cloud', access: 'admin' },
  { method: 'GET', url: '/metrics', access: 'admin' },
  { method: 'POST', url: '/v0/models/register', access: 'admin', body: {} },
  { method: 'POST', url: '/v0/models/discover-gguf', access: 'admin', body: {} },
  { method: 'DELETE', url: '/v0/models/org/model', access: 'admin' },
  { method: 'GET', url: '/v0/models', access: 'node' },
  { method: 'GET', url: '/v0/models/org/model', access: 'node' },
  { method: 'GET', url: '/v0/models/registry/org/model/manifest.json', access: 'node' },
  { method: 'GET', url: '/v0/models/blob/org/model', access: 'node' },
  { method: 'POST', url: '/v1/chat/completions', access: 'inference', body: {} },
  { method: 'POST', url: '/v1/completions', access: 'inference', body: {} },
  { method: 'POST', url: '/v1/embeddings', access: 'inference', body: {} },
  { method: 'POST', url: '/v1/messages', access: 'inference', body: {} },
  { method: 'POST', url: '/v1/messages/count_tokens', access: 'inference', body: {} },
  { method: 'POST', url: '/v1/responses', access: 'inference', body: {} },
  { method: 'GET', url: `/v1/responses/${ID}`, access: 'inference' },
  { method: 'DELETE', url: `/v1/responses/${ID}`, access: 'inference' },
  { method: 'GET', url: '/v1/models', access: 'inference' },
  { method: 'GET', url: '/v1/models/some-model', access: 'inference' },
];

/** Turns a concrete test URL back into the route pattern Fastify registered. */
function patternOf(url: string): string {
  return url
    .replace(ID, ':id')
    .replace('/v0/dashboard/metrics/:id', '/v0/dashboard/metrics/:node_id')
    .replace('/v1/models/some-model', '/v1/models/*')
    .replace('/v0/models/registry/org/model/manifest.json', '/v0/models/registry/*')
    .replace('/v0/models/blob/org/model', '/v0/models/blob/*')
    .replace('/v0/models/org/model', '/v0/models/*')
    .replace(/^\/dashboard\/assets\/app\.js$/, '/dashboard/assets/*')
    .replace(/^\/dashboard\/nodes$/, '/dashboard/*')
    .replace(/^\/playground\/chat$/, '/playground/*');
}

describe('auth matrix over every route', () => {
  let router: TestRouter;
  const creds: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    router = await startTestRouter();
    const adminAuth = { authorization: `Bearer ${await router.adminToken()}` };
    await router.call('POST', '/v0/users', {
      body: { username: 'viewer', password: 'viewer-password', role: 'viewer' },
      headers: adminAuth,
    });
    const viewerToken = (
      await router.call('POST', '/v0/auth/login', {
        body: { username: 'viewer', password: 'viewer-password' },
      })
    ).body.token;
    const expired = await router.createKey(['admin:*'], new Date(Date.now() + 300).toISOString());
    const revoked = await router.call('POST', '/v0/api-keys', {
      body: { name: 'revoked', scopes: ['admin:*'] },
      headers: adminAuth,
    });
    await router.call('DELETE', `/v0/api-keys/${revoked.body.id}`, { headers: adminAuth });
    creds.none = {};
    creds.viewer = { authorization: `Bearer ${viewerToken}` };
    creds.expired = { authorization: `Bearer ${expired}` };
    creds.revoked = { 'x-api-key': revoked.body.key };
    creds.adminJwt = adminAuth;
    creds.adminKey = { authorization: `Bearer ${await router.createKey(['admin:*'])}` };
    creds.inferenceKey = { authorization: `Bearer ${await router.createKey(['api:inference'])}` };
    creds.nodeKey = { authorization: `Bearer ${await router.createKey(['node:register'])}` };
    await new Promise((r) => setTimeout(r, 350));
  });
  afterAll(() => router.stop());

  const send = (route: RouteCase, headers: Record<string, string>) =>
    router.call(route.method, route.url, {
      headers: { ...headers, 'x-node-token': 'nt_not-a-real-token' },
      ...(route.body !== undefined ? { body: route.body } : {}),
    });

  it('has a row for every registered route', () => {
    const registered = (registeredRoutes.get(router.app) ?? []).map((r) => `${r.method} ${r.url}`).sort();
    const covered = new Set(ROUTES.map((r) => `${r.method} ${patternOf(r.url)}`));
    expect(registered.filter((r) => !covered.has(r))).toEqual([]);
    expect(registered.length).toBeGreaterThanOrEqual(ROUTES.length);
  });

  const protectedRoutes = ROUTES.filter((r) => r.access !== 'public');
  const name = (r: RouteCase) => `${r.method} ${r.url}`;

  it.each(protectedRoutes.map((r) => [name(r), r] as const))(
    '%s: no credentials → 401',
    async (_n, route) => {
      expect((await send(route, creds.none)).status).toBe(401);
    },
  );

  it.each(protectedRoutes.map((r) => [name(r), r] as const))('%s: expired key → 401', async (_n, route) => {
    const res = await send(route, creds.expired);
    expect(res.status).toBe(401);
  });

  it.each(protectedRoutes.map((r) => [name(r), r] as const))('%s: revoked key → 401', async (_n, route) => {
    expect((await send(route, creds.revoked)).status).toBe(401);
  });

  it.each(protectedRoutes.map((r) => [name(r), r] as const))(
    '%s: wrong scope → 403 (401 for session routes)',
    async (_n, route) => {
      const wrong = route.access === 'inference' ? creds.nodeKey : creds.inferenceKey;
      expect((await send(route, wrong)).status).toBe(route.access === 'user' ? 401 : 403);
    },
  );

  // Logout would end the shared viewer session, so it is checked on its own session below.
  const notLogout = protectedRoutes.filter((r) => r.url !== '/v0/auth/logout');

  it.each(notLogout.map((r) => [name(r), r] as const))('%s: viewer JWT', async (_n, route) => {
    const status = (await send(route, creds.viewer)).status;
    if (route.access === 'admin' || route.access === 'node') expect(status).toBe(403);
    else expect([401, 403]).not.toContain(status);
  });

  it('POST /v0/auth/logout: a viewer may end their own session', async () => {
    const token = (
      await router.call('POST', '/v0/auth/login', {
        body: { username: 'viewer', password: 'viewer-password' },
      })
    ).body.token;
    const res = await router.call('POST', '/v0/auth/logout', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(204);
  });

  it.each(notLogout.map((r) => [name(r), r] as const))('%s: admin passes auth', async (_n, route) => {
    const asAdmin = route.access === 'user' ? creds.adminJwt : creds.adminKey;
    const status = (await send(route, asAdmin)).status;
    expect([401, 403]).not.toContain(status);
  });

  it('a viewer reads exactly the operational views, and nothing admin-only', async () => {
    const readable = ROUTES.filter((r) => r.access === 'reader').map(name);
    expect(readable.sort()).toEqual(
      [
        'GET /v0/nodes',
        'GET /v0/dashboard/overview',
        'GET /v0/dashboard/stats',
        'GET /v0/dashboard/nodes',
        'GET /v0/dashboard/request-history',
        `GET /v0/dashboard/metrics/${ID}`,
        'GET /v0/dashboard/cache-routing',
      ].sort(),
    );
    // The logout case above ended the shared viewer session: sign in again.
    const login = await router.call('POST', '/v0/auth/login', {
      body: { username: 'viewer', password: 'viewer-password' },
    });
    const viewer = { authorization: `Bearer ${login.body.token}` };
    const overview = await router.call('GET', '/v0/dashboard/overview', { headers: viewer });
    expect(overview.status).toBe(200);
    expect(overview.body.stats).toHaveProperty('total_nodes');
    for (const url of [
      '/v0/dashboard/request-responses',
      '/v0/dashboard/logs/router',
      '/v0/users',
      '/v0/api-keys',
      '/v0/invitations',
    ]) {
      expect({ url, status: (await router.call('GET', url, { headers: viewer })).status }).toEqual({
        url,
        status: 403,
      });
    }
  });

  it('the admin JWT also passes every admin and reader route', async () => {
    for (const route of ROUTES.filter((r) => r.access === 'admin' || r.access === 'reader')) {
      const status = (await send(route, creds.adminJwt)).status;
      expect({ route: name(route), status }).not.toMatchObject({ status: 401 });
      expect({ route: name(route), status }).not.toMatchObject({ status: 403 });
    }
  });

  it('node registration with the right key still succeeds after all of this', async () => {
    const res = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration(),
      headers: creds.nodeKey,
    });
    expect(res.status).toBe(201);
  });
});
