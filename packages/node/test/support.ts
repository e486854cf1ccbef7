/** Shared test helpers: temp dirs, the shared test model, and in-process nodes on free ports. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { loadNodeConfig, type NodeConfig } from '../src/config/config.js';
import { type RunningNode, startNode } from '../src/main.js';
import type { NodeSnapshot } from '../src/observability/snapshot.js';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(packageRoot, '../..');
/** CI lays out `T/project` beside `T/shared`; locally the same holds for /work/main and /work/shared. */
export const sharedModelPath = resolve(repoRoot, '../shared/models/stories260K.gguf');

const tempDirs: string[] = [];

export function tempDir(prefix = 'llm-node-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A models dir holding a copy of stories260K (as `stories260K.gguf`). */
export function modelsDirWithStories(): string {
  const dir = join(tempDir(), 'models');
  mkdirSync(dir, { recursive: true });
  copyFileSync(sharedModelPath, join(dir, 'stories260K.gguf'));
  return dir;
}

/** A node config for tests: loopback, free port, 1 thread, CPU allowed, quiet, temp dirs. */
export function testConfig(
  env: Record<string, string> = {},
  overrides: Partial<NodeConfig> = {},
): NodeConfig {
  const state = tempDir('llm-node-state-');
  const config = loadNodeConfig({
    LLM_NODE_PORT: '0',
    LLM_NODE_BIND_ADDRESS: '127.0.0.1',
    LLM_NODE_THREADS: '1',
    LLM_ALLOW_NO_GPU: 'true',
    LLM_NODE_STATE_DIR: state,
    LLM_NODE_MODEL_RESCAN_SECS: '0',
    ...env,
  });
  return { ...config, logToStdout: false, ...overrides };
}

export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what: string,
  { timeoutMs = 30_000, intervalMs = 25 } = {},
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Starts a node and waits until its startup model loading has finished. */
export async function startReadyNode(config: NodeConfig): Promise<RunningNode> {
  const node = await startNode(config);
  await waitFor(async () => (await fetch(`${node.url}/startup`)).status === 200, 'node startup');
  return node;
}

/** GET a JSON document (typed by the caller: the tests know what each route returns). */
export async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

export const nodeMetrics = (node: RunningNode) => getJson<NodeSnapshot>(`${node.url}/metrics`);

export function openaiClient(node: RunningNode): OpenAI {
  return new OpenAI({ baseURL: `${node.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
}
