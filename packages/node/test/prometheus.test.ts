/**
 * The node's `/metrics/prom`: the generation figures (tokens, tokens/s, time to first token),
 * sequences and queue per model, model load time, and that promtool accepts the output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtoolCheckMetrics } from '../../../test/support/promtool.js';
import type { RunningNode } from '../src/main.js';
import { modelsDirWithStories, openaiClient, removeTempDirs, startReadyNode, testConfig } from './support.js';

const MODEL = 'stories260K';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('node /metrics/prom', () => {
  let node: RunningNode;
  const scrape = async () => (await fetch(`${node.url}/metrics/prom`)).text();

  beforeAll(async () => {
    node = await startReadyNode(testConfig({ LLM_NODE_MODELS_DIR: modelsDirWithStories() }));
  });
  afterAll(async () => {
    await node?.close();
    removeTempDirs();
  });

  it('reports sequences, queue and load time per model before any request', async () => {
    const text = await scrape();
    expect(sample(text, `llm_node_sequences_capacity{model="${MODEL}"}`)).toBeGreaterThanOrEqual(1);
    expect(sample(text, `llm_node_sequences_busy{model="${MODEL}"}`)).toBe(0);
    expect(sample(text, `llm_node_model_queue_length{model="${MODEL}"}`)).toBe(0);
    expect(sample(text, `llm_node_model_load_seconds{model="${MODEL}"}`)).toBeGreaterThan(0);
    expect(sample(text, 'llm_node_time_to_first_token_seconds_count')).toBe(0);
    expect(sample(text, 'llm_node_rejected_requests_total')).toBe(0);
  });

  it('counts tokens, tokens/s and one time-to-first-token per generating request', async () => {
    const client = openaiClient(node);
    await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 8,
      temperature: 0,
    });
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 8,
      temperature: 0,
      stream: true,
    });
    for await (const _chunk of stream) {
    }
    // An embedding-free, token-free request (bad model) adds no time to first token.
    await expect(client.completions.create({ model: 'missing', prompt: 'x' })).rejects.toThrow();
    const text = await scrape();
    expect(sample(text, 'llm_node_time_to_first_token_seconds_count')).toBe(2);
    expect(sample(text, 'llm_node_time_to_first_token_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(sample(text, 'llm_node_time_to_first_token_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'llm_node_completion_tokens_total')).toBe(16);
    expect(sample(text, 'llm_node_prompt_tokens_total')).toBeGreaterThan(0);
    expect(sample(text, 'llm_node_tokens_per_second')).toBeGreaterThan(0);
  });

  it('passes promtool check metrics', async () => {
    const result = await promtoolCheckMetrics(await scrape());
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });
});
