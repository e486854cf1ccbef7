import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DailyLogFile } from '../src/observability/daily-file.js';
import { startTestRouter, type TestRouter } from './support/router-harness.js';

describe('router logs', () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startTestRouter({ LLM_ROUTER_LOG_LEVEL: 'debug' });
  });
  afterAll(() => router.stop());

  it('writes JSON lines to a daily file and never writes secrets', async () => {
    const key = await router.createKey(['node:register']);
    const log = router.logging.log;
    log.info(
      { headers: { authorization: `Bearer ${key}`, 'x-node-token': 'nt_secret-token-value' } },
      'request seen',
    );
    log.info({ password: 'hunter2-secret', user: { password: 'nested-secret' } }, 'user created');
    log.warn(`client sent ${key} in a query string`);
    log.info({ node_token: 'nt_1234567890abcdef' }, 'node registered');
    const file = router.logging.currentFile();
    expect(file).toMatch(/llm-router\.jsonl\.\d{4}-\d{2}-\d{2}$/);
    const text = readFileSync(file as string, 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === 'request seen')).toBe(true);
    for (const secret of [
      key,
      'nt_secret-token-value',
      'hunter2-secret',
      'nested-secret',
      'nt_1234567890abcdef',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
    expect(text).toContain('sk_***');
  });

  it('serves the log tail with the limit clamped', async () => {
    const admin = { authorization: `Bearer ${await router.adminToken()}` };
    router.logging.log.info('tail marker');
    const res = await router.call('GET', '/v0/dashboard/logs/router?limit=2', { headers: admin });
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('router');
    expect(res.body.entries).toHaveLength(2);
    expect(res.body.entries.at(-1)).toMatchObject({ level: 'info', message: 'tail marker' });
    expect(res.body.path).toBe(router.logging.currentFile());
    const zero = await router.call('GET', '/v0/dashboard/logs/router?limit=0', { headers: admin });
    expect(zero.body.entries).toHaveLength(1);
    expect((await router.call('GET', '/v0/dashboard/logs/router?limit=x', { headers: admin })).status).toBe(
      400,
    );
  });
});

describe('daily log files', () => {
  it('starts a new file each day and deletes files past the retention', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-router-logs-'));
    try {
      writeFileSync(join(dir, 'llm-router.jsonl.2026-01-01'), 'old\n');
      writeFileSync(join(dir, 'unrelated.txt'), 'keep\n');
      let now = Date.parse('2026-01-10T23:59:59Z');
      const file = new DailyLogFile(dir, 7, () => now);
      expect(existsSync(join(dir, 'llm-router.jsonl.2026-01-01'))).toBe(false);
      expect(existsSync(join(dir, 'unrelated.txt'))).toBe(true);
      file.write('{"a":1}\n');
      now = Date.parse('2026-01-11T00:00:01Z');
      file.write('{"b":2}\n');
      expect(readFileSync(join(dir, 'llm-router.jsonl.2026-01-10'), 'utf8')).toBe('{"a":1}\n');
      expect(readFileSync(join(dir, 'llm-router.jsonl.2026-01-11'), 'utf8')).toBe('{"b":2}\n');
      file.end();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
