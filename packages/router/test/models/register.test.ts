/**
 * Registration through the real router against the fake hub: the full path to a cached,
 * byte-identical model, every validation error and status, gguf_policy end to end,
 * safetensors, chat templates, memory warnings, ids and models_version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuNodeRegistration, heartbeat } from '../support/router-harness.js';
import { FakeHub, sha256, storiesBytes } from './support/fake-hub.js';
import {
  fakeGguf,
  isSettled,
  type ModelTestEnv,
  STORIES_REPO,
  startModelEnv,
  storiesRepo,
  waitForModel,
} from './support/setup.js';

const STORIES_SHA = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';
const STORIES_SIZE = 1_185_376;

let env: ModelTestEnv;
let hub: FakeHub;

const policyFiles = () => [
  { path: 'm-Q4_K_M.gguf', content: fakeGguf('q4km', 400) },
  { path: 'm-Q8_0.gguf', content: fakeGguf('q8', 800) },
  { path: 'm-F16.gguf', content: fakeGguf('f16', 1600) },
  { path: 'm-Q2_K.gguf', content: fakeGguf('q2k', 200) },
  { path: 'm-IQ2_M.gguf', content: fakeGguf('iq2m', 150) },
  { path: 'README.md', content: Buffer.from('hi') },
];

beforeAll(async () => {
  hub = await FakeHub.start();
  hub.addRepo(storiesRepo());
  for (const policy of ['quality', 'memory', 'speed'])
    hub.addRepo({ id: `synth/policy-${policy}`, files: policyFiles() });
  hub.addRepo({
    id: 'synth/both-formats',
    files: [
      { path: 'config.json', content: Buffer.from('{}') },
      { path: 'tokenizer.json', content: Buffer.from('{}') },
      { path: 'model.safetensors', content: Buffer.from('weights') },
      { path: 'model-Q4_K_M.gguf', content: fakeGguf('both') },
    ],
  });
  hub.addRepo({
    id: 'synth/Chatty-GGUF',
    files: [
      { path: 'chatty-Q4_K_M.gguf', content: fakeGguf('chatty') },
      {
        path: 'tokenizer_config.json',
        content: Buffer.from(
          JSON.stringify({ chat_template: '{% for m in messages %}{{m.content}}{% endfor %}' }),
        ),
      },
    ],
  });
  hub.addRepo({
    id: 'synth/named-templates',
    files: [
      { path: 'm-Q8_0.gguf', content: fakeGguf('named') },
      {
        path: 'tokenizer_config.json',
        content: Buffer.from(
          JSON.stringify({
            chat_template: [
              { name: 'tool_use', template: 'T' },
              { name: 'default', template: 'D' },
            ],
          }),
        ),
      },
    ],
  });
  const shard = (n: number) => Buffer.from(`shard-${n}`.repeat(20));
  hub.addRepo({
    id: 'synth/sharded-safetensors',
    files: [
      { path: 'config.json', content: Buffer.from('{"architectures":["LlamaForCausalLM"]}') },
      { path: 'tokenizer.json', content: Buffer.from('{"model":{}}') },
      { path: 'tokenizer_config.json', content: Buffer.from('{"chat_template":"ST"}') },
      {
        path: 'model.safetensors.index.json',
        content: Buffer.from(
          JSON.stringify({
            weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
          }),
        ),
      },
      { path: 'model-00001-of-00002.safetensors', content: shard(1) },
      { path: 'model-00002-of-00002.safetensors', content: shard(2) },
      { path: 'unrelated.bin', content: Buffer.from('x') },
    ],
  });
  hub.addRepo({
    id: 'synth/no-tokenizer',
    files: [
      { path: 'config.json', content: Buffer.from('{}') },
      { path: 'model.safetensors', content: Buffer.from('w') },
    ],
  });
  hub.addRepo({ id: 'synth/readme-only', files: [{ path: 'README.md', content: Buffer.from('nothing') }] });
  hub.addRepo({
    id: 'synth/gated',
    gated: true,
    files: [{ path: 'g-Q4_0.gguf', content: fakeGguf('gated') }],
  });
  hub.addRepo({
    id: 'synth/private',
    private: true,
    files: [{ path: 'p-Q4_0.gguf', content: fakeGguf('private') }],
  });
  hub.addRepo({
    id: 'synth/huge',
    files: [{ path: 'huge-Q4_0.gguf', content: fakeGguf('huge'), listedSize: 40 * 1024 ** 3 }],
  });
  env = await startModelEnv({}, hub);
});

afterAll(async () => {
  await env?.router.stop();
  await hub?.close();
});

const register = (body: unknown) => env.call('POST', '/v0/models/register', body);

describe('POST /v0/models/register', () => {
  it('registers, caches and serves a real GGUF byte-identical to the hub, with exact progress', async () => {
    const res = await register({ repo: STORIES_REPO, filename: 'stories260K.gguf' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'ggml-org/tiny-llamas',
      status: 'registered',
      format: 'gguf',
      filename: 'stories260K.gguf',
      size_bytes: STORIES_SIZE,
      required_memory_bytes: Math.ceil(1.5 * STORIES_SIZE),
      servable: true,
    });
    expect(['pending', 'caching', 'registered']).toContain(res.body.lifecycle_status);
    expect(res.body.warnings.join(' ')).toContain('No node has reported GPU memory');

    const model = await waitForModel(env, 'ggml-org/tiny-llamas', isSettled);
    expect(model.lifecycle_status).toBe('registered');
    expect(model.download_progress).toEqual({
      percent: 1,
      bytes_downloaded: STORIES_SIZE,
      bytes_total: STORIES_SIZE,
      error: null,
    });
    expect(model.files).toEqual([
      expect.objectContaining({
        name: 'model.gguf',
        source_path: 'stories260K.gguf',
        sha256: STORIES_SHA,
        status: 'done',
        size: STORIES_SIZE,
      }),
    ]);
    expect(model.tasks).toEqual([expect.objectContaining({ kind: 'download', status: 'completed' })]);
    const cached = readFileSync(join(env.router.dataDir, 'models', 'ggml-org', 'tiny-llamas', 'model.gguf'));
    expect(sha256(cached)).toBe(STORIES_SHA);
    expect(cached.equals(storiesBytes())).toBe(true);
    // Only the chosen file was fetched, through the CDN redirect, pinned to the repo's commit.
    expect(hub.fileRequests('README.md')).toEqual([]);
    expect(
      hub.requests.some((r) => r.path === `/${STORIES_REPO}/resolve/${'a'.repeat(40)}/stories260K.gguf`),
    ).toBe(true);

    const feed = await env.call('GET', '/v0/models', undefined, env.node);
    expect(feed.status).toBe(200);
    const row = feed.body.find((m: { name: string }) => m.name === 'ggml-org/tiny-llamas');
    expect(row).toMatchObject({
      size: STORIES_SIZE,
      required_memory: Math.ceil(1.5 * STORIES_SIZE),
      tags: ['gguf'],
      source: 'hf_gguf',
      repo: STORIES_REPO,
      lifecycle_status: 'registered',
      ready: true,
      primary_file: 'model.gguf',
      manifest_url: '/v0/models/registry/ggml-org%2Ftiny-llamas/manifest.json',
      blob_url: '/v0/models/blob/ggml-org%2Ftiny-llamas',
    });
    expect(row.path).toBe(join(env.router.dataDir, 'models', 'ggml-org', 'tiny-llamas', 'model.gguf'));
    expect(Number(feed.headers.get('x-models-version'))).toBe(env.router.models.modelsVersion());

    const api = env.router.models.listForApi().find((m) => m.id === 'ggml-org/tiny-llamas');
    expect(api).toMatchObject({
      object: 'model',
      owned_by: 'router',
      lifecycle_status: 'registered',
      ready: true,
    });
    expect(api?.download_progress.percent).toBe(1);
  });

  it('answers a duplicate with 409, also through a URL or another case', async () => {
    for (const repo of [
      STORIES_REPO,
      'GGML-org/Tiny-Llamas',
      `https://huggingface.co/${STORIES_REPO}/tree/main`,
    ]) {
      const res = await register({ repo, filename: 'stories260K.gguf' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('model_already_registered');
    }
  });

  it('rejects invalid input with 400 and a message naming the problem', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'validation_error'],
      [{ repo: '' }, 'validation_error'],
      [{ repo: 'a/b', format: 'onnx' }, 'validation_error'],
      [{ repo: 'a/b', gguf_policy: 'fastest' }, 'validation_error'],
      [{ repo: 'a/b', revision: '../x' }, 'validation_error'],
      [{ repo: '../../etc' }, 'invalid_repo'],
      [{ repo: 'https://example.com/org/name' }, 'invalid_repo'],
      [{ repo: 'synth/policy-memory', gguf_policy: 'memory', quantization: 'Q4_K_M' }, 'policy_conflict'],
      [{ repo: 'synth/policy-memory', quantization: 'Q7_X' }, 'invalid_quantization'],
      [{ repo: 'synth/policy-memory' }, 'gguf_policy_required'],
      [{ repo: 'synth/policy-memory', filename: 'missing.gguf' }, 'file_not_found'],
      [{ repo: 'synth/policy-memory', filename: 'README.md' }, 'invalid_filename'],
      [
        { repo: 'synth/policy-memory', filename: 'm-F16.gguf', quantization: 'Q8_0' },
        'quantization_mismatch',
      ],
      [{ repo: 'synth/Chatty-GGUF', quantization: 'Q6_K' }, 'quantization_not_found'],
      [{ repo: 'synth/policy-memory', quantization: 'Q5_K_M' }, 'quantize_unavailable'],
      [{ repo: 'synth/both-formats' }, 'format_required'],
      [{ repo: 'synth/both-formats', format: 'safetensors', quantization: 'Q4_K_M' }, 'invalid_option'],
      [{ repo: 'synth/readme-only' }, 'no_model_files'],
      [{ repo: 'synth/no-tokenizer' }, 'safetensors_metadata_missing'],
    ];
    for (const [body, code] of cases) {
      const res = await register(body);
      expect({ body, status: res.status, code: res.body?.error?.code }).toEqual({ body, status: 400, code });
      expect(res.body.error.message.length).toBeGreaterThan(10);
    }
    const notJson = await env.router.call('POST', '/v0/models/register', {
      raw: '{nope',
      headers: env.admin,
    });
    expect(notJson.status).toBe(400);
    expect(env.router.models.listForApi().map((m) => m.id)).toEqual(['ggml-org/tiny-llamas']);
  });

  it('answers 404 for an unknown repo, 403 for gated or private ones without a token, 502 when the hub fails', async () => {
    const missing = await register({ repo: 'nobody/nothing', gguf_policy: 'memory' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('repo_not_found');
    const gated = await register({ repo: 'synth/gated', gguf_policy: 'memory' });
    expect(gated.status).toBe(403);
    expect(gated.body.error).toMatchObject({ code: 'hf_access_denied' });
    expect(gated.body.error.message).toContain('HF_TOKEN');
    const privateRepo = await register({ repo: 'synth/private', gguf_policy: 'memory' });
    expect(privateRepo.status).toBe(404);
    expect(privateRepo.body.error.message).toContain('HF_TOKEN');
    hub.failNext('api', 500);
    const failing = await register({ repo: 'synth/policy-memory', gguf_policy: 'memory' });
    expect(failing.status).toBe(502);
    expect(failing.body.error.code).toBe('hf_unavailable');
  });

  it('applies each gguf_policy and caches exactly the chosen file', async () => {
    const expected = { quality: 'm-F16.gguf', memory: 'm-IQ2_M.gguf', speed: 'm-Q4_K_M.gguf' };
    for (const [policy, filename] of Object.entries(expected)) {
      const res = await register({ repo: `synth/policy-${policy}`, gguf_policy: policy });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ filename, gguf_policy: policy });
    }
    for (const [policy, filename] of Object.entries(expected)) {
      const model = await waitForModel(env, `synth/policy-${policy}`, isSettled);
      expect(model.lifecycle_status).toBe('registered');
      const content = policyFiles().find((f) => f.path === filename)?.content as Buffer;
      expect(model.files[0]).toMatchObject({
        name: 'model.gguf',
        source_path: filename,
        sha256: sha256(content),
      });
      const cached = readFileSync(
        join(env.router.dataDir, 'models', 'synth', `policy-${policy}`, 'model.gguf'),
      );
      expect(cached.equals(content)).toBe(true);
    }
  });

  it('takes chat_template from tokenizer_config.json unless given, and never writes it into the GGUF', async () => {
    const fromRepo = await register({ repo: 'synth/Chatty-GGUF', quantization: 'q4_k_m' });
    expect(fromRepo.status).toBe(201);
    expect(fromRepo.body).toMatchObject({ name: 'synth/chatty-gguf', quantization: 'Q4_K_M' });
    expect(fromRepo.body.chat_template).toBe('{% for m in messages %}{{m.content}}{% endfor %}');
    const named = await register({ repo: 'synth/named-templates', gguf_policy: 'quality' });
    expect(named.body.chat_template).toBe('D');
    const model = await waitForModel(env, 'synth/chatty-gguf', isSettled);
    expect(model.chat_template).toBe(fromRepo.body.chat_template);
    expect(
      readFileSync(join(env.router.dataDir, 'models', 'synth', 'chatty-gguf', 'model.gguf')).equals(
        fakeGguf('chatty'),
      ),
    ).toBe(true);
    expect((await env.call('DELETE', '/v0/models/synth/chatty-gguf')).status).toBe(204);
    const given = await register({
      repo: 'synth/Chatty-GGUF',
      quantization: 'Q4_K_M',
      chat_template: 'mine',
    });
    expect({ status: given.status, body: given.body }).toMatchObject({
      status: 201,
      body: { chat_template: 'mine' },
    });
  });

  it('registers and caches a sharded safetensors model as not servable, with every shard', async () => {
    const res = await register({ repo: 'synth/sharded-safetensors' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      format: 'safetensors',
      filename: 'model.safetensors.index.json',
      servable: false,
      chat_template: 'ST',
    });
    expect(res.body.servable_reason).toContain('safetensors');
    const model = await waitForModel(env, 'synth/sharded-safetensors', isSettled);
    expect(model.lifecycle_status).toBe('registered');
    expect(model.ready).toBe(false);
    expect(model.source).toBe('hf_safetensors');
    expect(model.files.map((f: { name: string }) => f.name).sort()).toEqual([
      'config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(hub.fileRequests('unrelated.bin')).toEqual([]);
    const api = env.router.models.getForApi('synth/sharded-safetensors');
    expect(api).toMatchObject({ ready: false, servable: false, lifecycle_status: 'registered' });
  });

  it('warns when the required memory exceeds every node GPU, and not when it fits', async () => {
    const nodeKey = env.node;
    const node = await env.router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration(),
      headers: nodeKey,
    });
    expect(node.status).toBe(201);
    const huge = await register({ repo: 'synth/huge', gguf_policy: 'memory' });
    expect(huge.status).toBe(201);
    expect(huge.body.required_memory_bytes).toBe(Math.ceil(1.5 * 40 * 1024 ** 3));
    expect(huge.body.warnings.join(' ')).toMatch(/Needs about 60\.0 GiB.*gpu-host.*24\.0 GiB/);
    await env.call('DELETE', '/v0/models/synth%2Fhuge');
    const small = await register({ repo: 'synth/both-formats', format: 'gguf', gguf_policy: 'speed' });
    expect(small.status).toBe(201);
    expect(small.body.warnings).toEqual([]);
  });

  it('accepts ids nested or URL-encoded, and bumps models_version on every change, persisted', async () => {
    const nested = await env.call('GET', '/v0/models/ggml-org/tiny-llamas', undefined, env.node);
    const encoded = await env.call('GET', '/v0/models/ggml-org%2Ftiny-llamas', undefined, env.node);
    expect(nested.status).toBe(200);
    expect(encoded.body.name).toBe(nested.body.name);
    expect((await env.call('GET', '/v0/models/ggml-org/unknown', undefined, env.node)).status).toBe(404);

    // Settle every download first: lifecycle changes move the version too.
    for (const m of (await env.call('GET', '/v0/models', undefined, env.node)).body)
      await waitForModel(env, m.name, isSettled);
    const reg = await env.router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ machine_name: 'v' }),
      headers: env.node,
    });
    const beat = () =>
      env.router.call('POST', '/v0/health', {
        body: heartbeat(reg.body.node_id),
        headers: { ...env.node, 'x-node-token': reg.body.node_token },
      });
    const before = (await beat()).body.models_version;
    expect(reg.body.models_version).toBe(before);
    expect(before).toBeGreaterThan(0);
    expect((await env.call('DELETE', '/v0/models/synth/both-formats')).status).toBe(204);
    const after = (await beat()).body.models_version;
    expect(after).toBeGreaterThan(before);
    const stored = await env.router.db
      .selectFrom('model_registry_state')
      .select('value')
      .where('key', '=', 'models_version')
      .executeTakeFirstOrThrow();
    expect(Number(stored.value)).toBe(after);
  });
});
