/**
 * Real processes for end-to-end tests: the built `llm-router` and `llm-node` CLIs, each on a
 * free loopback port with its own temporary state. Every process started here is tracked and
 * stopped by `stopAll()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared test model, beside the checkout (`../shared/models`) locally and in CI. */
export const sharedModel = resolve(repoRoot, '../shared/models/stories260K.gguf');
/** The router's bin: the production bundle `make build` writes (what ships is what is tested). */
export const routerCli = join(repoRoot, 'packages/router/dist/llm-router.js');

/**
 * The bundle is written after tsc, so a `tsc -b` alone leaves it missing or older than the code
 * it compiled: say so instead of testing yesterday's router.
 */
function assertRouterBundleCurrent(): void {
  const bundle = join(repoRoot, 'packages/router/dist/bundle/llm-router.cjs');
  const rebuild = 'run `make build` (or `node scripts/bundle-router.mjs` after `tsc -b`)';
  if (!existsSync(routerCli) || !existsSync(bundle))
    throw new Error(`The router bundle is missing: ${rebuild}`);
  for (const pkg of ['router', 'protocol']) {
    const built = join(repoRoot, `packages/${pkg}/dist/.tsbuildinfo`);
    if (existsSync(built) && statSync(built).mtimeMs > statSync(bundle).mtimeMs)
      throw new Error(`The router bundle is older than packages/${pkg}'s tsc build: ${rebuild}`);
  }
}
const nodeCli = join(repoRoot, 'packages/node/dist/cli.js');
const faultNodeScript = join(repoRoot, 'test/support/fault-node.ts');

export interface RunningProcess {
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<RunningProcess>();
const tempDirs = new Set<string>();

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `llm-e2e-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/** A models folder holding copies of the shared model under the given ids. */
export function modelsDir(ids: string[]): string {
  const dir = tempDir('models');
  for (const id of ids) copyFileSync(sharedModel, join(dir, `${id}.gguf`));
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      lastError = new Error(`HTTP ${res.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up: ${String(lastError)}`);
}

export async function waitUntil(
  predicate: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function launch(
  cli: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  nodeArgs: string[] = [],
): RunningProcess {
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? tempDir('home'), NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const proc: RunningProcess = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      running.delete(proc);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(proc);
  return proc;
}

/** One call to a router with a bearer key: the status and the parsed JSON body (null when empty). */
export async function callJson(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies field by field.
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export interface RouterProcess extends RunningProcess {
  dataDir: string;
  /** Creates an API key through the CLI (direct database access) and returns it. */
  createKey(scopes: string, extra?: string[]): Promise<string>;
}

/** Starts `llm-router serve`; pass an earlier router's `dataDir` to restart it on the same state. */
export async function startRouterProcess(
  env: Record<string, string> = {},
  reuse?: { dataDir: string; port: number },
  /** Extra Node.js flags for the router process (e.g. `--cpu-prof` in benchmarks). */
  nodeArgs: string[] = [],
): Promise<RouterProcess> {
  assertRouterBundleCurrent();
  const port = reuse?.port ?? (await freePort());
  const dataDir = reuse?.dataDir ?? tempDir('router');
  const routerEnv = {
    LLM_ROUTER_HOST: '127.0.0.1',
    LLM_ROUTER_PORT: String(port),
    LLM_ROUTER_DATA_DIR: dataDir,
    LLM_ROUTER_ADMIN_PASSWORD: 'e2e-admin-password',
    LLM_ROUTER_LOG_LEVEL: 'info',
    ...env,
  };
  const proc = launch(routerCli, ['serve'], routerEnv, port, nodeArgs);
  await waitForHttp(`${proc.url}/health`);
  return {
    ...proc,
    dataDir,
    createKey: (scopes, extra = []) =>
      runCli(
        routerCli,
        ['api-key', 'create', '--name', `e2e ${scopes}`, '--scopes', scopes, ...extra],
        routerEnv,
      ),
  };
}

export interface NodeOptions {
  routerUrl: string;
  apiKey: string;
  models: string;
  env?: Record<string, string>;
  /** Restart a node as itself: same port and state folder (its id and token). */
  port?: number;
  stateDir?: string;
}

export async function startNodeProcess(options: NodeOptions): Promise<RunningProcess & { stateDir: string }> {
  const port = options.port ?? (await freePort());
  const state = options.stateDir ?? tempDir('node');
  const proc = launch(
    nodeCli,
    [],
    {
      LLM_ROUTER_URL: options.routerUrl,
      LLM_NODE_API_KEY: options.apiKey,
      LLM_NODE_PORT: String(port),
      LLM_NODE_BIND_ADDRESS: '127.0.0.1',
      LLM_NODE_IP: '127.0.0.1',
      LLM_NODE_MODELS_DIR: options.models,
      LLM_NODE_STATE_DIR: state,
      LLM_NODE_LOG_DIR: join(state, 'logs'),
      LLM_NODE_THREADS: '1',
      LLM_NODE_HEARTBEAT_SECS: '1',
      LLM_ALLOW_NO_GPU: 'true',
      ...options.env,
    },
    port,
  );
  await waitForHttp(`${proc.url}/health`);
  return { ...proc, stateDir: state };
}

export interface FaultNodeOptions {
  routerUrl: string;
  apiKey: string;
  /** The model it claims to serve (the healthy nodes' model, so it is a candidate for it). */
  model: string;
  /** A `FakeNodeFault` of packages/router/test/proxy/helpers/fake-node.ts. */
  fault: { kind: string; [key: string]: unknown };
  name?: string;
}

export interface FaultNodeProcess extends RunningProcess {
  /** The id the router gave it. */
  nodeId: string;
  /** How many inference requests it has received so far. */
  requests(): number;
  /** Stops its heartbeats; its port stays open and keeps answering. */
  stopHeartbeats(): void;
}

/** Starts test/support/fault-node.ts: a fake node with a fault, registered with the router. */
export async function startFaultNode(options: FaultNodeOptions): Promise<FaultNodeProcess> {
  const port = await freePort();
  const proc = launch(
    faultNodeScript,
    [],
    {
      FAULT_ROUTER_URL: options.routerUrl,
      FAULT_NODE_KEY: options.apiKey,
      FAULT_PORT: String(port),
      FAULT_MODEL: options.model,
      FAULT_JSON: JSON.stringify(options.fault),
      ...(options.name ? { FAULT_NAME: options.name } : {}),
    },
    port,
    ['--import', 'tsx'],
  );
  let nodeId = '';
  await waitUntil(
    () => {
      if (proc.child.exitCode !== null) throw new Error(`fault node exited: ${proc.output()}`);
      nodeId = /registered (\S+)/.exec(proc.output())?.[1] ?? '';
      return nodeId !== '';
    },
    30_000,
    'the fault node to register',
  );
  return {
    ...proc,
    nodeId,
    requests: () => proc.output().match(/^request \d+ /gm)?.length ?? 0,
    stopHeartbeats: () => proc.child.kill('SIGUSR1'),
  };
}

export function runCli(cli: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolveOut, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? tempDir('home'), ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolveOut(out.trim()) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
