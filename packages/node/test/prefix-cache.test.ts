/**
 * Prompt-prefix reuse on the real stories260K model: a request is served on the free sequence
 * that already holds the longest prefix of its prompt, reports `cached_tokens` (replies, the final
 * stream chunk, `/metrics/prom`), and produces exactly what a cold sequence produces.
 */
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
});
