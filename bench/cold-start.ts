/**
 * Cold start: how long `llm-router serve` takes from process spawn until its port accepts
 * connections, with SQLite and no models registered. The first start on an empty data folder
 * (migrations, the first admin's password hash) is reported apart from restarts on existing
 * state; the goal (≤ 0.5 s) applies to the median restart. Exits non-zero when it is missed.
 *
 *   npx tsx bench/cold-start.ts            # 1 first start + 7 restarts
 *   BENCH_RUNS=15 npx tsx bench/cold-start.ts
 *
 * It starts the package's `llm-router` bin (the one-file bundle `make build` writes). To compare
 * builds side by side in one run, name their entry files in BENCH_CLIS (comma-separated, the
 * goal applies to the last one): each round starts every build once, in turn, each on its own data folder.
 *
 *   BENCH_CLIS=/tmp/before/packages/router/dist/cli.js,packages/router/dist/llm-router.js \
 *     BENCH_RUNS=9 npx tsx bench/cold-start.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { freePort, repoRoot, stopAll, tempDir } from '../test/support/processes.js';
import { percentile } from './support/instant-node.js';

const GOAL_MS = 500;
const runs = Number(process.env.BENCH_RUNS ?? 7);
const clis = (process.env.BENCH_CLIS ?? join(repoRoot, 'packages/router/dist/llm-router.js'))
  .split(',')
  .map((path) => resolve(repoRoot, path.trim()));

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** CPU time (user + system, ms) the process has used so far, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Start {
  /** Spawn to an accepting port. */
  wallMs: number;
  /** CPU the process used until then: less sensitive to other work on the machine. */
  cpuMs: number;
}

async function timeStart(cli: string, dataDir: string): Promise<Start> {
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
      if (await accepts(port)) {
        const wallMs = performance.now() - started;
        return { wallMs, cpuMs: cpuMs(child.pid as number) };
      }
      if (performance.now() - started > 30_000) throw new Error('llm-router did not listen within 30 s');
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main() {
  const dataDirs = clis.map(() => tempDir('cold-start'));
  const first: Start[] = [];
  for (const [i, cli] of clis.entries()) first.push(await timeStart(cli, dataDirs[i]));
  const restarts: Start[][] = clis.map(() => []);
  for (let run = 0; run < runs; run++)
    for (const [i, cli] of clis.entries()) restarts[i].push(await timeStart(cli, dataDirs[i]));
  const medians = restarts.map((r) =>
    percentile(
      r.map((s) => s.wallMs),
      50,
    ),
  );
  const cpuMedians = restarts.map((r) =>
    percentile(
      r.map((s) => s.cpuMs),
      50,
    ),
  );
  const cells = (values: number[]) => values.map((v) => v.toFixed(0)).join(' | ');
  console.log('\n`llm-router serve` from spawn to an accepting port, SQLite, no models\n');
  for (const [i, cli] of clis.entries()) console.log(`build ${i + 1}: ${cli}`);
  console.log(`\n| start | ${clis.map((_, i) => `build ${i + 1} ms`).join(' | ')} |`);
  console.log(`|---|${clis.map(() => '---:').join('|')}|`);
  console.log(
    `| first start (empty data folder: migrations, admin password hash) | ${cells(first.map((s) => s.wallMs))} |`,
  );
  console.log(`| restart, median of ${runs} | ${cells(medians)} |`);
  console.log(`| restart, fastest | ${cells(restarts.map((r) => Math.min(...r.map((s) => s.wallMs))))} |`);
  console.log(`| restart, CPU used until listening, median | ${cells(cpuMedians)} |`);
  if (clis.length > 1) {
    const ratios = (values: number[]) => values.map((m) => (m / values[0]).toFixed(2)).join(', ');
    console.log(`\nratio to build 1: median restart ${ratios(medians)}; CPU ${ratios(cpuMedians)}`);
  }
  const last = medians.length - 1;
  const met = medians[last] <= GOAL_MS;
  console.log(`\ngoal: median restart of build ${last + 1} ≤ ${GOAL_MS} ms: ${met ? 'met' : '**missed**'}`);
  await stopAll(); // removes the data folders
  if (!met) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
