/**
 * Node log files rotate daily and expire: a node that runs for months keeps a bounded number of
 * days on disk (LLM_NODE_LOG_RETENTION_DAYS).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNodeConfig } from '../src/config/config.js';
import { createNodeLogging } from '../src/observability/logger.js';

const DAY = 86_400_000;

describe('node log files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('starts a new file each day and deletes files older than the retention', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'node-logs-'));
    dirs.push(dir);
    // A file from long ago, left by an earlier run, and one within the retention.
    writeFileSync(join(dir, 'llm-node.jsonl.2020-01-01'), '{}\n');
    let now = Date.parse('2026-03-10T12:00:00Z');
    writeFileSync(join(dir, 'llm-node.jsonl.2026-03-08'), '{}\n');
    const logging = createNodeLogging({
      level: 'info',
      logDir: dir,
      retentionDays: 3,
      toStdout: false,
      now: () => now,
    });
    logging.logger.info('first day');
    expect(logging.filePath).toBe(join(dir, 'llm-node.jsonl.2026-03-10'));
    now += DAY;
    logging.logger.info('second day');
    now += 3 * DAY;
    logging.logger.info('fifth day');
    logging.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['llm-node.jsonl.2026-03-11', 'llm-node.jsonl.2026-03-14']);
    expect(readFileSync(join(dir, 'llm-node.jsonl.2026-03-14'), 'utf8')).toContain('fifth day');
    expect(readFileSync(join(dir, 'llm-node.jsonl.2026-03-11'), 'utf8')).toContain('second day');
  });

  it('reads the retention from LLM_NODE_LOG_RETENTION_DAYS and refuses nonsense', () => {
    expect(loadNodeConfig({ LLM_NODE_LOG_RETENTION_DAYS: '30' }).logRetentionDays).toBe(30);
    expect(loadNodeConfig({}).logRetentionDays).toBe(7);
    expect(() => loadNodeConfig({ LLM_NODE_LOG_RETENTION_DAYS: 'forever' })).toThrow(
      /LLM_NODE_LOG_RETENTION_DAYS/,
    );
  });
});
