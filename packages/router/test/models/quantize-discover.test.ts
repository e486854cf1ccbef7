/**
 * Quantization as its own cache task (a stand-in `llama-quantize` script, a missing one and a
 * failing one) and discover-gguf (trusted providers first, GGUF-only repos, a 10-minute cache).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GgufDiscovery } from '../../src/models/discover.js';
import { HubClient } from '../../src/models/hf-client.js';
import { FakeHub, sha256 } from './support/fake-hub.js';
import { fakeGguf, isSettled, type ModelTestEnv, startModelEnv, waitForModel } from './support/setup.js';

const tools = mkdtempSync(join(tmpdir(), 'llm-router-quantize-'));
const script = (name: string, body: string) => {
  const path = join(tools, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
};
// Like llama-quantize: SOURCE OUTPUT TYPE. The output stays a valid GGUF and records the type.
const goodQuantize = script('llama-quantize', '{ cat "$1"; printf "quantized-%s" "$3"; } > "$2"');
const failingQuantize = script(
  'broken-quantize',
  'echo "llama_model_quantize: failed to load model" >&2; exit 3',
);

const quantizeRepo = () => ({
  id: 'synth/quantize-me',
  files: [
    { path: 'm-F16.gguf', content: fakeGguf('f16', 1600) },
    { path: 'm-BF16.gguf', content: fakeGguf('bf16', 1700) },
    { path: 'm-Q8_0.gguf', content: fakeGguf('q8', 800) },
  ],
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
});
afterAll(() => rmSync(tools, { recursive: true, force: true }));

async function routerWith(bin: string): Promise<ModelTestEnv> {
  const hub = await FakeHub.start();
  hub.addRepo(quantizeRepo());
  const env = await startModelEnv({ LLM_QUANTIZE_BIN: bin }, hub);
  cleanups.push(async () => {
    await env.router.stop();
    await hub.close();
  });
  return env;
}

describe('quantization', () => {
  it('downloads the unquantized source, quantizes it as its own task, serves only the result', async () => {
    const env = await routerWith(goodQuantize);
    const res = await env.call('POST', '/v0/models/register', {
      repo: 'synth/quantize-me',
      quantization: 'q4_k_m',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ filename: 'm-F16.gguf', quantization: 'Q4_K_M' });
    expect(res.body.size_bytes).toBe(Math.ceil((1624 * 4.89) / 16));
    const model = await waitForModel(env, 'synth/quantize-me', isSettled);
    expect(model.lifecycle_status).toBe('registered');
    expect(model.tasks.map((t: { kind: string; status: string }) => [t.kind, t.status])).toEqual([
      ['download', 'completed'],
      ['quantize', 'completed'],
    ]);
    expect(model.tasks[1].params).toEqual({ source: 'source-F16.gguf', target: 'Q4_K_M' });
    const expected = Buffer.concat([fakeGguf('f16', 1600), Buffer.from('quantized-Q4_K_M')]);
    const dir = join(env.router.dataDir, 'models', 'synth', 'quantize-me');
    expect(readFileSync(join(dir, 'model.gguf')).equals(expected)).toBe(true);
    expect(existsSync(join(dir, 'source-F16.gguf'))).toBe(false);
    const manifest = await env.call(
      'GET',
      '/v0/models/registry/synth/quantize-me/manifest.json',
      undefined,
      env.node,
    );
    expect(manifest.body.files).toEqual([
      expect.objectContaining({ name: 'model.gguf', size: expected.length, sha256: sha256(expected) }),
    ]);
    expect(model.download_url).toBeNull();
  });

  it('fails the quantize task clearly when LLM_QUANTIZE_BIN is missing, without affecting the router', async () => {
    const env = await routerWith(join(tools, 'not-installed', 'llama-quantize'));
    expect(
      (await env.call('POST', '/v0/models/register', { repo: 'synth/quantize-me', quantization: 'Q4_K_M' }))
        .status,
    ).toBe(201);
    const model = await waitForModel(env, 'synth/quantize-me', isSettled);
    expect(model.lifecycle_status).toBe('error');
    expect(model.error).toMatch(
      /LLM_QUANTIZE_BIN is '.*not-installed.*', which does not exist or is not executable/,
    );
    expect(model.tasks.map((t: { kind: string; status: string }) => [t.kind, t.status])).toEqual([
      ['download', 'completed'],
      ['quantize', 'failed'],
    ]);
    expect((await env.router.call('GET', '/health')).status).toBe(200);
  });

  it('reports the tool failing with its stderr', async () => {
    const env = await routerWith(failingQuantize);
    await env.call('POST', '/v0/models/register', { repo: 'synth/quantize-me', quantization: 'Q2_K' });
    const model = await waitForModel(env, 'synth/quantize-me', isSettled);
    expect(model.lifecycle_status).toBe('error');
    expect(model.error).toBe('llama-quantize failed (exit 3): llama_model_quantize: failed to load model');
    expect(existsSync(join(env.router.dataDir, 'models', 'synth', 'quantize-me', 'model.gguf'))).toBe(false);
  });
});

describe('POST /v0/models/discover-gguf', () => {
  let env: ModelTestEnv;
  let hub: FakeHub;
  const gguf = (name: string) => [
    { path: `${name}-Q4_K_M.gguf`, content: fakeGguf(name) },
    { path: `${name}-Q8_0.gguf`, content: fakeGguf(`${name}8`) },
  ];

  beforeAll(async () => {
    hub = await FakeHub.start();
    // Insertion order is the hub's ranking; the router must reorder trusted providers first.
    hub.addRepo({ id: 'someone/Tiny-Chat-GGUF', files: gguf('someone') });
    hub.addRepo({ id: 'TheBloke/Tiny-Chat-GGUF', files: gguf('bloke') });
    hub.addRepo({ id: 'unsloth/Tiny-Chat-GGUF', files: gguf('unsloth') });
    hub.addRepo({
      id: 'noguff/Tiny-Chat',
      files: [{ path: 'model.safetensors', content: Buffer.from('w') }],
    });
    hub.addRepo({ id: 'bartowski/Tiny-Chat-GGUF', files: gguf('bartowski') });
    hub.addRepo({ id: 'lmstudio-community/Tiny-Chat-GGUF', files: gguf('lms') });
    hub.addRepo({ id: 'ggml-org/tiny-chat-gguf', files: gguf('ggml') });
    hub.addRepo({ id: 'another/tiny-chat-q', files: gguf('another') });
    env = await startModelEnv({}, hub);
  });

  afterAll(async () => {
    await env?.router.stop();
    await hub?.close();
  });

  it('lists GGUF repos with trusted providers first, in the contract order, then caches', async () => {
    const res = await env.call('POST', '/v0/models/discover-gguf', {
      model: 'https://huggingface.co/meta/Tiny-Chat',
    });
    expect(res.status).toBe(200);
    expect(res.body.base_model).toBe('meta/Tiny-Chat');
    expect(res.body.cached).toBe(false);
    expect(
      res.body.gguf_alternatives.map((a: { repo: string; trusted: boolean }) => [a.repo, a.trusted]),
    ).toEqual([
      ['ggml-org/tiny-chat-gguf', true],
      ['bartowski/Tiny-Chat-GGUF', true],
      ['lmstudio-community/Tiny-Chat-GGUF', true],
      ['unsloth/Tiny-Chat-GGUF', true],
      ['TheBloke/Tiny-Chat-GGUF', true],
      ['someone/Tiny-Chat-GGUF', false],
      ['another/tiny-chat-q', false],
    ]);
    expect(res.body.gguf_alternatives[1]).toEqual({
      repo: 'bartowski/Tiny-Chat-GGUF',
      provider: 'bartowski',
      trusted: true,
      files: [
        {
          filename: 'bartowski-Q4_K_M.gguf',
          size_bytes: fakeGguf('bartowski').length,
          quantization: 'Q4_K_M',
        },
        { filename: 'bartowski-Q8_0.gguf', size_bytes: fakeGguf('bartowski8').length, quantization: 'Q8_0' },
      ],
    });
    const searches = () => hub.requests.filter((r) => r.path === '/api/models').length;
    expect(searches()).toBe(1);
    const again = await env.call('POST', '/v0/models/discover-gguf', { model: 'meta/tiny-chat' });
    expect(again.body.cached).toBe(true);
    expect(again.body.gguf_alternatives).toEqual(res.body.gguf_alternatives);
    expect(searches()).toBe(1);
  });

  it('forgets cached answers after 10 minutes', async () => {
    let now = 1_000_000;
    const discovery = new GgufDiscovery(new HubClient({ baseUrl: hub.url, token: undefined }), () => now);
    const searches = () => hub.requests.filter((r) => r.path === '/api/models').length;
    const before = searches();
    expect((await discovery.discover('tiny-chat')).cached).toBe(false);
    now += 10 * 60 * 1000 - 1;
    expect((await discovery.discover('org/Tiny-Chat')).cached).toBe(true);
    now += 1;
    expect((await discovery.discover('tiny-chat')).cached).toBe(false);
    expect(searches()).toBe(before + 2);
  });

  it('rejects bad input with 400 and a hub failure with 502', async () => {
    expect((await env.call('POST', '/v0/models/discover-gguf', {})).status).toBe(400);
    expect((await env.call('POST', '/v0/models/discover-gguf', { model: 'a b/c d' })).status).toBe(400);
    await hub.close();
    const down = await env.call('POST', '/v0/models/discover-gguf', { model: 'uncached-name' });
    expect(down.status).toBe(502);
    expect(down.body.error.code).toBe('hf_unavailable');
  });
});
