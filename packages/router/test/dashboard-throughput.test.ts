/**
 * The overview's throughput figure (`stats.tokens_per_second`): completion tokens over the
 * time spent producing them, for successful requests of the last hour only.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRouter, type TestRouter } from './support/router-harness.js';

describe('overview throughput', () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startTestRouter();
  });
  afterAll(() => router.stop());

  const row = (ageMs: number, status: 'success' | 'error', tokens: number | null, durationMs: number) => {
    const at = Date.now() - ageMs;
    return {
      id: randomUUID(),
      timestamp: at,
      request_type: 'chat',
      model: 'm',
      node_id: null,
      node_machine_name: null,
      node_ip: null,
      client_ip: null,
      api_key_id: null,
      stream: 0,
      request_body: null,
      response_body: null,
      duration_ms: durationMs,
      status,
      status_code: status === 'success' ? 200 : 502,
      error_message: null,
      prompt_tokens: null,
      completion_tokens: tokens,
      time_to_first_token_ms: null,
      completed_at: at + durationMs,
    };
  };

  it('is null without traffic', async () => {
    const res = await router.call('GET', '/v0/dashboard/stats', {
      headers: { authorization: `Bearer ${await router.adminToken()}` },
    });
    expect(res.status).toBe(200);
    expect(res.body.tokens_per_second).toBeNull();
  });

  it('divides recent completion tokens by their generation time, ignoring errors and old rows', async () => {
    await router.db
      .insertInto('request_history')
      .values([
        row(60_000, 'success', 100, 2000),
        row(120_000, 'success', 50, 500),
        row(120_000, 'success', null, 9000), // no usage reported: not counted
        row(30_000, 'error', 999, 10),
        row(2 * 3600_000, 'success', 10_000, 1), // older than an hour
      ])
      .execute();
    const res = await router.call('GET', '/v0/dashboard/overview', {
      headers: { authorization: `Bearer ${await router.adminToken()}` },
    });
    expect(res.body.stats.tokens_per_second).toBe(60); // 150 tokens / 2.5 s
  });
});
