/**
 * Leases on models' cache tasks between router replicas (SQLite here; PostgreSQL in the
 * suite's second run): two holders on two connections to one database. Exactly one takes a
 * lease when both try at once; an expired lease can be taken over; only the holder renews or
 * releases it.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHolderId, TaskLeases } from '../../src/models/task-lease.js';
import { openDatabase, type RouterDatabase } from '../../src/store/database.js';
import { startTestRouter, type TestRouter } from '../support/router-harness.js';

describe('model task leases between replicas', () => {
  let router: TestRouter;
  let second: RouterDatabase;
  let a: TaskLeases;
  let b: TaskLeases;
  const TTL = 30_000;

  beforeAll(async () => {
    router = await startTestRouter();
    second = await openDatabase(router.databaseUrl);
    a = new TaskLeases(router.db, 'replica-a', TTL);
    b = new TaskLeases(second, 'replica-b', TTL);
  });
  afterAll(async () => {
    await second?.destroy();
    await router?.stop();
  });

  const holderOf = async (model: string) =>
    (
      await router.db
        .selectFrom('model_task_leases')
        .selectAll()
        .where('model_id', '=', model)
        .executeTakeFirst()
    )?.holder;

  it('gives a model to exactly one of many concurrent takers', async () => {
    for (let round = 0; round < 10; round++) {
      const model = `org/race-${round}`;
      const takers = [a, b, a, b, a, b, a, b];
      const results = await Promise.all(takers.map((leases) => leases.acquire(model)));
      const winners = new Set(takers.filter((_, i) => results[i]).map((l) => l.holder));
      expect(winners.size).toBe(1);
      expect(await holderOf(model)).toBe([...winners][0]);
    }
  });

  it('keeps a live lease from others, lets its holder take it again, and lets it expire', async () => {
    const now = Date.now();
    expect(await a.acquire('org/expiry', now)).toBe(true);
    expect(await b.acquire('org/expiry', now + TTL - 1)).toBe(false);
    expect(await a.acquire('org/expiry', now + 1000)).toBe(true); // already mine: extended
    expect(await b.acquire('org/expiry', now + TTL + 1)).toBe(false); // extended past that
    expect(await b.acquire('org/expiry', now + 1000 + TTL)).toBe(true); // expired: taken over
    expect(await holderOf('org/expiry')).toBe('replica-b');
    expect(await a.acquire('org/expiry', now + 1000 + TTL)).toBe(false);
  });

  it('renews only for its holder: a replica that lost the lease learns so', async () => {
    const now = Date.now();
    expect(await a.acquire('org/renew', now)).toBe(true);
    expect(await a.renew('org/renew', now + 10_000)).toBe(true);
    expect(await b.renew('org/renew', now + 10_000)).toBe(false);
    // Renewed at +10 s, so not expired at +35 s; expired at +40 s and taken by B.
    expect(await b.acquire('org/renew', now + 35_000)).toBe(false);
    expect(await b.acquire('org/renew', now + 40_000)).toBe(true);
    expect(await a.renew('org/renew', now + 40_001)).toBe(false);
    expect(await holderOf('org/renew')).toBe('replica-b');
  });

  it('releases only its own lease, after which another replica takes it at once', async () => {
    expect(await a.acquire('org/release')).toBe(true);
    await b.release('org/release');
    expect(await holderOf('org/release')).toBe('replica-a');
    expect(await b.acquire('org/release')).toBe(false);
    await a.release('org/release');
    expect(await holderOf('org/release')).toBeUndefined();
    expect(await b.acquire('org/release')).toBe(true);
    await b.drop('org/release');
    expect(await a.acquire('org/release')).toBe(true);
  });

  it('clears the leases of killed router processes on this machine, and only those', async () => {
    // A process that existed and is gone now, as a SIGKILLed router is.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const deadPid = child.pid as number;
    child.kill('SIGKILL');
    await once(child, 'exit');
    const ownPrefix = localHolderId('x').replace(/\/\d+\/x$/, '');
    const leases = {
      dead: `${ownPrefix}/${deadPid}/run-1`,
      alive: `${ownPrefix}/${process.ppid}/run-2`, // the test runner's parent: alive
      elsewhere: `other-host/${deadPid}/run-3`, // cannot be checked from here: only expiry frees it
      unparsable: 'replica-from-an-older-version',
    };
    const now = Date.now();
    for (const [model, holder] of Object.entries(leases))
      await router.db
        .insertInto('model_task_leases')
        .values({ model_id: `clear-${model}`, holder, expires_at: now + TTL })
        .execute();

    const mine = new TaskLeases(router.db, localHolderId('run-4'), TTL);
    expect(await mine.clearDeadLocalHolders()).toBe(1);
    expect(await holderOf('clear-dead')).toBeUndefined();
    expect(await holderOf('clear-alive')).toBe(leases.alive);
    expect(await holderOf('clear-elsewhere')).toBe(leases.elsewhere);
    expect(await holderOf('clear-unparsable')).toBe(leases.unparsable);
    expect(await mine.acquire('clear-dead')).toBe(true);
    expect(await mine.acquire('clear-alive')).toBe(false);
  });
});
