/**
 * `POST /tokenize`: the model's own tokenizer, for the router's Anthropic `count_tokens` — plain
 * text (`{tokens, count}`) and chat messages rendered with the model's template (`{count}`),
 * agreeing with what a chat completion reports as its prompt tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { modelsDirWithStories, openaiClient, removeTempDirs, startReadyNode, testConfig } from './support.js';

let node: RunningNode;

beforeAll(async () => {
  node = await startReadyNode(testConfig({ LLM_NODE_MODELS_DIR: modelsDirWithStories() }));
});
afterAll(async () => {
  await node?.close();
  removeTempDirs();
});

async function tokenize(body: unknown) {
  const res = await fetch(`${node.url}/tokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads the reply field by field.
  return { status: res.status, body: (await res.json()) as any };
}

describe('POST /tokenize', () => {
  it('tokenizes plain text', async () => {
    const res = await tokenize({ model: 'stories260K', content: 'Once upon a time' });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(res.body.tokens.length);
    expect(res.body.count).toBeGreaterThan(0);
    expect(res.body.tokens.every((t: unknown) => Number.isInteger(t))).toBe(true);
  });

  it('counts chat messages as a chat completion sees them', async () => {
    const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
    const counted = await tokenize({ model: 'stories260K', messages });
    const completion = await openaiClient(node).chat.completions.create({
      model: 'stories260K',
      messages,
      max_tokens: 1,
    });
    expect(counted.body).toEqual({ count: completion.usage?.prompt_tokens });
  });

  it('refuses a body without content or messages, and unknown models', async () => {
    expect((await tokenize({ model: 'stories260K' })).status).toBe(400);
    const unknown = await tokenize({ model: 'nope', content: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('model_not_found');
  });
});
