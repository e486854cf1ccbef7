/**
 * `make start` smoke tests on a fresh home directory with no models: it generates the demo
 * model, starts the router and a node, and prints a ready API key. Offline it serves the demo
 * model and says so; with a (fake, local) Hugging Face reachable it registers a small real GGUF
 * through the model registry, the node pulls it, and a chat completion on it works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import OpenAI from 'openai';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeHub } from '../../packages/router/test/models/support/fake-hub.js';
import { storiesRepo } from '../../packages/router/test/models/support/setup.js';
import { freePort, repoRoot, stopAll, tempDir, waitUntil } from '../support/processes.js';

let child: ChildProcess | undefined;
let hub: FakeHub | undefined;

afterEach(async () => {
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    // The script traps INT and stops the router and node it started.
    process.kill(-child.pid, 'SIGINT');
    const timer = setTimeout(() => child?.pid && process.kill(-child.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await hub?.close();
  hub = undefined;
});
// Removes the fresh home directories (demo model, router data) the runs were given.
afterAll(() => stopAll());

async function makeStart(hfBaseUrl: string): Promise<{ output: () => string; routerPort: number }> {
  const home = tempDir('make-start-home');
  const [routerPort, nodePort] = [await freePort(), await freePort()];
  child = spawn('make', ['--no-print-directory', 'start'], {
    cwd: repoRoot,
    detached: true,
    env: {
      ...process.env,
      HOME: home,
      HF_BASE_URL: hfBaseUrl,
      LLM_ROUTER_PORT: String(routerPort),
      LLM_ROUTER_HOST: '127.0.0.1',
      LLM_NODE_PORT: String(nodePort),
      LLM_NODE_BIND_ADDRESS: '127.0.0.1',
      LLM_NODE_IP: '127.0.0.1',
      LLM_NODE_THREADS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  await waitUntil(() => output.includes('Press Ctrl-C to stop.'), 150_000, 'make start to be ready');
  return { output: () => output, routerPort };
}

function chatClient(output: string, routerPort: number) {
  const apiKey = /API key:\s+(sk_\S+)/.exec(output)?.[1];
  expect(apiKey).toBeDefined();
  return new OpenAI({ apiKey, baseURL: `http://127.0.0.1:${routerPort}/v1`, maxRetries: 0 });
}

describe('make start', () => {
  it('offline: serves the generated demo model and says so', { timeout: 240_000 }, async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { output, routerPort } = await makeStart(closed);
    expect(output()).toMatch(/First boot: created admin user 'admin' with password: \S+/);
    expect(output()).toContain('is not reachable: serving the generated demo model only');
    expect(/Model:\s+(\S+)/.exec(output())?.[1]).toBe('demo-random-tiny');
    const res = await chatClient(output(), routerPort).chat.completions.create({
      model: 'demo-random-tiny',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 8,
    });
    expect(res.usage?.completion_tokens).toBeGreaterThan(0);
    // `make start` built the dashboard and the router serves it at the printed URL.
    const dashboardUrl = /Dashboard:\s+(\S+)/.exec(output())?.[1];
    expect(dashboardUrl).toBe(`http://127.0.0.1:${routerPort}/dashboard`);
    const page = await fetch(dashboardUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });

  it('online: registers a small real model that the node pulls and serves', {
    timeout: 240_000,
  }, async () => {
    hub = await FakeHub.start();
    hub.addRepo(storiesRepo());
    const { output, routerPort } = await makeStart(hub.url);
    expect(/Model:\s+(\S+)/.exec(output())?.[1]).toBe('ggml-org/tiny-llamas');
    const res = await chatClient(output(), routerPort).completions.create({
      model: 'ggml-org/tiny-llamas',
      prompt: 'Once upon a time',
      max_tokens: 20,
      temperature: 0,
    });
    // The real stories model, not the random demo: coherent story text.
    expect(res.choices[0].text).toMatch(/there was a little/i);
  });
});
