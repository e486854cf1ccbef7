/**
 * Prompt-prefix reuse on the real stories260K model: a request is served on the free sequence
 * that already holds the longest prefix of its prompt, reports `cached_tokens` (replies, the final
 * stream chunk, the usage trailer of every stream, `/metrics/prom`), and produces exactly what a
 * cold sequence produces.
 */
import { request as httpRequest } from 'node:http';
import { NODE_USAGE_TRAILER } from '@llm-router/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { modelsDirWithStories, openaiClient, removeTempDirs, startReadyNode, testConfig } from './support.js';

const SYSTEM =
  'You are a storyteller. Tell short stories about a little girl named Lily who lives in a small house ' +
  'near the forest with her mother, her father and a big friendly dog called Max.';

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

let warm: RunningNode;
let cold: RunningNode;

beforeAll(async () => {
  const models = modelsDirWithStories();
  [warm, cold] = await Promise.all([
    startReadyNode(testConfig({ LLM_NODE_MODELS_DIR: models, LLM_NODE_PARALLEL: '2' })),
    startReadyNode(testConfig({ LLM_NODE_MODELS_DIR: models, LLM_NODE_PARALLEL: '2' })),
  ]);
});

afterAll(async () => {
  await Promise.all([warm?.close(), cold?.close()]);
  removeTempDirs();
});

async function chat(node: RunningNode, messages: Message[]) {
  const reply = await openaiClient(node).chat.completions.create({
    model: 'stories260K',
    messages,
    max_tokens: 12,
    temperature: 0,
  });
  return {
    text: reply.choices[0]?.message.content ?? '',
    promptTokens: reply.usage?.prompt_tokens ?? 0,
    cached: reply.usage?.prompt_tokens_details?.cached_tokens,
  };
}

/** A raw streamed chat: the SSE body as sent and the HTTP trailers after it. */
function rawStream(
  node: RunningNode,
  body: object,
): Promise<{ text: string; trailers: NodeJS.Dict<string> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${node.url}/v1/chat/completions`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ text, trailers: res.trailers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function promCounter(node: RunningNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics/prom`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} missing from /metrics/prom`);
  return Number(line.split(' ')[1]);
}

describe('prompt prefix reuse', () => {
  it('reuses the conversation prefix on a follow-up turn and answers as a cold sequence would', async () => {
    const turn1: Message[] = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Tell me about Lily and Max.' },
    ];
    const first = await chat(warm, turn1);
    expect(first.cached).toBe(0);

    // An unrelated prompt in between takes the other (empty) sequence, not the conversation's.
    const unrelated = await chat(warm, [{ role: 'user', content: 'Once upon a time there was a cat.' }]);
    expect(unrelated.cached).toBe(0);

    const turn2: Message[] = [
      ...turn1,
      { role: 'assistant', content: first.text },
      { role: 'user', content: 'What did they do next?' },
    ];
    const reused = await chat(warm, turn2);
    expect(reused.cached).toBeGreaterThan(0);
    expect(reused.cached).toBeLessThan(reused.promptTokens);
    // At least the system line and the first question were not evaluated again.
    expect(reused.cached).toBeGreaterThanOrEqual(first.promptTokens - 1);

    const fresh = await chat(cold, turn2);
    expect(fresh.cached).toBe(0);
    expect(fresh.promptTokens).toBe(reused.promptTokens);
    expect(reused.text).toBe(fresh.text);
  });

  it('reports cached tokens in the final stream chunk and counts them in /metrics/prom', async () => {
    const evaluatedBefore = await promCounter(warm, 'llm_node_prompt_tokens_evaluated_total');
    const cachedBefore = await promCounter(warm, 'llm_node_prompt_tokens_cached_total');
    const messages: Message[] = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Tell me about Lily and Max.' },
    ];
    const stream = await openaiClient(warm).chat.completions.create({
      model: 'stories260K',
      messages,
      max_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } | null = null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).not.toBeNull();
    const cached = usage!.prompt_tokens_details?.cached_tokens ?? 0;
    // The first turn of the previous test left this exact prompt in a sequence.
    expect(cached).toBe(usage!.prompt_tokens - 1);

    expect(await promCounter(warm, 'llm_node_prompt_tokens_cached_total')).toBe(cachedBefore + cached);
    expect(await promCounter(warm, 'llm_node_prompt_tokens_evaluated_total')).toBe(
      evaluatedBefore + usage!.prompt_tokens - cached,
    );
  });

  it('ends every stream with its usage in a trailer, outside the events the client asked for', async () => {
    const messages: Message[] = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Tell me about Lily and Max.' },
    ];
    const body = { model: 'stories260K', messages, max_tokens: 6, temperature: 0, stream: true };
    const plain = await rawStream(warm, body);
    const events = plain.text.split('\n\n').filter((e) => e !== '');
    // Exactly the events OpenAI sends without include_usage: no usage key anywhere, no comments.
    expect(events.at(-1)).toBe('data: [DONE]');
    for (const event of events.slice(0, -1)) {
      expect(event.startsWith('data: {')).toBe(true);
      expect(JSON.parse(event.slice(6))).not.toHaveProperty('usage');
    }
    const trailer = JSON.parse(plain.trailers[NODE_USAGE_TRAILER] ?? 'null') as {
      prompt_tokens: number;
      completion_tokens: number;
      prompt_tokens_details: { cached_tokens: number };
    };
    // The same prompt again: everything but the last token comes from the cache.
    expect(trailer.prompt_tokens_details.cached_tokens).toBe(trailer.prompt_tokens - 1);
    expect(trailer.completion_tokens).toBeGreaterThan(0);

    // With include_usage the trailer repeats the usage chunk.
    const withUsage = await rawStream(warm, { ...body, stream_options: { include_usage: true } });
    const usageEvent = withUsage.text
      .split('\n\n')
      .map((e) => (e.startsWith('data: {') ? (JSON.parse(e.slice(6)) as { usage?: unknown }) : null))
      .find((e) => e?.usage);
    expect(usageEvent?.usage).toEqual(JSON.parse(withUsage.trailers[NODE_USAGE_TRAILER] ?? 'null'));
  });
});
