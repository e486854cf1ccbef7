/**
 * `GET /v0/dashboard/cache-routing` on rows of request history (SQLite, and PostgreSQL in the
 * suite's second run): hit rates per model and node, prompt tokens evaluated vs cached over time,
 * and the latest routing decisions, with cloud, embeddings and out-of-window rows left out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryRow } from '../../src/history/recorder.js';
import { startTestRouter, type TestRouter } from '../support/router-harness.js';
import { historyRow } from './support/history-row.js';

const MINUTE = 60_000;

function row(overrides: Partial<HistoryRow>): HistoryRow {
  const at = overrides.timestamp ?? Date.now();
  return historyRow({
    node_id: 'node-a',
    node_machine_name: 'alpha',
    node_ip: '127.0.0.1',
    api_key_id: 'key-secret-id',
    stream: 1,
    request_body: '{"messages":[{"role":"user","content":"private words"}]}',
    duration_ms: 120,
    prompt_tokens: 100,
    completion_tokens: 8,
    time_to_first_token_ms: 40,
    completed_at: at + 120,
    ...overrides,
  });
}

interface CacheRouting {
  window_minutes: number;
  models: Array<{
    model: string;
    totals: {
      requests: number;
      reported: number;
      hits: number;
      prompt_tokens: number;
      cached_tokens: number;
    };
    nodes: Array<{
      node_id: string;
      requests: number;
      hit_rate: number | null;
      cached_token_ratio: number | null;
    }>;
  }>;
  tokens: {
    bucket_seconds: number;
    buckets: Array<{ at: string; requests: number; evaluated_tokens: number; cached_tokens: number }>;
  };
  recent: Array<Record<string, unknown>>;
}

describe('cache-routing data API', () => {
  let router: TestRouter;
  const now = Date.now();

  beforeAll(async () => {
    router = await startTestRouter();
    router.recorder.record(row({ timestamp: now - 5 * MINUTE, cached_tokens: 0, prefix_match_chars: 0 }));
    router.recorder.record(
      row({ timestamp: now - 2 * MINUTE, cached_tokens: 90, prefix_match_chars: 320, node_load: 1 }),
    );
    router.recorder.record(
      row({
        timestamp: now - MINUTE,
        node_id: 'node-b',
        node_machine_name: 'bravo',
        cached_tokens: 60,
        prefix_match_chars: 256,
        node_load: 2,
        queue_wait_ms: 350,
        stream: 0,
      }),
    );
    // Not counted: cloud, embeddings, a node that did not report, a row outside the window.
    router.recorder.record(row({ node_id: 'cloud:openai', cached_tokens: 50 }));
    router.recorder.record(row({ request_type: 'embeddings', cached_tokens: null }));
    router.recorder.record(row({ timestamp: now - 30 * MINUTE, node_id: 'node-b', cached_tokens: null }));
    router.recorder.record(row({ timestamp: now - 3 * 60 * MINUTE, cached_tokens: 99 }));
    await router.recorder.flush();
  });
  afterAll(() => router.stop());

  const get = async (query = '') => {
    const res = await router.call('GET', `/v0/dashboard/cache-routing${query}`, {
      headers: { authorization: `Bearer ${await router.adminToken()}` },
    });
    expect(res.status).toBe(200);
    return res.body as CacheRouting;
  };

  it('summarises hit rates per model and node', async () => {
    const body = await get();
    expect(body.models).toHaveLength(1);
    const [m1] = body.models;
    expect(m1!.totals).toMatchObject({
      requests: 4,
      reported: 3,
      hits: 2,
      prompt_tokens: 300,
      cached_tokens: 150,
    });
    const byNode = Object.fromEntries(m1!.nodes.map((n) => [n.node_id, n]));
    expect(byNode['node-a']).toMatchObject({ requests: 2, hit_rate: 0.5, cached_token_ratio: 0.45 });
    expect(byNode['node-b']).toMatchObject({ requests: 2, hit_rate: 1, cached_token_ratio: 0.6 });
  });

  it('buckets prompt tokens evaluated and cached over the window', async () => {
    const body = await get();
    // 60 minutes in buckets of one minute, the current one included.
    expect(body.tokens.bucket_seconds).toBe(60);
    expect(body.tokens.buckets.length).toBeGreaterThanOrEqual(60);
    expect(body.tokens.buckets.length).toBeLessThanOrEqual(62);
    const sum = (key: 'requests' | 'evaluated_tokens' | 'cached_tokens') =>
      body.tokens.buckets.reduce((total, b) => total + b[key], 0);
    expect(sum('requests')).toBe(4);
    expect(sum('cached_tokens')).toBe(150);
    // Evaluated counts only the rows that reported: 100 + 10 + 40.
    expect(sum('evaluated_tokens')).toBe(150);
    const times = body.tokens.buckets.map((b) => Date.parse(b.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const withCache = body.tokens.buckets.filter((b) => b.cached_tokens > 0);
    expect(withCache.map((b) => b.cached_tokens).sort()).toEqual([60, 90]);

    // A week in at most 120 buckets.
    const week = await get('?window_minutes=10080');
    expect(week.tokens.bucket_seconds).toBe(84 * 60);
    expect(week.tokens.buckets.length).toBeLessThanOrEqual(121);
    expect(week.tokens.buckets.reduce((total, b) => total + b.cached_tokens, 0)).toBe(249);
  });

  it('refuses a window outside 1 minute to a week with a 400 in the /v0 shape', async () => {
    for (const window of ['abc', '0', '0.5', '-5', '10081', '1e400']) {
      const res = await router.call('GET', `/v0/dashboard/cache-routing?window_minutes=${window}`, {
        headers: { authorization: `Bearer ${await router.adminToken()}` },
      });
      expect(res.status, window).toBe(400);
      expect(res.body.error.message).toContain('window_minutes');
    }
    expect((await get('?window_minutes=1')).window_minutes).toBe(1);
  });

  it('lists the latest routing decisions, newest first, without bodies or keys', async () => {
    const body = await get();
    expect(body.recent.map((r) => r.cached_tokens)).toEqual([60, 90, 0, null]);
    expect(body.recent[0]).toEqual({
      id: expect.any(String),
      at: new Date(now - MINUTE).toISOString(),
      model: 'm1',
      node_id: 'node-b',
      node_machine_name: 'bravo',
      status: 'success',
      stream: false,
      prompt_tokens: 100,
      cached_tokens: 60,
      prefix_match_chars: 256,
      node_load: 2,
      queue_wait_ms: 350,
      time_to_first_token_ms: 40,
      duration_ms: 120,
    });
    expect(JSON.stringify(body.recent)).not.toContain('private words');
    expect(JSON.stringify(body.recent)).not.toContain('key-secret-id');
  });
});
