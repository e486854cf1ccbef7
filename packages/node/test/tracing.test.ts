/**
 * The node under the router's trace: a `traceparent` names the trace in every log line of the
 * request and comes back as `x-trace-id`; the router's `x-request-id` names the request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { getJson, modelsDirWithStories, removeTempDirs, startReadyNode, testConfig } from './support.js';

describe('node tracing', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await startReadyNode(testConfig({ LLM_NODE_MODELS_DIR: modelsDirWithStories() }));
  });
  afterAll(async () => {
    await node?.close();
    removeTempDirs();
  });

  it('logs and returns the trace id, and logs the request id', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(`${node.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-b7ad6b7169203331-01`,
        'x-request-id': 'router-req-99',
      },
      body: JSON.stringify({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 4,
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-trace-id')).toBe(traceId);
    expect(res.headers.get('x-request-id')).toBe('router-req-99');
    await res.json();
    const { entries } = await getJson<{ entries: Array<Record<string, unknown>> }>(
      `${node.url}/v0/logs?tail=200`,
    );
    const line = entries.find((e) => e.message === 'generation finished' && e.reqId === 'router-req-99');
    expect(line).toBeDefined();
    expect(line!.trace_id).toBe(traceId);
  });

  it('ignores an invalid traceparent', async () => {
    const res = await fetch(`${node.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: 'garbage' },
      body: JSON.stringify({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 2,
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-trace-id')).toBeNull();
    await res.json();
  });
});
