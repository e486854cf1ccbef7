/**
 * The last-admin rule under concurrency: admins demoted and deleted at the same moment must
 * never leave the router without one. Runs on SQLite and, in the suite's second run, on
 * PostgreSQL (where it needs the row locks in `countAdmins`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRouter, type TestRouter } from './support/router-harness.js';

describe('last admin under concurrent demotions', () => {
  let router: TestRouter;
  let admin: Record<string, string>;

  beforeAll(async () => {
    router = await startTestRouter();
    admin = { authorization: `Bearer ${await router.createKey(['admin:*'])}` };
  });
  afterAll(() => router.stop());

  const adminCount = async () => {
    const users = await router.call('GET', '/v0/users', { headers: admin });
    return (users.body.users ?? users.body).filter((u: { role: string }) => u.role === 'admin').length;
  };

  it('keeps exactly one admin when every admin is demoted at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await router.call('POST', '/v0/users', {
        body: { username: `race-admin-${i}`, password: 'long-enough-password', role: 'admin' },
        headers: admin,
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const me = await router.call('GET', '/v0/users', { headers: admin });
    const all = (me.body.users ?? me.body) as Array<{ id: string; role: string }>;
    const everyAdmin = all.filter((u) => u.role === 'admin').map((u) => u.id);
    expect(everyAdmin.length).toBe(6);
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        everyAdmin.map((id) =>
          router.call('PUT', `/v0/users/${id}`, { body: { role: 'viewer' }, headers: admin }),
        ),
      );
      const refused = results.filter((r) => r.status === 400);
      for (const r of refused) expect(r.body.error.code).toBe('last_admin');
      expect(results.every((r) => r.status === 200 || r.status === 400)).toBe(true);
      expect(await adminCount()).toBe(1);
      // Promote everyone back for the next round.
      for (const id of everyAdmin) {
        const up = await router.call('PUT', `/v0/users/${id}`, { body: { role: 'admin' }, headers: admin });
        expect(up.status).toBe(200);
      }
    }
  });

  it('keeps exactly one admin when demotions and deletions race', async () => {
    const users = await router.call('GET', '/v0/users', { headers: admin });
    const admins = (users.body.users ?? users.body).filter((u: { role: string }) => u.role === 'admin');
    expect(admins.length).toBeGreaterThan(2);
    const results = await Promise.all(
      admins.map((u: { id: string }, i: number) =>
        i % 2 === 0
          ? router.call('DELETE', `/v0/users/${u.id}`, { headers: admin })
          : router.call('PUT', `/v0/users/${u.id}`, { body: { role: 'viewer' }, headers: admin }),
      ),
    );
    expect(results.every((r) => r.status < 500)).toBe(true);
    expect(await adminCount()).toBe(1);
  });
});
