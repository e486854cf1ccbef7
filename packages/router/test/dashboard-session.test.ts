/**
 * The dashboard's cookie session: login sets an HttpOnly SameSite=Strict cookie, the cookie
 * authenticates /v0 and /v1 like a Bearer token, writes need the CSRF token, logout ends it,
 * and API clients with `Authorization` are unaffected. Also the viewer's read-only reach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestRouter, type TestRouter } from './support/router-harness.js';

interface Session {
  cookie: string;
  csrf: string;
}

function sessionFrom(headers: Headers): Session {
  const cookies = headers.getSetCookie();
  const pick = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!;
  const session = pick('llm_router_session');
  const csrf = pick('llm_router_csrf');
  return {
    cookie: [session, csrf].map((c) => c.split(';')[0]).join('; '),
    csrf: csrf.split(';')[0].split('=')[1],
  };
}

describe('dashboard session cookie', () => {
  let router: TestRouter;
  let admin: Session;
  let loginHeaders: Headers;
  let loginBody: { csrf_token: string; token: string };

  const login = async (username: string, password: string) => {
    const res = await router.call('POST', '/v0/auth/login', { body: { username, password } });
    expect(res.status).toBe(200);
    return res;
  };

  beforeAll(async () => {
    router = await startTestRouter();
    const res = await login('admin', ADMIN_PASSWORD);
    loginHeaders = res.headers;
    loginBody = res.body;
    admin = sessionFrom(res.headers);
  });
  afterAll(() => router.stop());

  it('sets an HttpOnly, SameSite=Strict session cookie and a readable CSRF cookie', () => {
    const cookies = loginHeaders.getSetCookie();
    const session = cookies.find((c) => c.startsWith('llm_router_session='))!;
    const csrf = cookies.find((c) => c.startsWith('llm_router_csrf='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Path=\//);
    expect(csrf).not.toMatch(/HttpOnly/);
    expect(csrf).toMatch(/; SameSite=Strict/);
    expect(loginBody.csrf_token).toBe(admin.csrf);
  });

  it('authenticates reads with the cookie alone', async () => {
    const me = await router.call('GET', '/v0/auth/me', { headers: { cookie: admin.cookie } });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('admin');
  });

  it('refuses a cookie-authenticated write without the right CSRF token', async () => {
    const body = { name: 'from the browser', scopes: ['api:inference'] };
    const none = await router.call('POST', '/v0/api-keys', { body, headers: { cookie: admin.cookie } });
    expect(none.status).toBe(403);
    expect(none.body.error.code).toBe('csrf_failed');
    const wrong = await router.call('POST', '/v0/api-keys', {
      body,
      headers: { cookie: admin.cookie, 'x-csrf-token': `${admin.csrf.slice(0, -2)}xx` },
    });
    expect(wrong.status).toBe(403);
    const right = await router.call('POST', '/v0/api-keys', {
      body,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    expect(right.status).toBe(201);
  });

  it('a CSRF token of another session does not fit this one', async () => {
    const other = sessionFrom((await login('admin', ADMIN_PASSWORD)).headers);
    expect(other.csrf).not.toBe(admin.csrf);
    const res = await router.call('POST', '/v0/invitations', {
      body: {},
      headers: { cookie: admin.cookie, 'x-csrf-token': other.csrf },
    });
    expect(res.status).toBe(403);
  });

  it('lets the playground call /v1 through the session', async () => {
    const res = await router.call('POST', '/v1/chat/completions', {
      body: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] },
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('model_not_found');
    const models = await router.call('GET', '/v1/models', { headers: { cookie: admin.cookie } });
    expect(models.status).toBe(200);
  });

  it('keeps Authorization working for API clients, whatever cookie comes along', async () => {
    const key = await router.createKey(['admin:*']);
    const res = await router.call('POST', '/v0/invitations', {
      body: {},
      headers: { authorization: `Bearer ${key}`, cookie: 'llm_router_session=garbage' },
    });
    expect(res.status).toBe(201);
    const bad = await router.call('GET', '/v0/users', { headers: { cookie: 'llm_router_session=garbage' } });
    expect(bad.status).toBe(401);
  });

  it('gives a viewer session the read-only views and nothing else', async () => {
    const adminAuth = { authorization: `Bearer ${await router.adminToken()}` };
    await router.call('POST', '/v0/users', {
      body: { username: 'watcher', password: 'watcher-password', role: 'viewer' },
      headers: adminAuth,
    });
    const viewer = sessionFrom((await login('watcher', 'watcher-password')).headers);
    for (const url of ['/v0/nodes', '/v0/dashboard/overview', '/v0/dashboard/request-history']) {
      expect((await router.call('GET', url, { headers: { cookie: viewer.cookie } })).status).toBe(200);
    }
    for (const url of ['/v0/users', '/v0/api-keys', '/v0/dashboard/request-responses']) {
      expect((await router.call('GET', url, { headers: { cookie: viewer.cookie } })).status).toBe(403);
    }
    const write = await router.call('POST', '/v0/invitations', {
      body: {},
      headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf },
    });
    expect(write.status).toBe(403);
  });

  it('logout clears the cookies and the old cookie stops working', async () => {
    const noCsrf = await router.call('POST', '/v0/auth/logout', { headers: { cookie: admin.cookie } });
    expect(noCsrf.status).toBe(403);
    const res = await router.call('POST', '/v0/auth/logout', {
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    expect(res.status).toBe(204);
    const cleared = res.headers.getSetCookie();
    expect(cleared.find((c) => c.startsWith('llm_router_session='))).toMatch(
      /^llm_router_session=;.*Max-Age=0/,
    );
    const after = await router.call('GET', '/v0/auth/me', { headers: { cookie: admin.cookie } });
    expect(after.status).toBe(401);
  });
});
