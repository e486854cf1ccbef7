/**
 * The node's OpenAI-compatible API, end to end: real llama.cpp running stories260K, the
 * official openai SDK as the client.
 */
import type { OpenAIErrorBody } from '@llm-router/protocol';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const MODEL = 'stories260K';
/** Greedy continuation of "Once upon a time" by stories260K (see shared/models/README.md). */
const STORY_START = ', there was a little girl named Lily. She loved to play outside in the park.';

let node: RunningNode;
let client: OpenAI;

beforeAll(async () => {
  node = await startReadyNode(
    testConfig({ LLM_NODE_MODELS_DIR: modelsDirWithStories(), LLM_NODE_BODY_LIMIT_BYTES: String(64 * 1024) }),
  );
  client = openaiClient(node);
});

afterAll(async () => {
  await node?.close();
  removeTempDirs();
});

async function postJson(path: string, body: string | object) {
  const response = await fetch(`${node.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as OpenAIErrorBody };
}

describe('models', () => {
  it('lists the model from the models dir as ready', async () => {
    const page = await client.models.list();
    const model = page.data.find((m) => m.id === MODEL) as unknown as Record<string, unknown>;
    expect(model).toMatchObject({ id: MODEL, object: 'model', owned_by: 'llm-node', ready: true });
    expect(typeof model.created).toBe('number');
  });
});

describe('completions', () => {
  it('continues "Once upon a time" with the known story, stopping at max_tokens', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 30,
      temperature: 0,
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.id).toMatch(/^cmpl-/);
    expect(completion.choices[0].text.startsWith(STORY_START)).toBe(true);
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: 30,
      total_tokens: 35,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('honours stop strings and leaves them out of the text', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'Once upon a time',
      max_tokens: 50,
      temperature: 0,
      stop: ['Lily'],
    });
    expect(completion.choices[0].text).toBe(', there was a little girl named ');
    expect(completion.choices[0].finish_reason).toBe('stop');
  });

  it('answers one choice per prompt in an array', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: ['Once upon a time', 'The cat'],
      max_tokens: 5,
      temperature: 0,
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(completion.choices[0].text.startsWith(', there was')).toBe(true);
    expect(completion.usage?.completion_tokens).toBe(10);
  });

  it('streams text_completion chunks that add up to the non-streamed text', async () => {
    const request = { model: MODEL, prompt: 'Once upon a time', max_tokens: 25, temperature: 0 };
    const whole = await client.completions.create(request);
    const stream = await client.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishReasons: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('text_completion');
      expect(chunk.id).toMatch(/^cmpl-/);
      for (const choice of chunk.choices) {
        text += choice.text;
        finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0].text);
    expect(finishReasons.at(-1)).toBe('length');
    // The same prompt again: all of it but the last token comes from the sequence's KV cache.
    expect(usage).toEqual({
      ...whole.usage,
      prompt_tokens_details: { cached_tokens: whole.usage!.prompt_tokens - 1 },
    });
  });

  it('applies presence and frequency penalties', async () => {
    const request = { model: MODEL, prompt: 'Once upon a time', max_tokens: 60, temperature: 0 };
    const plain = await client.completions.create(request);
    const penalised = await client.completions.create({
      ...request,
      presence_penalty: 1.5,
      frequency_penalty: 0.5,
    });
    expect(penalised.choices[0].text).not.toBe(plain.choices[0].text);
  });

  it('is reproducible with a seed at a non-zero temperature', async () => {
    const request = { model: MODEL, prompt: 'Once upon a time', max_tokens: 40, temperature: 1, seed: 1234 };
    const first = await client.completions.create(request);
    const second = await client.completions.create(request);
    expect(second.choices[0].text).toBe(first.choices[0].text);
  });
});

describe('chat completions', () => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Once upon a time' }];

  it('gives identical answers to identical temperature-0 requests, with consistent usage', async () => {
    const first = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 40,
      temperature: 0,
    });
    const second = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 40,
      temperature: 0,
    });
    expect(first.id).toMatch(/^chatcmpl-/);
    expect(second.id).not.toBe(first.id);
    expect(first.object).toBe('chat.completion');
    expect(first.model).toBe(MODEL);
    expect(first.choices[0].message.role).toBe('assistant');
    expect(first.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(second.choices[0].message.content).toBe(first.choices[0].message.content);
    const usage = first.usage!;
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeLessThanOrEqual(40);
  });

  it('uses a plain transcript template without an injected system prompt', async () => {
    // With no chat template in the GGUF, a chat is exactly "user: …\nassistant:", so its prompt
    // has as many tokens as that text sent as a completion, and the reply is its continuation.
    const chat = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 12,
      temperature: 0,
    });
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'user: Once upon a time\nassistant:',
      max_tokens: 12,
      temperature: 0,
    });
    expect(chat.usage?.prompt_tokens).toBe(completion.usage?.prompt_tokens);
    expect(chat.choices[0].message.content).toBe(completion.choices[0].text.trimStart());
  });

  it('reports finish_reason length when max_tokens is reached', async () => {
    const chat = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 3,
      temperature: 0,
    });
    expect(chat.choices[0].finish_reason).toBe('length');
    expect(chat.usage?.completion_tokens).toBe(3);
  });

  it('honours max_completion_tokens and a string stop', async () => {
    const full = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 30,
      temperature: 0,
    });
    const text = full.choices[0].message.content!;
    const word = text.split(' ').find((w, i) => i >= 2 && w.length >= 3)!;
    const stopped = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_completion_tokens: 30,
      temperature: 0,
      stop: word,
    });
    expect(stopped.choices[0].finish_reason).toBe('stop');
    expect(stopped.choices[0].message.content).toBe(text.slice(0, text.indexOf(word)).trimStart());
  });

  it('streams real chunks: role first, content deltas, finish_reason, then a usage chunk', async () => {
    const whole = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 20,
      temperature: 0,
    });
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 20,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0].id).toMatch(/^chatcmpl-/);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === MODEL)).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentChunks.length).toBeGreaterThan(1);
    expect(contentChunks.map((c) => c.choices[0].delta.content).join('')).toBe(
      whole.choices[0].message.content,
    );
    const finishChunk = chunks.at(-2)!;
    expect(finishChunk.choices[0].finish_reason).toBe('length');
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(whole.usage);
  });

  it('sends raw SSE lines ending with data: [DONE]', async () => {
    const response = await fetch(`${node.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages, max_tokens: 4, temperature: 0, stream: true }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text()).split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(parsed.every((c) => !('usage' in c))).toBe(true);
  });

  it('stops generating when the client disconnects', async () => {
    const metricsNow = () => nodeMetrics(node);
    const before = await metricsNow();
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: MODEL, messages, max_tokens: 1500, temperature: 0, stream: true },
      { signal: controller.signal },
    );
    let sawContent = false;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) {
          sawContent = true;
          controller.abort();
        }
      }
    } catch {
      // The SDK may end the iteration quietly or throw an abort error; both mean "stopped".
    }
    expect(sawContent).toBe(true);
    const after = await waitFor(async () => {
      const metrics = await metricsNow();
      return (
        metrics.aborted_requests === before.aborted_requests + 1 && metrics.active_requests === 0 && metrics
      );
    }, 'the aborted request to be counted');
    // Generation stopped well before the 1500 tokens it was asked for.
    expect(after.tokens_generated_total - before.tokens_generated_total).toBeLessThan(1500);
  });
});

describe('request errors', () => {
  it('rejects a prompt longer than the context with context_length_exceeded', async () => {
    const prompt = 'hello '.repeat(2100);
    const error = await client.completions.create({ model: MODEL, prompt, max_tokens: 5 }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe('context_length_exceeded');
    const chat = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: prompt }] })
      .catch((e) => e);
    expect(chat.status).toBe(400);
    expect(chat.code).toBe('context_length_exceeded');
    expect(chat.param).toBe('messages');
  });

  it('rejects n=2 naming the parameter', async () => {
    const error = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], n: 2 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe('n');
  });

  it('rejects tools and JSON-schema response formats', async () => {
    const tools = await postJson('/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
    });
    expect(tools.status).toBe(400);
    expect(tools.body.error.param).toBe('tools');
    const format = await postJson('/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } },
    });
    expect(format.status).toBe(400);
    expect(format.body.error.param).toBe('response_format');
  });

  it('answers 404 model_not_found for an unknown model', async () => {
    const error = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe('model_not_found');
  });

  it('answers 400 to malformed JSON and to wrong types, OpenAI-shaped', async () => {
    const malformed = await postJson('/v1/chat/completions', '{"model": "stories260K", "messages": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
    const wrongType = await postJson('/v1/chat/completions', { model: MODEL, messages: 'hello' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.param).toBe('messages');
    const badTemperature = await postJson('/v1/completions', {
      model: MODEL,
      prompt: 'x',
      temperature: 'hot',
    });
    expect(badTemperature.status).toBe(400);
    expect(badTemperature.body.error.param).toBe('temperature');
  });

  it('answers 413 to a body over the limit', async () => {
    const big = await postJson('/v1/completions', { model: MODEL, prompt: 'x'.repeat(100 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('request_too_large');
  });

  it('answers unknown routes with JSON 404s', async () => {
    const v1 = await fetch(`${node.url}/v1/nothing`);
    expect(v1.status).toBe(404);
    expect(((await v1.json()) as OpenAIErrorBody).error.type).toBe('invalid_request_error');
    const other = await fetch(`${node.url}/nothing`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as OpenAIErrorBody).error.code).toBe('not_found');
  });
});

describe('embeddings', () => {
  it('returns float vectors, and the same numbers as base64 (the SDK default)', async () => {
    const floats = await client.embeddings.create({
      model: MODEL,
      input: 'hello world',
      encoding_format: 'float',
    });
    expect(floats.data).toHaveLength(1);
    expect(floats.data[0].embedding).toHaveLength(64);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    const viaBase64 = await client.embeddings.create({ model: MODEL, input: 'hello world' });
    expect(viaBase64.data[0].embedding).toHaveLength(64);
    viaBase64.data[0].embedding.forEach((value, i) => {
      expect(value).toBeCloseTo(floats.data[0].embedding[i], 5);
    });
  });

  it('embeds an array of inputs in order and counts their tokens', async () => {
    const one = await client.embeddings.create({ model: MODEL, input: 'a cat', encoding_format: 'float' });
    const both = await client.embeddings.create({
      model: MODEL,
      input: ['a cat', 'a big dog'],
      encoding_format: 'float',
    });
    expect(both.data.map((d) => d.index)).toEqual([0, 1]);
    expect(both.data[0].embedding).toEqual(one.data[0].embedding);
    expect(both.data[1].embedding).not.toEqual(one.data[0].embedding);
    expect(both.usage.prompt_tokens).toBeGreaterThan(one.usage.prompt_tokens);
  });
});
