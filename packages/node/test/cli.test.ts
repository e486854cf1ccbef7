/** The built `llm-node` CLI as a user runs it: a real process, real exit codes. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './fake-router.js';
import {
  getJson,
  modelsDirWithStories,
  packageRoot,
  removeTempDirs,
  repoRoot,
  tempDir,
  waitFor,
} from './support.js';

const cli = join(packageRoot, 'dist/cli.js');
const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

/** The environment without any LLM_* setting from the developer's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('LLM_')) env[key] = value;
  return {
    ...env,
    LLM_NODE_STATE_DIR: tempDir('llm-node-cli-state-'),
    LLM_NODE_THREADS: '1',
    LLM_NODE_BIND_ADDRESS: '127.0.0.1',
    ...extra,
  };
}

function run(args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(() => {
  // The CLI under test is the compiled one; build it (incremental: quick when up to date).
  execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'packages/node'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
}, 120_000);

afterAll(() => removeTempDirs());

describe('llm-node CLI', () => {
  it('refuses to start without a GPU unless LLM_ALLOW_NO_GPU=true', async () => {
    const result = await run([], cleanEnv({ LLM_NODE_MODELS_DIR: tempDir(), LLM_NODE_PORT: '0' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No GPU found');
    expect(result.stderr).toContain('LLM_ALLOW_NO_GPU=true');
  });

  it('prints help with the environment variables, and its version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const name of [
      'LLM_ROUTER_URL',
      'LLM_NODE_API_KEY',
      'LLM_NODE_PORT',
      'LLM_NODE_MODELS_DIR',
      'LLM_ALLOW_NO_GPU',
    ]) {
      expect(help.stdout).toContain(name);
    }
    const short = await run(['-V']);
    expect(short.stdout.trim()).toBe(version);
  });

  it('exits 1 with usage on an unknown argument, and names a bad variable', async () => {
    const unknown = await run(['--port=1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown argument: --port=1');
    expect(unknown.stderr).toContain('Usage:');
    const badEnv = await run([], cleanEnv({ LLM_NODE_PORT: 'abc' }));
    expect(badEnv.code).toBe(1);
    expect(badEnv.stderr).toContain('LLM_NODE_PORT');
  });

  it('writes the demo model', async () => {
    const path = join(tempDir(), 'sub', 'demo.gguf');
    const result = await run(['demo-model', path]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('random weights');
    expect(existsSync(path)).toBe(true);
    expect((await run(['demo-model'])).code).toBe(1);
  });

  it('serves on the CPU with LLM_ALLOW_NO_GPU=true and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [cli], {
      env: cleanEnv({
        LLM_ALLOW_NO_GPU: 'true',
        LLM_NODE_PORT: String(port),
        LLM_NODE_MODELS_DIR: modelsDirWithStories(),
        LLM_NODE_LOG_DIR: tempDir(),
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => (await fetch(`${url}/startup`)).status === 200, 'the CLI node to start');
      const models = await getJson<{ data: { id: string; ready: boolean }[] }>(`${url}/v1/models`);
      expect(models.data[0]).toMatchObject({ id: 'stories260K', ready: true });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
