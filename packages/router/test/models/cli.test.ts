/** `llm-router model register|list|delete` run as a user would, against a running router. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderProgressBar } from '../../src/models/cli.js';
import { FakeHub } from './support/fake-hub.js';
import { type ModelTestEnv, STORIES_REPO, startModelEnv, storiesRepo } from './support/setup.js';

const cli = resolve(import.meta.dirname, '../../src/cli.ts');
let env: ModelTestEnv;
let hub: FakeHub;
let adminKey: string;

/** Runs the CLI without blocking this process (the router under test lives in it). */
function run(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cli, 'model', ...args, '--router', env.router.url],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: env.router.dataDir,
          LLM_ROUTER_API_KEY: adminKey,
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => done({ code, out, err }));
  });
}

beforeAll(async () => {
  hub = await FakeHub.start();
  hub.addRepo(storiesRepo());
  env = await startModelEnv({}, hub);
  adminKey = await env.router.createKey(['admin:*']);
});

afterAll(async () => {
  await env?.router.stop();
  await hub?.close();
});

describe('llm-router model', () => {
  it('renders a progress bar line', () => {
    expect(
      renderProgressBar(
        { percent: 0.5, bytes_downloaded: 1024 * 1024, bytes_total: 2 * 1024 * 1024 },
        'caching',
        10,
      ),
    ).toBe('[#####-----]  50.0%  1.0 MiB / 2.0 MiB  caching');
    expect(renderProgressBar(null, 'pending', 4)).toBe('[----]   0.0%  0.0 KiB / ?  pending');
  });

  it('registers a model and follows it until it is cached', async () => {
    const result = await run(['register', STORIES_REPO, '--filename', 'stories260K.gguf']);
    expect(result.err).not.toContain('Error');
    expect(result.code).toBe(0);
    expect(result.out).toContain('registered ggml-org/tiny-llamas: gguf stories260K.gguf, 1.1 MiB');
    expect(result.out).toContain('ggml-org/tiny-llamas is cached and ready for nodes');
    expect(result.err).toContain('ggml-org/tiny-llamas: registered');
  });

  it('lists models as a table and as JSON', async () => {
    const table = await run(['list']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^ID\s+FORMAT\s+QUANT\s+SIZE\s+STATUS\s+PROGRESS$/m);
    expect(table.out).toMatch(/^ggml-org\/tiny-llamas\s+gguf\s+-\s+1\.1 MiB\s+registered\s+100\.0%$/m);
    const json = await run(['list', '--json']);
    expect(JSON.parse(json.out)[0]).toMatchObject({
      name: 'ggml-org/tiny-llamas',
      lifecycle_status: 'registered',
    });
  });

  it('reports router errors with exit code 1 and usage errors with 2', async () => {
    const unknown = await run(['register', 'nobody/nothing', '--gguf-policy', 'memory']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('(HTTP 404)');
    expect((await run(['list'], { LLM_ROUTER_API_KEY: '' })).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['register'])).code).toBe(2);
  });

  it('deletes a model, and says so when it is already gone', async () => {
    const deleted = await run(['delete', 'ggml-org/tiny-llamas']);
    expect(deleted.code).toBe(0);
    expect(deleted.out).toBe('deleted ggml-org/tiny-llamas\n');
    const again = await run(['delete', 'ggml-org/tiny-llamas']);
    expect(again.code).toBe(1);
    expect(again.err).toContain("Model 'ggml-org/tiny-llamas' is not registered (HTTP 404)");
  });
});
