import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../src/auth/api-keys.js';
import { holdingDatabase } from './support/held-queries.js';
import { ADMIN_PASSWORD, startTestRouter, type TestRouter } from './support/router-harness.js';

describe('users, sessions, invitations and API key administration', () => {
  let router: TestRouter;
  let admin: Record<string, string>;

  beforeAll(async () => {
    router = await startTestRouter();
    admin = { authorization: `Bearer ${await router.adminToken()}` };
  });
  afterAll(() => router.stop());

  const login = (username: string, password: string) =>
    router.call('POST', '/v0/auth/login', { body: { username, password } });

  describe('users', () => {
    it('creates, lists, updates and deletes a user', async () => {
      const created = await router.call('POST', '/v0/users', {
        body: { username: 'viewer1', password: 'viewer-password', role: 'viewer' },
        headers: admin,
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ username: 'viewer1', role: 'viewer' });
      expect(JSON.stringify(created.body)).not.toContain('password');
      const list = await router.call('GET', '/v0/users', { headers: admin });
      expect(list.body.users.map((u: { username: string }) => u.username)).toEqual(['admin', 'viewer1']);
      const renamed = await router.call('PUT', `/v0/users/${created.body.id}`, {
        body: { username: 'viewer-one' },
        headers: admin,
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body.username).toBe('viewer-one');
      expect((await router.call('DELETE', `/v0/users/${created.body.id}`, { headers: admin })).status).toBe(
        204,
      );
      expect((await router.call('DELETE', `/v0/users/${created.body.id}`, { headers: admin })).status).toBe(
        404,
      );
    });

    it('answers a duplicate username with 409', async () => {
      const res = await router.call('POST', '/v0/users', {
        body: { username: 'admin', password: 'another-password', role: 'viewer' },
        headers: admin,
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('username_taken');
    });

    it('refuses to delete or demote the last admin, and allows it once there is another', async () => {
      const me = (await router.call('GET', '/v0/auth/me', { headers: admin })).body;
      const demote = await router.call('PUT', `/v0/users/${me.user_id}`, {
        body: { role: 'viewer' },
        headers: admin,
      });
      expect(demote.status).toBe(400);
      expect(demote.body.error.code).toBe('last_admin');
      const remove = await router.call('DELETE', `/v0/users/${me.user_id}`, { headers: admin });
      expect(remove.status).toBe(400);
      const second = await router.call('POST', '/v0/users', {
        body: { username: 'admin2', password: 'admin2-password', role: 'admin' },
        headers: admin,
      });
      const demoteSecond = await router.call('PUT', `/v0/users/${second.body.id}`, {
        body: { role: 'viewer' },
        headers: admin,
      });
      expect(demoteSecond.status).toBe(200);
      expect(demoteSecond.body.role).toBe('viewer');
    });

    it('rejects a short password and a bad role with 400', async () => {
      const short = await router.call('POST', '/v0/users', {
        body: { username: 'shorty', password: 'short', role: 'viewer' },
        headers: admin,
      });
      expect(short.status).toBe(400);
      expect(short.body.error.message).toContain('password');
      const role = await router.call('POST', '/v0/users', {
        body: { username: 'roley', password: 'long-enough-password', role: 'root' },
        headers: admin,
      });
      expect(role.status).toBe(400);
    });
  });

  describe('sessions', () => {
    it('returns the current user and really revokes the token on logout', async () => {
      await router.call('POST', '/v0/users', {
        body: { username: 'leaver', password: 'leaver-password', role: 'viewer' },
        headers: admin,
      });
      const token = (await login('leaver', 'leaver-password')).body.token;
      const auth = { authorization: `Bearer ${token}` };
      const me = await router.call('GET', '/v0/auth/me', { headers: auth });
      expect(me.body).toMatchObject({ username: 'leaver', role: 'viewer' });
      expect((await router.call('POST', '/v0/auth/logout', { headers: auth })).status).toBe(204);
      const after = await router.call('GET', '/v0/auth/me', { headers: auth });
      expect(after.status).toBe(401);
      // A new login works again.
      const fresh = (await login('leaver', 'leaver-password')).body.token;
      expect(
        (await router.call('GET', '/v0/auth/me', { headers: { authorization: `Bearer ${fresh}` } })).status,
      ).toBe(200);
    });

    it('ends sessions when the password changes', async () => {
      const created = await router.call('POST', '/v0/users', {
        body: { username: 'changer', password: 'first-password', role: 'viewer' },
        headers: admin,
      });
      const token = (await login('changer', 'first-password')).body.token;
      await router.call('PUT', `/v0/users/${created.body.id}`, {
        body: { password: 'second-password' },
        headers: admin,
      });
      expect(
        (await router.call('GET', '/v0/auth/me', { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(401);
      expect((await login('changer', 'second-password')).status).toBe(200);
    });

    it('throttles repeated failed logins for one username with 429 and Retry-After', async () => {
      const throttled = await startTestRouter();
      try {
        const attempt = () =>
          throttled.call('POST', '/v0/auth/login', { body: { username: 'admin', password: 'wrong' } });
        for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(401);
        const blocked = await attempt();
        expect(blocked.status).toBe(429);
        expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
        // Even the right password waits until the window has passed.
        const right = await throttled.call('POST', '/v0/auth/login', {
          body: { username: 'admin', password: ADMIN_PASSWORD },
        });
        expect(right.status).toBe(429);
      } finally {
        await throttled.stop();
      }
    });

    it('checks at most the allowed number of guesses when they arrive all at once', async () => {
      const throttled = await startTestRouter();
      try {
        const burst = await Promise.all(
          [...Array(40)].map(() =>
            throttled.call('POST', '/v0/auth/login', { body: { username: 'admin', password: 'wrong' } }),
          ),
        );
        const checked = burst.filter((r) => r.status === 401).length;
        expect(checked).toBeGreaterThan(0);
        expect(checked).toBeLessThanOrEqual(5);
        expect(burst.filter((r) => r.status === 429).length).toBe(40 - checked);
      } finally {
        await throttled.stop();
      }
    });

    it('throttles one client IP that tries many usernames', async () => {
      const throttled = await startTestRouter();
      try {
        let last = 0;
        for (let i = 0; i < 21; i++) {
          last = (
            await throttled.call('POST', '/v0/auth/login', { body: { username: `user${i}`, password: 'x' } })
          ).status;
        }
        expect(last).toBe(429);
      } finally {
        await throttled.stop();
      }
    });
  });

  describe('invitations', () => {
    it('lets an invited person register once as a viewer', async () => {
      const invite = await router.call('POST', '/v0/invitations', { body: {}, headers: admin });
      expect(invite.status).toBe(201);
      expect(invite.body.code).toMatch(/^inv_[A-Za-z0-9]{16}$/);
      const register = (username: string) =>
        router.call('POST', '/v0/auth/register', {
          body: { invitation_code: invite.body.code, username, password: 'invited-password' },
        });
      const first = await register('invited');
      expect(first.status).toBe(201);
      expect(first.body.role).toBe('viewer');
      expect((await login('invited', 'invited-password')).status).toBe(200);
      const again = await register('invited-again');
      expect(again.status).toBe(400);
      expect(again.body.error.code).toBe('invalid_invitation');
      const list = await router.call('GET', '/v0/invitations', { headers: admin });
      const listed = list.body.invitations.find((i: { id: string }) => i.id === invite.body.id);
      expect(listed).toMatchObject({ status: 'used', used_by: first.body.id });
      expect(JSON.stringify(list.body)).not.toContain(invite.body.code);
    });

    it('refuses revoked and expired codes, and keeps a code usable after a username clash', async () => {
      const revoked = await router.call('POST', '/v0/invitations', { body: {}, headers: admin });
      expect(
        (await router.call('DELETE', `/v0/invitations/${revoked.body.id}`, { headers: admin })).status,
      ).toBe(204);
      const useRevoked = await router.call('POST', '/v0/auth/register', {
        body: { invitation_code: revoked.body.code, username: 'nobody1', password: 'password-123' },
      });
      expect(useRevoked.status).toBe(400);

      const expiring = await router.call('POST', '/v0/invitations', {
        body: { expires_in_hours: 0.0001 },
        headers: admin,
      });
      await new Promise((r) => setTimeout(r, 500));
      const useExpired = await router.call('POST', '/v0/auth/register', {
        body: { invitation_code: expiring.body.code, username: 'nobody2', password: 'password-123' },
      });
      expect(useExpired.status).toBe(400);

      const fresh = await router.call('POST', '/v0/invitations', { body: {}, headers: admin });
      const clash = await router.call('POST', '/v0/auth/register', {
        body: { invitation_code: fresh.body.code, username: 'admin', password: 'password-123' },
      });
      expect(clash.status).toBe(409);
      const retry = await router.call('POST', '/v0/auth/register', {
        body: { invitation_code: fresh.body.code, username: 'not-admin', password: 'password-123' },
      });
      expect(retry.status).toBe(201);
      expect((await router.call('DELETE', '/v0/invitations/unknown-id', { headers: admin })).status).toBe(
        404,
      );
    });
  });

  describe('API keys', () => {
    it('lists last_used_at, renames, changes expiry, and revokes at once', async () => {
      const created = await router.call('POST', '/v0/api-keys', {
        body: { name: 'temp', scopes: ['admin:*'] },
        headers: admin,
      });
      const key = created.body.key as string;
      const useIt = () => router.call('GET', '/v0/api-keys', { headers: { 'x-api-key': key } });
      expect((await useIt()).status).toBe(200);
      const listed = (await useIt()).body.api_keys.find((k: { id: string }) => k.id === created.body.id);
      expect(listed.last_used_at).not.toBeNull();
      const renamed = await router.call('PUT', `/v0/api-keys/${created.body.id}`, {
        body: { name: 'renamed', expires_at: new Date(Date.now() + 86_400_000).toISOString() },
        headers: admin,
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe('renamed');
      expect(renamed.body.expires_at).not.toBeNull();
      expect(
        (await router.call('DELETE', `/v0/api-keys/${created.body.id}`, { headers: admin })).status,
      ).toBe(204);
      const after = await useIt();
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('invalid_api_key');
    });

    it('revokes a key created elsewhere (another replica, the CLI) that this router has not loaded', async () => {
      const elsewhere = await ApiKeyStore.load(router.db);
      const { record } = await elsewhere.create({ name: 'from the CLI', scopes: ['api:inference'] });
      await elsewhere.close();
      expect((await router.call('DELETE', `/v0/api-keys/${record.id}`, { headers: admin })).status).toBe(204);
      expect((await router.call('DELETE', `/v0/api-keys/${record.id}`, { headers: admin })).status).toBe(404);
    });

    it('keeps a rename made while a reload was reading the keys', async () => {
      const held = holdingDatabase(router.db);
      const store = await ApiKeyStore.load(held.db);
      try {
        const { record } = await store.create({ name: 'before', scopes: ['api:inference'] });
        // The reload reads the keys before the rename and swaps them in first.
        const read = held.holdNext('selectFrom', 'after');
        const reloading = store.reload();
        await read.reached;
        const renaming = store.update(record.id, { name: 'after' });
        read.release();
        await Promise.all([reloading, renaming]);
        expect(store.findById(record.id)?.name).toBe('after');
        await store.reload();
        expect(store.findById(record.id)?.name).toBe('after');
      } finally {
        await store.close();
      }
    });

    it('answers 401 expired for a key past its expiry', async () => {
      const key = await router.createKey(['admin:*'], new Date(Date.now() + 200).toISOString());
      await new Promise((r) => setTimeout(r, 300));
      const res = await router.call('GET', '/v0/api-keys', { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('expired');
    });

    it('rejects an unknown scope, an empty scope list and a past expiry with 400', async () => {
      for (const body of [
        { name: 'x', scopes: ['root'] },
        { name: 'x', scopes: [] },
        { name: 'x', scopes: ['api:inference'], expires_at: '2001-01-01T00:00:00Z' },
      ]) {
        expect((await router.call('POST', '/v0/api-keys', { body, headers: admin })).status).toBe(400);
      }
    });
  });
});
