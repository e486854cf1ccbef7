/**
 * Fleet scale: 1,000 simulated nodes registered with one router (`llm-router serve`), all
 * serving the same model through one instant fake backend, while the client sends chat
 * completions at a fixed rate (default 2,000 req/s) for twice BENCH_SECONDS, in one-second
 * windows: every other window has every node heartbeating every 10 s (100 heartbeats/s), and
 * each request counts in the window it was sent in. Then heartbeats alone. Reports:
 *   - node selection p99, read from each response's `Server-Timing: select` (goal < 50 µs);
 *   - request p99 in the windows without and with heartbeats (goal: heartbeats add ≤ 1 ms),
 *     and the p99s of two halves of the windows without: their spread is the noise of the
 *     comparison. Alternating windows put the machine's drift on both samples alike; two
 *     phases one after the other differed by tens of ms either way. What remains is the tail
 *     of a small shared machine: a p99 at 2,000 req/s is set by a few scheduling stalls of
 *     10–40 ms (the router's own GC pauses stay under 8 ms; run with `--trace-gc` to see);
 *   - the router's main-thread CPU per heartbeat, from heartbeats alone (at ten times the
 *     rate, for CPU-tick resolution): a request can wait behind at most the heartbeats being
 *     handled when it arrives, so this bounds what heartbeats add to its latency far more
 *     steadily than the p99 difference;
 *   - the rate actually achieved, and non-2xx answers (must be 0).
 * Exits non-zero when a goal is missed.
 *
 *   npx tsx bench/fleet-scale.ts
 *   BENCH_NODES=200 BENCH_RATE=500 BENCH_SECONDS=5 npx tsx bench/fleet-scale.ts
 */
import { Agent, request } from 'undici';
import { startRouterProcess, stopAll } from '../test/support/processes.js';
import { percentile, spawnInstantNode } from './support/instant-node.js';
import { cpuSeconds } from './support/process-cpu.js';

const nodeCount = Number(process.env.BENCH_NODES ?? 1000);
const rate = Number(process.env.BENCH_RATE ?? 2000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const HEARTBEAT_SECS = 10;
const GOALS = { selectP99Us: 50, heartbeatP99AddedMs: 1 };

const body = JSON.stringify({ model: 'fake', messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 });

async function main() {
  // The backend runs in a process of its own, like a real node: in this process it shared the
  // client's event loop, and its work showed up in every request's latency.
  const backend = await spawnInstantNode();
  const router = await startRouterProcess({ LLM_ROUTER_LOG_LEVEL: 'warn', LLM_ROUTER_NODE_TIMEOUT: '600' });
  const nodeKey = await router.createKey('node:register');
  const auth = { authorization: `Bearer ${await router.createKey('api:inference')}` };
  const dispatcher = new Agent({ connections: 256 });

  const nodes: Array<{ id: string; token: string }> = [];
  for (let i = 0; i < nodeCount; i++) {
    const res = await request(`${router.url}/v0/nodes`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        machine_name: `sim-${i}`,
        ip_address: '127.0.0.1',
        runtime_port: 0,
        base_url: backend.url,
        gpu_available: true,
        gpu_devices: [{ model: 'bench', count: 1 }],
        models: [{ id: 'fake', ready: true }],
      }),
    });
    const reply = (await res.body.json()) as { node_id: string; node_token: string };
    if (res.statusCode !== 201) throw new Error(`registration ${i} failed: ${res.statusCode}`);
    nodes.push({ id: reply.node_id, token: reply.node_token });
  }

  let heartbeatFailures = 0;
  const heartbeat = async (node: { id: string; token: string }) => {
    const res = await request(`${router.url}/v0/health`, {
      method: 'POST',
      dispatcher,
      headers: {
        authorization: `Bearer ${nodeKey}`,
        'x-node-token': node.token,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        node_id: node.id,
        cpu_usage: 10 + Math.random() * 50,
        memory_usage: 40,
        active_requests: Math.floor(Math.random() * 3),
        loaded_models: ['fake'],
        initializing: false,
      }),
    });
    await res.body.dump();
    if (res.statusCode !== 200) heartbeatFailures++;
  };

  type Sample = { latencies: number[]; selectUs: number[]; non2xx: number };
  const sample = (): Sample => ({ latencies: [], selectUs: [], non2xx: 0 });
  const summary = (s: Sample, wall: number) => ({
    achieved: s.latencies.length / wall,
    p50: percentile(s.latencies, 50),
    p99: percentile(s.latencies, 99),
    selectP50: percentile(s.selectUs, 50),
    selectP99: percentile(s.selectUs, 99),
    non2xx: s.non2xx,
  });

  /**
   * Sends requests (unless `requests` is false) for `seconds`, and heartbeats at
   * `beatsPerNodeCycle` × the nodes' rate while `beating(second)` says so. Each request counts
   * towards the sample of the window it was sent in (heartbeats on or off).
   */
  async function phase(
    beating: (second: number) => boolean,
    { requests = true, beatsPerNodeCycle = 1, length = seconds } = {},
  ) {
    const on = sample();
    const off = sample();
    // The windows without heartbeats once more, in two halves (every other such window): how
    // far apart two samples of the same condition land says how much of on − off is noise.
    const offHalves = [sample(), sample()] as const;
    let onSeconds = 0;
    const inFlight = new Set<Promise<void>>();
    const one = async (samples: Sample[]) => {
      const started = performance.now();
      const res = await request(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', ...auth },
        body,
      });
      await res.body.dump();
      const latency = performance.now() - started;
      const timing = String(res.headers['server-timing'] ?? '');
      const select = /select;dur=([\d.]+)/.exec(timing);
      for (const into of samples) {
        into.latencies.push(latency);
        if (res.statusCode < 200 || res.statusCode > 299) into.non2xx++;
        if (select) into.selectUs.push(Number(select[1]) * 1000);
      }
    };
    const mainCpuBefore = cpuSeconds(router.child.pid, true);
    const start = performance.now();
    let sent = 0;
    let beats = 0;
    let beatClock = 0;
    let last = 0;
    const beatRate = (beatsPerNodeCycle * nodeCount) / HEARTBEAT_SECS;
    while (performance.now() - start < length * 1000) {
      const elapsed = (performance.now() - start) / 1000;
      const beatingNow = beating(Math.floor(elapsed));
      // Heartbeats keep their rate within the windows that have them.
      if (beatingNow) {
        beatClock += elapsed - last;
        onSeconds += elapsed - last;
      }
      last = elapsed;
      const half = offHalves[Math.floor(elapsed / 2) % 2];
      for (; requests && sent < elapsed * rate; sent++) {
        const p = one(beatingNow ? [on] : [off, half]).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      for (; beatingNow && beats < beatClock * beatRate; beats++) {
        const p = heartbeat(nodes[beats % nodes.length]).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inFlight);
    const wall = (performance.now() - start) / 1000;
    return {
      mainCpuSeconds: cpuSeconds(router.child.pid, true) - mainCpuBefore,
      on: summary(on, onSeconds),
      off: summary(off, wall - onSeconds),
      offHalves: offHalves.map((h) => summary(h, (wall - onSeconds) / 2)),
      beats,
    };
  }

  await phase(() => false); // warm-up
  // One-second windows with and without heartbeats, alternating: the machine's drift (GC
  // state, neighbours, the client's own pace) falls on both samples alike, which two phases
  // one after the other did not allow (their p99s differed by tens of ms either way).
  const mixed = await phase((second) => second % 2 === 1, { length: 2 * seconds });
  const quiet = mixed.off;
  const busy = mixed.on;
  const beatsOnly = await phase(() => true, { requests: false, beatsPerNodeCycle: 10 });
  const added = busy.p99 - quiet.p99;
  const sameConditionSpread = Math.abs(mixed.offHalves[0].p99 - mixed.offHalves[1].p99);
  const mainUsPerHeartbeat = (beatsOnly.mainCpuSeconds * 1e6) / Math.max(1, beatsOnly.beats);

  console.log(`\n${nodeCount} simulated nodes, target ${rate} req/s, ${seconds} s per phase\n`);
  console.log(
    `${2 * seconds} s of requests in one-second windows, heartbeats in every other one; each request counted in the window it was sent in\n`,
  );
  console.log('| windows | achieved req/s | p50 ms | p99 ms | select p50 µs | select p99 µs | non-2xx |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of [
    ['no heartbeats', quiet],
    [`heartbeats every ${HEARTBEAT_SECS} s (${mixed.beats} sent)`, busy],
    ['no heartbeats, first half', mixed.offHalves[0]],
    ['no heartbeats, second half', mixed.offHalves[1]],
  ] as const)
    console.log(
      `| ${name} | ${r.achieved.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.selectP50.toFixed(1)} | ${r.selectP99.toFixed(1)} | ${r.non2xx} |`,
    );
  console.log(
    `\np99 with heartbeats − without: ${added.toFixed(2)} ms; between the two halves without: ${sameConditionSpread.toFixed(2)} ms ` +
      `(a difference within that spread is this machine's noise, not the heartbeats)`,
  );
  console.log(
    `router main thread per heartbeat (${beatsOnly.beats} heartbeats alone, ${(10 * nodeCount) / HEARTBEAT_SECS}/s): ` +
      `${mainUsPerHeartbeat.toFixed(0)} µs (CPU ticks are 10 ms: ±${((0.01 * 1e6) / Math.max(1, beatsOnly.beats)).toFixed(0)} µs)`,
  );
  const goals: Array<[string, string, boolean]> = [
    [
      `select p99 < ${GOALS.selectP99Us} µs`,
      `${busy.selectP99.toFixed(1)} µs`,
      busy.selectP99 < GOALS.selectP99Us,
    ],
    [
      `heartbeats add ≤ ${GOALS.heartbeatP99AddedMs} ms to request p99`,
      sameConditionSpread > GOALS.heartbeatP99AddedMs
        ? `unreadable: ${added.toFixed(2)} ms, with ${sameConditionSpread.toFixed(2)} ms between two samples without`
        : `${added.toFixed(2)} ms`,
      // A difference inside the noise proves nothing either way: not met until it can be read.
      added <= GOALS.heartbeatP99AddedMs && sameConditionSpread <= GOALS.heartbeatP99AddedMs,
    ],
    [
      'every answer a 2xx, every heartbeat a 200',
      `${quiet.non2xx + busy.non2xx} / ${heartbeatFailures}`,
      quiet.non2xx + busy.non2xx + heartbeatFailures === 0,
    ],
    [
      `achieved the target rate (≥ 95 % of ${rate})`,
      `${busy.achieved.toFixed(0)} req/s`,
      busy.achieved >= 0.95 * rate,
    ],
  ];
  console.log('\n| goal | measured | met |\n|---|---|---|');
  for (const [goal, measured, met] of goals)
    console.log(`| ${goal} | ${measured} | ${met ? 'yes' : '**no**'} |`);

  await dispatcher.close();
  await backend.close();
  await stopAll();
  if (goals.some(([, , met]) => !met)) process.exitCode = 1;
}

main().catch(async (error) => {
  console.error(error);
  await stopAll();
  process.exit(1);
});
