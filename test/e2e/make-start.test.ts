/**
 * `make start` smoke test: on a fresh home directory with no models it generates the demo
 * model, starts the router and a node, prints a ready API key, and a chat completion works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import OpenAI from 'openai';
import { afterAll, expect, it } from 'vitest';
import { freePort, repoRoot, tempDir, waitUntil } from '../support/processes.js';

let child: ChildProcess | undefined;

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    // The script traps INT and stops the router and node it started.
    process.kill(-child.pid, 'SIGINT');
    const timer = setTimeout(() => child?.pid && process.kill(-child.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
});

it('make start serves a chat completion on a fresh machine state', { timeout: 240_000 }, async () => {
  const home = tempDir('make-start-home');
  const [routerPort, nodePort] = [await freePort(), await freePort()];
  child = spawn('make', ['--no-print-directory', 'start'], {
    cwd: repoRoot,
    detached: true,
    env: {
      ...process.env,
      HOME: home,
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
  await waitUntil(
    () => output.includes('Press Ctrl-C to stop.'),
    120_000,
    `make start to be ready:\n${output}`,
  );
  expect(output).toMatch(/First boot: created admin user 'admin' with password: \S+/);
  const apiKey = /API key:\s+(sk_\S+)/.exec(output)?.[1];
  const model = /Model:\s+(\S+)/.exec(output)?.[1];
  expect(apiKey).toBeDefined();
  expect(model).toBe('demo-random-tiny');
  const client = new OpenAI({ apiKey, baseURL: `http://127.0.0.1:${routerPort}/v1`, maxRetries: 0 });
  const res = await client.chat.completions.create({
    model: model as string,
    messages: [{ role: 'user', content: 'Hello' }],
    max_tokens: 8,
  });
  expect(res.usage?.completion_tokens).toBeGreaterThan(0);
});
