/**
 * Serving cached models to nodes: manifests with sizes and hashes, files with Range, the
 * legacy blob, and a 400 for every path traversal attempt (never a 404, never a file).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const FILE_URL = '/v0/models/registry/ggml-org/tiny-llamas/files/model.gguf';
const SIZE = 1_185_376;

let env: ModelTestEnv;
let hub: FakeHub;
let stories: Buffer;

/** A raw request, so `..` and `%2e%2e` reach the router exactly as written (fetch would normalise them). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  const url = new URL(env.router.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { ...env.node, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  stories = storiesBytes();
  hub = await FakeHub.start();
  hub.addRepo(storiesRepo());
  hub.addRepo({
    id: 'synth/safetensors',
    files: [
      { path: 'tokenizer.json', content: Buffer.from('{"t":1}') },
      { path: 'config.json', content: Buffer.from('{"c":1}') },
      { path: 'model.safetensors', content: Buffer.from('weights'.repeat(10)) },
    ],
  });
  hub.addRepo({
    id: 'synth/split',
    files: [
      { path: 'big-Q8_0-00002-of-00002.gguf', content: fakeGguf('part2', 300) },
      { path: 'big-Q8_0-00001-of-00002.gguf', content: fakeGguf('part1', 300) },
    ],
  });
  env = await startModelEnv({}, hub);
  for (const body of [
    { repo: STORIES_REPO, filename: 'stories260K.gguf' },
    { repo: 'synth/safetensors' },
    { repo: 'synth/split', quantization: 'Q8_0' },
  ]) {
    expect((await env.call('POST', '/v0/models/register', body)).status).toBe(201);
  }
  for (const id of ['ggml-org/tiny-llamas', 'synth/safetensors', 'synth/split']) {
    expect((await waitForModel(env, id, isSettled)).lifecycle_status).toBe('registered');
  }
});

afterAll(async () => {
  await env?.router.stop();
  await hub?.close();
});

describe('manifest', () => {
  it('lists every file with its size and sha256, nested or encoded id', async () => {
    for (const path of [
      '/v0/models/registry/ggml-org/tiny-llamas/manifest.json',
      '/v0/models/registry/ggml-org%2Ftiny-llamas/manifest.json',
    ]) {
      const res = await env.call('GET', path, undefined, env.node);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        model: 'ggml-org/tiny-llamas',
        format: 'gguf',
        revision: 'a'.repeat(40),
        primary_file: 'model.gguf',
        files: [
          {
            name: 'model.gguf',
            size: SIZE,
            sha256: sha256(stories),
            digest: `sha256:${sha256(stories)}`,
            url: '/v0/models/registry/ggml-org%2Ftiny-llamas/files/model.gguf',
          },
        ],
      });
    }
  });

  it('gives config.json and tokenizer.json priority and sorts by name', async () => {
    const res = await env.call(
      'GET',
      '/v0/models/registry/synth/safetensors/manifest.json',
      undefined,
      env.node,
    );
    expect(res.body.primary_file).toBe('model.safetensors');
    expect(res.body.files.map((f: { name: string; priority?: number }) => [f.name, f.priority])).toEqual([
      ['config.json', 10],
      ['model.safetensors', undefined],
      ['tokenizer.json', 10],
    ]);
    const file = await env.router.call('GET', res.body.files[0].url, { headers: env.node });
    expect(file.body).toEqual({ c: 1 });
  });

  it('keeps every part of a split GGUF under llama.cpp split names', async () => {
    const res = await env.call('GET', '/v0/models/registry/synth/split/manifest.json', undefined, env.node);
    expect(res.body.primary_file).toBe('model-00001-of-00002.gguf');
    expect(res.body.files.map((f: { name: string; sha256: string }) => [f.name, f.sha256])).toEqual([
      ['model-00001-of-00002.gguf', sha256(fakeGguf('part1', 300))],
      ['model-00002-of-00002.gguf', sha256(fakeGguf('part2', 300))],
    ]);
  });

  it('answers 404 for unknown models, files and shapes', async () => {
    const cases: Array<[string, string]> = [
      ['/v0/models/registry/nobody/nothing/manifest.json', 'model_not_found'],
      ['/v0/models/registry/ggml-org/tiny-llamas/files/other.gguf', 'file_not_found'],
      ['/v0/models/registry/ggml-org/tiny-llamas/other', 'not_found'],
      ['/v0/models/blob/synth/safetensors', 'blob_unavailable'],
      ['/v0/models/blob/synth/split', 'blob_unavailable'],
    ];
    for (const [path, code] of cases) {
      const res = await env.call('GET', path, undefined, env.node);
      expect({ path, status: res.status, code: res.body.error.code }).toEqual({ path, status: 404, code });
    }
  });
});

describe('files', () => {
  it('serves the whole file byte-identical with its sha256 as ETag', async () => {
    const res = await raw('GET', FILE_URL);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers.etag).toBe(`"${sha256(stories)}"`);
    expect(res.body.equals(stories)).toBe(true);
    const head = await raw('HEAD', FILE_URL);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(SIZE));
    expect(head.body.length).toBe(0);
  });

  it('answers Range requests with 206, suffix ranges, 416 and If-Range / If-None-Match', async () => {
    const part = await raw('GET', FILE_URL, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${SIZE}`);
    expect(part.body.equals(stories.subarray(100, 200))).toBe(true);
    const open = await raw('GET', FILE_URL, { range: `bytes=${SIZE - 10}-` });
    expect(open.body.equals(stories.subarray(SIZE - 10))).toBe(true);
    const suffix = await raw('GET', FILE_URL, { range: 'bytes=-64' });
    expect(suffix.status).toBe(206);
    expect(suffix.body.equals(stories.subarray(SIZE - 64))).toBe(true);
    const beyond = await raw('GET', FILE_URL, { range: `bytes=${SIZE}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${SIZE}`);
    const stale = await raw('GET', FILE_URL, { range: 'bytes=0-9', 'if-range': '"old"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(SIZE);
    const fresh = await raw('GET', FILE_URL, { range: 'bytes=0-9', 'if-range': `"${sha256(stories)}"` });
    expect(fresh.status).toBe(206);
    expect((await raw('GET', FILE_URL, { 'if-none-match': `"${sha256(stories)}"` })).status).toBe(304);
  });

  it('keeps the legacy blob route for single-GGUF models', async () => {
    for (const path of ['/v0/models/blob/ggml-org/tiny-llamas', '/v0/models/blob/ggml-org%2Ftiny-llamas']) {
      const res = await raw('GET', path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.body.equals(stories)).toBe(true);
    }
    expect(
      (await raw('GET', '/v0/models/blob/ggml-org/tiny-llamas', { range: 'bytes=0-3' })).body.toString(),
    ).toBe('GGUF');
  });

  it('needs a node:register (or admin) credential', async () => {
    expect((await raw('GET', FILE_URL, { authorization: '' })).status).toBe(401);
    const inference = await env.router.createKey(['api:inference']);
    expect((await raw('GET', FILE_URL, { authorization: `Bearer ${inference}` })).status).toBe(403);
    expect((await raw('GET', FILE_URL, env.admin)).status).toBe(200);
  });
});

describe('path traversal', () => {
  const attempts = [
    'GET /v0/models/registry/../../../etc/passwd',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/../../../../router.db',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/%2e%2e%2f%2e%2e%2frouter.db',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/%2E%2E',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/..%2F..%2F..%2Frouter.db',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/..%5C..%5Crouter.db',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/..\\..\\router.db',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/model.gguf%00.txt',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/.model.gguf.part',
    'GET /v0/models/registry/ggml-org/tiny-llamas/files/sub%2Fmodel.gguf',
    'GET /v0/models/registry/%2e%2e/%2e%2e/manifest.json',
    'GET /v0/models/registry/ggml-org%2F..%2F..%2Fetc/manifest.json',
    'GET /v0/models/registry/ggml-org/tiny-llamas%00/manifest.json',
    'GET /v0/models/registry/ggml-org%5Ctiny-llamas/manifest.json',
    'GET /v0/models/registry/..%252f..%252fetc/manifest.json',
    'GET /v0/models/registry/ggml-org/../tiny-llamas/files/model.gguf',
    'GET /v0/models/registry/%2Fetc/manifest.json',
    'GET /v0/models/blob/..%2F..%2Frouter.db',
    'GET /v0/models/blob/../../router.db',
    'GET /v0/models/blob/ggml-org/%2e%2e',
    'GET /v0/models/blob/ggml-org%5C..%5Cx',
    'GET /v0/models/%2e%2e%2f%2e%2e%2fetc',
    'GET /v0/models/ggml-org/tiny-llamas%00',
    'DELETE /v0/models/../../etc',
    'DELETE /v0/models/ggml-org%2F..%2F..',
    'DELETE /v0/models/ggml-org%5Ctiny-llamas',
  ];

  it.each(attempts)('%s → 400', async (attempt) => {
    const [method, path] = attempt.split(' ');
    const res = await raw(method, path, method === 'DELETE' ? env.admin : {});
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).error.message).toMatch(/Invalid|traversal/);
  });

  it('left every model in place', async () => {
    const feed = await env.call('GET', '/v0/models', undefined, env.node);
    expect(feed.body.map((m: { name: string }) => m.name)).toEqual([
      'ggml-org/tiny-llamas',
      'synth/safetensors',
      'synth/split',
    ]);
  });
});
