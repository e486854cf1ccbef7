/** A node at capacity: the bounded wait queue refuses with an OpenAI-shaped 503. */
import type { OpenAIErrorBody } from '@llm-router/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import {
  modelsDirWithStories,
  nodeMetrics,
  openaiClient,
  removeTempDirs,
  startReadyNode,
  testConfig,
  waitFor,
} from './support.js';

let node: RunningNode;

beforeAll(async () => {
  node = await startReadyNode(
    testConfig({
      LLM_NODE_MODELS_DIR: modelsDirWithStories(),
      LLM_NODE_PARALLEL: '1',
      LLM_NODE_QUEUE_LIMIT: '0',
    }),
  );
});

afterAll(async () => {
  await node?.close();
  removeTempDirs();
});

it('answers 503 queue_full while its only sequence is busy, and serves again afterwards', async () => {
  const client = openaiClient(node);
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    {
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 1500,
      temperature: 0,
      stream: true,
    },
    { signal: controller.signal },
  );
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next(); // the role chunk: generation has the sequence now

  const refused = await fetch(`${node.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'stories260K', prompt: 'Hello', max_tokens: 2 }),
  });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(((await refused.json()) as OpenAIErrorBody).error).toMatchObject({
    type: 'service_unavailable',
    code: 'queue_full',
  });

  controller.abort();
  await iterator.return?.();
  // The node frees the sequence once it notices the client left.
  await waitFor(async () => (await nodeMetrics(node)).active_requests === 0, 'idle node');
  const served = await client.completions.create({ model: 'stories260K', prompt: 'Hello', max_tokens: 2 });
  expect(served.choices).toHaveLength(1);
  const metrics = await nodeMetrics(node);
  expect(metrics.rejected_requests).toBe(1);
});

it('ends open streams with an error event when the node shuts down', async () => {
  const client = openaiClient(node);
  const stream = await client.chat.completions.create({
    model: 'stories260K',
    messages: [{ role: 'user', content: 'Once upon a time' }],
    max_tokens: 1500,
    temperature: 0,
    stream: true,
  });
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  const closing = node.close();
  const error = await (async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      // drain the chunks generated before shutdown
    }
  })().catch((e) => e);
  expect(error?.message).toMatch(/shutting down/);
  await closing;
});
