/**
 * The generated demo model: reproducible bytes, loads in llama.cpp, generates through the
 * node's chat endpoint. Also the GGUF chat-template path (a demo model with a ChatML template)
 * and picking up models added to or removed from the models dir while running.
 */
import { readFileSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEMO_MODEL_NAME, writeDemoModel } from '../src/demo-model/demo-model.js';
import { renderChatPrompt } from '../src/inference/prompt.js';
import type { RunningNode } from '../src/main.js';
import { openaiClient, removeTempDirs, startReadyNode, tempDir, testConfig } from './support.js';

const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const running: RunningNode[] = [];

afterEach(async () => {
  for (const node of running.splice(0)) await node.close();
});

afterAll(() => removeTempDirs());

async function nodeFor(modelsDir: string) {
  const node = await startReadyNode(testConfig({ LLM_NODE_MODELS_DIR: modelsDir }));
  running.push(node);
  return node;
}

describe('demo model', () => {
  it('is a small, reproducible llama GGUF that says it has random weights', async () => {
    const dir = tempDir();
    const size = await writeDemoModel(join(dir, 'a.gguf'));
    await writeDemoModel(join(dir, 'b.gguf'));
    expect(size).toBeGreaterThan(100_000);
    expect(size).toBeLessThan(1_000_000);
    expect(readFileSync(join(dir, 'a.gguf')).equals(readFileSync(join(dir, 'b.gguf')))).toBe(true);
    const info = await readGgufFileInfo(join(dir, 'a.gguf'));
    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe('llama');
    expect(info.metadata.general.name).toBe(DEMO_MODEL_NAME);
    expect(DEMO_MODEL_NAME).toMatch(/demo.*random weights/i);
  });

  it('loads in llama.cpp and generates through the chat endpoint', async () => {
    const modelsDir = tempDir();
    await writeDemoModel(join(modelsDir, 'demo-random-tiny.gguf'));
    const client = openaiClient(await nodeFor(modelsDir));
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['demo-random-tiny']);
    const chat = await client.chat.completions.create({
      model: 'demo-random-tiny',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 16,
      temperature: 0,
    });
    expect(chat.choices[0].message.content?.trim().length).toBeGreaterThan(0);
    expect(chat.usage?.completion_tokens).toBe(16);
    expect(chat.choices[0].finish_reason).toBe('length');
  });
});

describe('GGUF chat templates', () => {
  it("renders chats with the model's own template, without a doubled BOS", async () => {
    const modelsDir = tempDir();
    await writeDemoModel(join(modelsDir, 'demo-chatml.gguf'), { chatTemplate: CHATML_TEMPLATE });
    const node = await nodeFor(modelsDir);
    const loaded = node.services.models.get('demo-chatml')!.loaded!;
    expect(loaded.chatWrapper).not.toBeNull();

    const prompt = renderChatPrompt(loaded, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ]);
    const model = loaded.model;
    const imStart = model.tokenize('<|im_start|>', true);
    expect(imStart).toHaveLength(1);
    expect(prompt.tokens[0]).toBe(imStart[0]);
    expect(prompt.tokens).not.toContain(model.tokens.bos);
    expect(prompt.tokens.filter((t) => t === imStart[0])).toHaveLength(3);
    const text = model.detokenize(prompt.tokens, true).replace(/ /g, '');
    expect(text).toBe(
      '<|im_start|>system\nBebrief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n',
    );

    const chat = await openaiClient(node).chat.completions.create({
      model: 'demo-chatml',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 8,
      temperature: 0,
    });
    expect(chat.usage?.prompt_tokens).toBe(
      renderChatPrompt(loaded, [{ role: 'user', content: 'Hello' }]).tokens.length + 1,
    );
  });
});

describe('models dir rescans', () => {
  it('serves models added while running and drops removed ones', async () => {
    const modelsDir = tempDir();
    const node = await nodeFor(modelsDir);
    const client = openaiClient(node);
    expect((await client.models.list()).data).toEqual([]);

    const path = join(modelsDir, 'late.gguf');
    await writeDemoModel(path);
    // A file written this instant may still be being copied; pretend it settled a while ago.
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    await node.services.models.rescan();
    const listed = (await client.models.list()).data as unknown as { id: string; ready: boolean }[];
    expect(listed).toMatchObject([{ id: 'late', ready: true }]);

    rmSync(path);
    await node.services.models.rescan();
    expect((await client.models.list()).data).toEqual([]);
    const gone = await client.chat.completions
      .create({ model: 'late', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(gone.status).toBe(404);
  });
});
