/**
 * Fleet scale: 1,000 simulated nodes registered with one router (`llm-router serve`), all
 * serving the same model through one instant fake backend, while the client sends chat
 * completions at a fixed rate (default 2,000 req/s). Two phases of equal length: without
 * heartbeats, then with every node heartbeating every 10 s (100 heartbeats/s); then a third
 * with heartbeats alone. Reports:
 *   - node selection p99, read from each response's `Server-Timing: select` (goal < 50 µs);
 *   - request p99 without and with heartbeats (goal: heartbeats add ≤ 1 ms);
 *   - the router's main-thread CPU per heartbeat, from a third phase of heartbeats alone (at
 *     ten times the rate, for CPU-tick resolution): a request can wait behind at most the
 *     heartbeats being handled when it arrives, so this bounds what heartbeats add to its
 *     latency far more steadily than the p99 difference, which on a small shared machine swings
 *     by tens of ms between runs (GC, the client's own event loop);
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

  /** Sends requests (unless `requests` is false) and heartbeats at `beatsPerNodeCycle` × the nodes' rate. */
  async function phase(withHeartbeats: boolean, { requests = true, beatsPerNodeCycle = 1 } = {}) {
    const latencies: number[] = [];
    const selectUs: number[] = [];
    let non2xx = 0;
    const inFlight = new Set<Promise<void>>();
    const one = async () => {
      const started = performance.now();
      const res = await request(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', ...auth },
        body,
      });
      await res.body.dump();
      latencies.push(performance.now() - started);
      if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
      const timing = String(res.headers['server-timing'] ?? '');
      const select = /select;dur=([\d.]+)/.exec(timing);
      if (select) selectUs.push(Number(select[1]) * 1000);
    };
    const mainCpuBefore = cpuSeconds(router.child.pid, true);
    const start = performance.now();
    let sent = 0;
    let beats = 0;
    const beatRate = (beatsPerNodeCycle * nodeCount) / HEARTBEAT_SECS;
    while (performance.now() - start < seconds * 1000) {
      const elapsed = (performance.now() - start) / 1000;
      for (; requests && sent < elapsed * rate; sent++) {
        const p = one().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (withHeartbeats)
        for (; beats < elapsed * beatRate; beats++) {
          const p = heartbeat(nodes[beats % nodes.length]).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inFlight);
    const wall = (performance.now() - start) / 1000;
    return {
      mainCpuSeconds: cpuSeconds(router.child.pid, true) - mainCpuBefore,
      achieved: latencies.length / wall,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      selectP50: percentile(selectUs, 50),
      selectP99: percentile(selectUs, 99),
      non2xx,
      beats,
    };
  }

  await phase(false); // warm-up
  const quiet = await phase(false);
  const busy = await phase(true);
  const beatsOnly = await phase(true, { requests: false, beatsPerNodeCycle: 10 });
  const added = busy.p99 - quiet.p99;
  const mainUsPerHeartbeat = (beatsOnly.mainCpuSeconds * 1e6) / Math.max(1, beatsOnly.beats);

  console.log(`\n${nodeCount} simulated nodes, target ${rate} req/s, ${seconds} s per phase\n`);
  console.log(
    '| phase | achieved req/s | p50 ms | p99 ms | select p50 µs | select p99 µs | non-2xx | heartbeats |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of [
    ['no heartbeats', quiet],
    [`heartbeats every ${HEARTBEAT_SECS} s`, busy],
  ] as const)
    console.log(
      `| ${name} | ${r.achieved.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.selectP50.toFixed(1)} | ${r.selectP99.toFixed(1)} | ${r.non2xx} | ${r.beats} |`,
    );
  console.log(
    `\nrouter main thread per heartbeat (${beatsOnly.beats} heartbeats alone, ${(10 * nodeCount) / HEARTBEAT_SECS}/s): ` +
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
      `${added.toFixed(2)} ms`,
      added <= GOALS.heartbeatP99AddedMs,
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
