/**
 * The router's overhead against the references, in one table from one run: chat completions to
 * an instant fake node, driven by wrk at concurrency 1, 10 and 64, through
 *   - nothing (direct to the fake node),
 *   - nginx `proxy_pass` with one worker,
 *   - a minimal Fastify + undici passthrough (bench/support/passthrough.ts, the Node.js floor),
 *   - the real router process (`llm-router serve`: API-key auth, validation, the `auto`
 *     balancer, request history on SQLite).
 * Prints added p50/p99 over direct and req/s per path, then the issue's goal ratios. Exits
 * non-zero when a goal is missed, when any answer is not a 2xx, or when request history lost
 * rows. Not part of `make test`: timings on a shared machine are noisy.
 *
 *   npx tsx bench/overhead.ts                 # 5 s per path and concurrency
 *   BENCH_SECONDS=10 npx tsx bench/overhead.ts
 *   BENCH_ROUNDS=3 npx tsx bench/overhead.ts  # medians of 3 rounds (paths interleaved), for a busy machine
 *   BENCH_CONCURRENCY=1 BENCH_ROUNDS=5 npx tsx bench/overhead.ts  # one concurrency only (other goals: not measured)
 *   BENCH_ROUTER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx bench/overhead.ts
 *   BENCH_BASELINE_ROUTER=/tmp/old/packages/router/dist/cli.js npx tsx bench/overhead.ts
 * The last form adds a row for another build of the router (a before/after in one run), and a
 * table comparing the two round by round.
 *
 * Besides latency, each Node.js path reports its CPU time per request (user + system, from
 * /proc): on a shared machine that is steadier than latency, which other processes disturb.
 * It is given for the whole process and for its main thread alone (the event loop; the
 * router writes request history from a worker thread).
 */
import { spawn } from 'node:child_process';
import { openDatabase } from '../packages/router/src/store/database.js';
import {
  freePort,
  repoRoot,
  runCli,
  startRouterProcess,
  stopAll,
  tempDir,
  waitForHttp,
} from '../test/support/processes.js';
import { percentile, startInstantNode } from './support/instant-node.js';
import { startNginx } from './support/nginx.js';
import { cpuSeconds } from './support/process-cpu.js';
import { runWrk, type WrkResult } from './support/wrk.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
/** Rounds over every path and concurrency; the table gives each figure's median over them. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
/** `BENCH_CONCURRENCY=1` (a comma list) measures only those; a goal not measured counts as missed. */
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,10,64').split(',').map(Number);
const GOALS = { addedP50AtC1Ms: 0.2, p99AtC64VsFloor: 3, rpsAtC10VsFloor: 0.75 };

/** Another build of the router (BENCH_BASELINE_ROUTER), started like `llm-router serve`. */
async function startBaselineRouter(cli: string) {
  const port = await freePort();
  const dataDir = tempDir('baseline-router');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dataDir,
    LLM_ROUTER_HOST: '127.0.0.1',
    LLM_ROUTER_PORT: String(port),
    LLM_ROUTER_DATA_DIR: dataDir,
    LLM_ROUTER_ADMIN_PASSWORD: 'bench-admin-password',
    LLM_ROUTER_LOG_LEVEL: 'warn',
    LLM_ROUTER_NODE_TIMEOUT: '3600',
  };
  const child = spawn(process.execPath, [cli, 'serve'], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`);
  const createKey = (scopes: string) =>
    runCli(cli, ['api-key', 'create', '--name', `bench ${scopes}`, '--scopes', scopes], env);
  return {
    url,
    dataDir,
    child,
    createKey,
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

function startPassthrough(upstream: string): Promise<{ url: string; pid?: number; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/passthrough.ts', upstream], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`passthrough exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      const match = /listening (\S+)/.exec(String(d));
      if (match) resolve({ url: match[1], pid: child.pid, stop: () => child.kill() });
    });
  });
}

async function main() {
  const fake = await startInstantNode();
  const nginx = await startNginx(fake.url, await freePort());
  const passthrough = await startPassthrough(fake.url);
  const nodeArgs = (process.env.BENCH_ROUTER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const router = await startRouterProcess(
    // The fake node never heartbeats: keep it online for the whole run.
    { LLM_ROUTER_LOG_LEVEL: 'warn', LLM_ROUTER_NODE_TIMEOUT: '3600' },
    undefined,
    nodeArgs,
  );
  const baselineCli = process.env.BENCH_BASELINE_ROUTER;
  const baseline = baselineCli ? await startBaselineRouter(baselineCli) : null;
  const register = async (target: { url: string; createKey(scopes: string): Promise<string> }) => {
    const nodeKey = await target.createKey('node:register');
    const registered = await fetch(`${target.url}/v0/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        machine_name: 'fake',
        ip_address: '127.0.0.1',
        runtime_port: 0,
        base_url: fake.url,
        gpu_available: true,
        gpu_devices: [{ model: 'bench', count: 1 }],
        models: [{ id: 'fake', ready: true }],
      }),
    });
    if (registered.status !== 201) throw new Error(`registration failed: ${registered.status}`);
    return target.createKey('api:inference');
  };
  const key = await register(router);
  const baselineKey = baseline ? await register(baseline) : null;

  const body = JSON.stringify({
    model: 'fake',
    messages: [{ role: 'user', content: 'hello' }],
    max_tokens: 8,
  });
  const paths: Array<{ name: string; url: string; headers: Record<string, string>; pid?: number }> = [
    { name: 'direct to the instant node', url: fake.url, headers: {} },
    { name: 'nginx proxy_pass, 1 worker', url: nginx.url, headers: {} },
    { name: 'Fastify + undici passthrough', url: passthrough.url, headers: {}, pid: passthrough.pid },
    {
      name: 'llm-router',
      url: router.url,
      headers: { authorization: `Bearer ${key}` },
      pid: router.child.pid,
    },
  ];
  if (baseline)
    paths.push({
      name: 'llm-router (baseline build)',
      url: baseline.url,
      headers: { authorization: `Bearer ${baselineKey}` },
      pid: baseline.child.pid,
    });
  const results = new Map<string, WrkResult & { cpuUsPerRequest: number; mainUsPerRequest: number }>();
  let routedRequests = 0;
  let routedConnections = 0;
  for (const path of paths) {
    const warm = await runWrk(`${path.url}/v1/chat/completions`, {
      connections: 10,
      seconds: 1,
      body,
      headers: path.headers,
    });
    if (path.name === 'llm-router') {
      routedRequests += warm.requests;
      routedConnections += 10;
    }
  }
  type Measured = WrkResult & { cpuUsPerRequest: number; mainUsPerRequest: number };
  const rounds = new Map<string, Measured[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const connections of CONCURRENCY) {
      for (const path of paths) {
        const cpuBefore = cpuSeconds(path.pid);
        const mainBefore = cpuSeconds(path.pid, true);
        const r = await runWrk(`${path.url}/v1/chat/completions`, {
          connections,
          seconds,
          body,
          headers: path.headers,
        });
        const cpuUsPerRequest = ((cpuSeconds(path.pid) - cpuBefore) * 1e6) / r.requests;
        const mainUsPerRequest = ((cpuSeconds(path.pid, true) - mainBefore) * 1e6) / r.requests;
        const key = `${path.name}@${connections}`;
        rounds.set(key, [...(rounds.get(key) ?? []), { ...r, cpuUsPerRequest, mainUsPerRequest }]);
        if (path.name === 'llm-router') {
          routedRequests += r.requests;
          routedConnections += connections;
        }
        if (r.failures > 0)
          console.error(`${path.name} at c=${connections}: ${r.failures} failures (${r.failureKinds})`);
      }
    }
  }
  // Several rounds (BENCH_ROUNDS): each figure is the median over the rounds, failures the sum.
  for (const [key, measured] of rounds) {
    const median = (pick: (m: Measured) => number) => percentile(measured.map(pick), 50);
    results.set(key, {
      requests: measured.reduce((sum, m) => sum + m.requests, 0),
      rps: median((m) => m.rps),
      p50Ms: median((m) => m.p50Ms),
      p99Ms: median((m) => m.p99Ms),
      failures: measured.reduce((sum, m) => sum + m.failures, 0),
      failureKinds: [...new Set(measured.map((m) => m.failureKinds).filter(Boolean))].join(', '),
      cpuUsPerRequest: median((m) => m.cpuUsPerRequest),
      mainUsPerRequest: median((m) => m.mainUsPerRequest),
    });
  }

  await router.stop(); // SIGTERM: flushes the last history batch
  const db = await openDatabase(`sqlite:${router.dataDir}/router.db`);
  const [{ n }] = await db
    .selectFrom('request_history')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .execute();
  await db.destroy();
  const rows = Number(n);

  console.log(
    `\nwrk, 1 thread, ${seconds} s per path and concurrency${ROUNDS > 1 ? `, medians of ${ROUNDS} rounds` : ''}; chat completions to an instant fake node\n`,
  );
  console.log(
    '| path | c | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU µs/request | main thread µs/request | failures |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  let failures = 0;
  for (const c of CONCURRENCY) {
    const direct = results.get(`${paths[0].name}@${c}`) as WrkResult;
    for (const path of paths) {
      const r = results.get(`${path.name}@${c}`)!;
      failures += r.failures;
      const us = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '–');
      console.log(
        `| ${path.name} | ${c} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${(r.p50Ms - direct.p50Ms).toFixed(3)} | ${(r.p99Ms - direct.p99Ms).toFixed(3)} | ${us(r.cpuUsPerRequest)} | ${us(r.mainUsPerRequest)} | ${r.failures} |`,
      );
    }
  }
  /**
   * Two paths' figures paired round by round (each pair measured within a minute of each other,
   * so a slow spell of the machine falls on both): the median of the per-round comparisons and
   * their range. Steadier than comparing the two medians.
   */
  const paired = (
    name: string,
    reference: string,
    c: number,
    compare: (a: Measured, b: Measured) => number,
  ) => {
    const ours = rounds.get(`${name}@${c}`);
    const theirs = rounds.get(`${reference}@${c}`);
    if (!ours || !theirs) return null;
    const values = ours.map((m, i) => compare(m, theirs[i] as Measured));
    return { median: percentile(values, 50), min: Math.min(...values), max: Math.max(...values) };
  };
  const pairedText = (figure: ReturnType<typeof paired>, digits: number, unit = '') =>
    figure === null
      ? '–'
      : ROUNDS > 1
        ? `${figure.median.toFixed(digits)}${unit} (${figure.min.toFixed(digits)} to ${figure.max.toFixed(digits)})`
        : `${figure.median.toFixed(digits)}${unit}`;
  if (baseline) {
    const base = 'llm-router (baseline build)';
    console.log(
      `
This build against the baseline build, paired round by round${ROUNDS > 1 ? ` (median, and the range over ${ROUNDS} rounds)` : ''}:
`,
    );
    console.log(
      '| c | main thread µs/request, this ÷ baseline | req/s, this ÷ baseline | added p50, this − baseline |',
    );
    console.log('|---:|---:|---:|---:|');
    for (const c of CONCURRENCY) {
      const main = paired('llm-router', base, c, (a, b) => a.mainUsPerRequest / b.mainUsPerRequest);
      const rps = paired('llm-router', base, c, (a, b) => a.rps / b.rps);
      const p50 = paired('llm-router', base, c, (a, b) => a.p50Ms - b.p50Ms);
      console.log(
        `| ${c} | ${pairedText(main, 2, '×')} | ${pairedText(rps, 2, '×')} | ${pairedText(p50, 3, ' ms')} |`,
      );
    }
  }
  const get = (name: string, c: number) => results.get(`${name}@${c}`) as WrkResult | undefined;
  /** A goal's [measured, met] at concurrency `c`, or "not measured" (missed) when `c` was skipped. */
  const at = (c: number, figure: (router: WrkResult, reference: WrkResult) => [string, boolean]) => {
    const router = get('llm-router', c);
    const reference = get(c === 1 ? paths[0].name : paths[2].name, c);
    return router && reference ? figure(router, reference) : (['not measured', false] as [string, boolean]);
  };
  // wrk stops with requests in flight: those reach the router (and history) without being
  // counted by wrk, so up to one extra row per connection per run is expected.
  const historyComplete = rows >= routedRequests && rows <= routedRequests + routedConnections;
  const goals = [
    [
      `added p50 at c=1 ≤ ${GOALS.addedP50AtC1Ms} ms`,
      ...at(1, (router, direct) => {
        const added = router.p50Ms - direct.p50Ms;
        return [`${added.toFixed(3)} ms`, added <= GOALS.addedP50AtC1Ms];
      }),
    ],
    [
      `p99 at c=64 ≤ ${GOALS.p99AtC64VsFloor}× passthrough`,
      ...at(64, (router, floor) => {
        const ratio = router.p99Ms / floor.p99Ms;
        return [`${ratio.toFixed(2)}×`, ratio <= GOALS.p99AtC64VsFloor];
      }),
    ],
    [
      `req/s at c=10 ≥ ${GOALS.rpsAtC10VsFloor}× passthrough`,
      ...at(10, (router, floor) => {
        const ratio = router.rps / floor.rps;
        const perRound = paired('llm-router', paths[2].name, 10, (a, b) => a.rps / b.rps);
        const spread = ROUNDS > 1 && perRound ? `; per round ${pairedText(perRound, 2, '×')}` : '';
        return [`${ratio.toFixed(2)}×${spread}`, ratio >= GOALS.rpsAtC10VsFloor];
      }),
    ],
    ['every answer a 2xx', `${failures} failures`, failures === 0],
    [
      'history rows = routed requests',
      `${rows} rows, ${routedRequests} requests (+≤${routedConnections} in flight at wrk's stop)`,
      historyComplete,
    ],
  ] as const;
  console.log('\n| goal | measured | met |\n|---|---|---|');
  for (const [goal, measured, met] of goals)
    console.log(`| ${goal} | ${measured} | ${met ? 'yes' : '**no**'} |`);

  await baseline?.stop();
  passthrough.stop();
  await nginx.stop();
  await fake.close();
  await stopAll();
  if (goals.some(([, , met]) => !met)) process.exitCode = 1;
}

main().catch(async (error) => {
  console.error(error);
  await stopAll();
  process.exit(1);
});
