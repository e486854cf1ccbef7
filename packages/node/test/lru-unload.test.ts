/**
 * LLM_MAX_LOADED_MODELS: a node with more models than the cap keeps the rest unloaded, still
 * serves them (loaded on demand), and unloads the least recently used model to make room.
 * Real llama.cpp on stories260K under three names.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { removeTempDirs, sharedModelPath, startReadyNode, tempDir, testConfig } from './support.js';

describe('least-recently-used unloading beyond LLM_MAX_LOADED_MODELS', () => {
  let node: RunningNode;
  let client: OpenAI;

  beforeAll(async () => {
    const dir = join(tempDir(), 'models');
    mkdirSync(dir, { recursive: true });
    for (const name of ['alpha', 'beta', 'gamma']) copyFileSync(sharedModelPath, join(dir, `${name}.gguf`));
    node = await startReadyNode(testConfig({ LLM_NODE_MODELS_DIR: dir, LLM_MAX_LOADED_MODELS: '2' }));
    client = new OpenAI({ apiKey: 'unused', baseURL: `${node.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await node?.close();
    removeTempDirs();
  });

  const states = () =>
    Object.fromEntries(node.services.models.all().map((m) => [m.id, m.state])) as Record<string, string>;
  const complete = (model: string) => client.completions.create({ model, prompt: 'Once', max_tokens: 4 });

  it('loads no more than the cap at start and still reports every model as servable', () => {
    expect(states()).toEqual({ alpha: 'ready', beta: 'ready', gamma: 'unloaded' });
    expect(node.services.models.list().every((m) => m.ready)).toBe(true);
  });

  it('loads an unloaded model on request, unloading the least recently used one', async () => {
    await complete('beta'); // alpha is now the least recently used
    const res = await complete('gamma');
    expect(res.choices[0]?.text).toBeTypeOf('string');
    expect(states()).toEqual({ alpha: 'unloaded', beta: 'ready', gamma: 'ready' });
    expect(node.services.models.loadedCount()).toBe(2);
    await complete('beta'); // gamma is now the least recently used
    await complete('alpha');
    expect(states()).toEqual({ alpha: 'ready', beta: 'ready', gamma: 'unloaded' });
  });

  it('serves concurrent requests for an unloaded model with one load', async () => {
    const results = await Promise.all([complete('gamma'), complete('gamma'), complete('gamma')]);
    expect(results).toHaveLength(3);
    expect(node.services.models.loadedCount()).toBe(2);
    expect(states().gamma).toBe('ready');
  });
});
