/**
 * Cold start: how long `llm-router serve` takes from process spawn until its port accepts
 * connections, with SQLite and no models registered. The first start on an empty data folder
 * (migrations, the first admin's password hash) is reported apart from restarts on existing
 * state; the goal (≤ 0.5 s) applies to the median restart. Exits non-zero when it is missed.
 *
 *   npx tsx bench/cold-start.ts            # 1 first start + 7 restarts
 *   BENCH_RUNS=15 npx tsx bench/cold-start.ts
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, repoRoot, stopAll, tempDir } from '../test/support/processes.js';
import { percentile } from './support/instant-node.js';

const GOAL_MS = 500;
const runs = Number(process.env.BENCH_RUNS ?? 7);
const cli = join(repoRoot, 'packages/router/dist/cli.js');

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

async function timeStart(dataDir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dataDir,
      LLM_ROUTER_HOST: '127.0.0.1',
      LLM_ROUTER_PORT: String(port),
      LLM_ROUTER_DATA_DIR: dataDir,
      LLM_ROUTER_ADMIN_PASSWORD: 'bench-admin-password',
      LLM_ROUTER_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`llm-router exited with ${child.exitCode}`);
      if (await accepts(port)) return performance.now() - started;
      if (performance.now() - started > 30_000) throw new Error('llm-router did not listen within 30 s');
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main() {
  const dataDir = tempDir('cold-start');
  const first = await timeStart(dataDir);
  const restarts: number[] = [];
  for (let i = 0; i < runs; i++) restarts.push(await timeStart(dataDir));
  const median = percentile(restarts, 50);
  console.log('\n`llm-router serve` from spawn to an accepting port, SQLite, no models\n');
  console.log('| start | ms |\n|---|---:|');
  console.log(`| first start (empty data folder: migrations, admin password hash) | ${first.toFixed(0)} |`);
  console.log(`| restart, median of ${runs} | ${median.toFixed(0)} |`);
  console.log(`| restart, fastest | ${Math.min(...restarts).toFixed(0)} |`);
  const met = median <= GOAL_MS;
  console.log(`\ngoal: median restart ≤ ${GOAL_MS} ms: ${met ? 'met' : '**missed**'}`);
  await stopAll(); // removes the data folder
  if (!met) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
