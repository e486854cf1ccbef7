/**
 * Exporting a large history streams it: 100k rows go out while the router's heap stays flat.
 * (A memory bound, not a timing: the export is read to the end and its rows counted.)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRouter, type TestRouter } from '../support/router-harness.js';
import { historyRow } from './support/history-row.js';

const ROWS = 100_000;

// Measuring what the export *retains* needs a collection before each sample; garbage between
// collections says nothing about buffering.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter();
  const body = JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x'.repeat(500) }] });
  const start = Date.now() - ROWS;
  for (let i = 0; i < ROWS; i++) {
    const row = historyRow({
      timestamp: start + i,
      request_type: 'chat',
      model: 'm1',
      node_id: 'n1',
      node_machine_name: 'host',
      node_ip: '10.0.0.1',
      client_ip: '127.0.0.1',
      api_key_id: 'k1',
      stream: 0,
      request_body: body,
      response_body: '{"ok":true}',
      duration_ms: 5,
      status: i % 10 === 0 ? 'error' : 'success',
      status_code: i % 10 === 0 ? 500 : 200,
      error_message: null,
      prompt_tokens: 3,
      completion_tokens: 4,
      time_to_first_token_ms: null,
      completed_at: start + i + 5,
    });
    router.recorder.record(row);
    if (i % 5000 === 4999) await router.recorder.flush();
  }
  await router.recorder.flush();
}, 300_000);

afterAll(() => router.stop());

it('streams a 100k-row JSON export with a flat heap', async () => {
  const admin = { authorization: `Bearer ${await router.adminToken()}` };
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  let peak = heapBefore;
  const res = await fetch(`${router.url}/v0/dashboard/request-responses/export?format=json`, {
    headers: admin,
  });
  expect(res.status).toBe(200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let rows = 0;
  // The last characters of the previous chunk, so a row marker split across chunks still counts
  // (6 < the marker's 7 characters, so no marker is counted twice).
  let carry = '';
  let chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    // Each exported row starts on its own line with `{"id":`.
    const text = carry + decoder.decode(value, { stream: true });
    rows += (text.match(/\n\{"id":/g) ?? []).length;
    carry = text.slice(-6);
    if (++chunks % 100 === 0) {
      collectGarbage();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
  }
  expect(rows).toBe(ROWS);
  // The export is far larger than the heap growth it caused: it never sat in memory whole.
  expect(bytes).toBeGreaterThan(60 * 1024 * 1024);
  // A buffered export would hold its ~100 MB of JSON (and the rows behind it) at some sample.
  expect(peak - heapBefore).toBeLessThan(24 * 1024 * 1024);
}, 300_000);
