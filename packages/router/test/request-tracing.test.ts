/**
 * What a request carries for observability: `Server-Timing` on every `/v1` response (and the
 * same breakdown in history), `x-request-id` returned and stored, the W3C trace passed to the
 * node, and time to first token counted from the first content chunk, not the role chunk.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeNode, startFakeNode } from './proxy/helpers/fake-node.js';
import { gpuNodeRegistration, startTestRouter, type TestRouter } from './support/router-harness.js';

/** Parses a Server-Timing header strictly: `name;dur=ms` entries separated by commas. */
function parseServerTiming(header: string | null): Record<string, number> {
  expect(header).toBeTruthy();
  const phases: Record<string, number> = {};
  for (const entry of (header as string).split(',')) {
    const match = /^\s*([a-z]+);dur=(\d+(?:\.\d+)?)\s*$/.exec(entry);
    expect(match, `malformed entry '${entry}'`).not.toBeNull();
    phases[match![1]] = Number(match![2]);
  }
  return phases;
}

describe('request tracing', () => {
  let router: TestRouter;
  let node: FakeNode;
  let key: string;
  let admin: Record<string, string>;

  beforeAll(async () => {
    router = await startTestRouter();
    node = await startFakeNode('alpha');
    const nodeKey = await router.createKey(['node:register']);
    key = await router.createKey(['api:inference']);
    admin = { authorization: `Bearer ${await router.adminToken()}` };
    const registered = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: node.url, models: [{ id: 'm1', ready: true }] }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    expect(registered.status).toBe(201);
  });
  afterAll(async () => {
    await router.stop();
    await node.close();
  });

  const chat = (headers: Record<string, string> = {}, body: object = {}) =>
    fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], ...body }),
    });

  async function historyRow(requestId: string) {
    await router.recorder.flush();
    const res = await router.call(
      'GET',
      `/v0/dashboard/request-responses?request_id=${encodeURIComponent(requestId)}`,
      {
        headers: admin,
      },
    );
    expect(res.status).toBe(200);
    const rows = res.body.records ?? res.body.data ?? res.body.items ?? res.body;
    expect(Array.isArray(rows)).toBe(true);
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  it('puts every phase in Server-Timing on a routed reply, in a consistent order of time', async () => {
    const res = await chat();
    expect(res.status).toBe(200);
    const t = parseServerTiming(res.headers.get('server-timing'));
    expect(Object.keys(t).sort()).toEqual(['auth', 'connect', 'select', 'total', 'ttfb']);
    expect(t.total).toBeGreaterThanOrEqual(t.ttfb);
    expect(t.ttfb).toBeGreaterThanOrEqual(t.auth);
    await res.text();
  });

  it('sends Server-Timing on streams and on errors too (a 400 and a 401)', async () => {
    const stream = await chat({}, { stream: true });
    expect(Object.keys(parseServerTiming(stream.headers.get('server-timing')))).toContain('ttfb');
    await stream.text();
    const invalid = await chat({}, { messages: 'not a list' });
    expect(invalid.status).toBe(400);
    expect(Object.keys(parseServerTiming(invalid.headers.get('server-timing'))).sort()).toEqual([
      'auth',
      'total',
    ]);
    const stranger = await chat({ authorization: 'Bearer nope' });
    expect(stranger.status).toBe(401);
    expect(Object.keys(parseServerTiming(stranger.headers.get('server-timing')))).toEqual(['total']);
  });

  it('times every /v1 route, not only chat: the model list and a 404 under /v1', async () => {
    const models = await fetch(`${router.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    expect(Object.keys(parseServerTiming(models.headers.get('server-timing'))).sort()).toEqual([
      'auth',
      'total',
    ]);
    expect(models.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/);
    const missing = await fetch(`${router.url}/v1/nothing-here`);
    expect(missing.status).toBe(404);
    expect(Object.keys(parseServerTiming(missing.headers.get('server-timing')))).toContain('total');
    // Management routes are not /v1: no Server-Timing there.
    expect((await fetch(`${router.url}/health`)).headers.get('server-timing')).toBeNull();
  });

  it('returns the client x-request-id, passes it to the node and stores it in history', async () => {
    const res = await chat({ 'x-request-id': 'client-req-7' });
    expect(res.headers.get('x-request-id')).toBe('client-req-7');
    await res.text();
    expect(node.requests.at(-1)!.headers['x-request-id']).toBe('client-req-7');
    const row = await historyRow('client-req-7');
    expect(row.request_id).toBe('client-req-7');
    expect(row.timing.auth_ms).toBeGreaterThanOrEqual(0);
    expect(row.timing.select_ms).toBeGreaterThanOrEqual(0);
    expect(row.timing.connect_ms).toBeGreaterThan(0);
    expect(row.timing.ttfb_ms).toBeGreaterThanOrEqual(row.timing.connect_ms);
  });

  it('makes up a request id when the client sends none or an unusable one, on every route', async () => {
    const none = await chat();
    const made = none.headers.get('x-request-id');
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    await none.text();
    expect((await historyRow(made!)).request_id).toBe(made);
    const spaced = await chat({ 'x-request-id': 'has spaces in it' });
    expect(spaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await spaced.text();
    // Management routes and 404s carry one too.
    expect((await fetch(`${router.url}/health`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await fetch(`${router.url}/nowhere`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('continues the client trace at the node with the router as the parent span', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await chat({
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      tracestate: 'vendor=abc',
      'x-request-id': 'traced-1',
    });
    expect(res.headers.get('x-trace-id')).toBe(traceId);
    await res.text();
    const sent = node.requests.at(-1)!.headers;
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(sent.traceparent));
    expect(match?.[1]).toBe(traceId);
    expect(match?.[2]).not.toBe('00f067aa0ba902b7');
    expect(sent.tracestate).toBe('vendor=abc');
    expect((await historyRow('traced-1')).trace_id).toBe(traceId);
  });

  it('logs a failed request with its request id and trace id', async () => {
    node.fault = { kind: 'status', status: 500, body: 'boom' };
    try {
      const res = await chat({
        'x-request-id': 'failing-1',
        traceparent: '00-11111111111111111111111111111111-2222222222222222-01',
      });
      expect(res.status).toBe(502);
      await res.text();
    } finally {
      node.fault = { kind: 'none' };
    }
    const line = router.logging.ring.tail(500).find((e) => e.fields.reqId === 'failing-1');
    expect(line?.message).toBe('inference request failed');
    expect(line!.fields.trace_id).toBe('11111111111111111111111111111111');
  });

  it('starts a new trace for a request without a valid traceparent', async () => {
    const res = await chat({
      traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      tracestate: 'x=1',
    });
    const traceId = res.headers.get('x-trace-id');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe('00000000000000000000000000000000');
    await res.text();
    const sent = node.requests.at(-1)!.headers;
    expect(String(sent.traceparent)).toContain(traceId!);
    expect(sent.tracestate).toBeUndefined();
  });

  it('counts time to first token from the first content chunk, not the role chunk', async () => {
    node.fault = { kind: 'gate' };
    try {
      const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: key });
      const stream = await client.chat.completions.create(
        { model: 'm1', messages: [{ role: 'user', content: 'hi' }], stream: true },
        { headers: { 'x-request-id': 'ttft-1' } },
      );
      const iterator = stream[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value.choices[0].delta.role).toBe('assistant');
      // The node has sent only its role chunk; "prefill" takes 300 ms before the first content.
      await new Promise((r) => setTimeout(r, 300));
      node.release();
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {}
    } finally {
      node.fault = { kind: 'none' };
    }
    const row = await historyRow('ttft-1');
    expect(row.time_to_first_token_ms).toBeGreaterThanOrEqual(300);
    expect(row.timing.ttfb_ms).toBeLessThan(300);
  });
});
