/**
 * Streaming through the router (its own process, `llm-router serve`, auth and history on):
 *   1. Added time to first byte: sequential streamed chat completions to a fake node that
 *      sends its role chunk at once, direct and via the router, interleaved, after 2,000 warm-up
 *      rounds (BENCH_WARMUP). Goal: ≤ 1 ms at p50.
 *   2. 1,000 concurrent slow streams (a chunk every 200 ms, 20 chunks) through one router: the
 *      router's peak RSS (goal ≤ 200 MB), every stream complete, and no stream stalled by
 *      another (the longest gap between two chunks of any stream stays under 1 s, five
 *      intervals).
 * The client runs in this process, each fake node in its own. Exits non-zero when a goal is missed.
 *
 *   npx tsx bench/streaming.ts
 *   BENCH_STREAMS=500 BENCH_REQUESTS=500 BENCH_WARMUP=2000 npx tsx bench/streaming.ts
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { startRouterProcess, stopAll } from '../test/support/processes.js';
import { percentile } from './support/instant-node.js';
import { spawnStreamingNode } from './support/streaming-node.js';

const GOALS = { addedTtfbMs: 1, rssMb: 200, maxGapMs: 1000 };
const requests = Number(process.env.BENCH_REQUESTS ?? 300);
const warmup = Number(process.env.BENCH_WARMUP ?? 2000);
const streams = Number(process.env.BENCH_STREAMS ?? 1000);
const SLOW = { chunks: 20, intervalMs: 200 };
const bodyFor = (model: string) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], stream: true });

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

async function register(routerUrl: string, nodeKey: string, baseUrl: string, model: string) {
  const res = await fetch(`${routerUrl}/v0/nodes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      machine_name: model,
      ip_address: '127.0.0.1',
      runtime_port: 0,
      base_url: baseUrl,
      gpu_available: true,
      gpu_devices: [{ model: 'bench', count: 1 }],
      models: [{ id: model, ready: true }],
    }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status}`);
}

/** Opens one stream; returns its time to first byte, the longest gap between chunks, and status. */
async function stream(url: string, model: string, headers: Record<string, string>, dispatcher: Agent) {
  const started = performance.now();
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: bodyFor(model),
    dispatcher,
  });
  let ttfb = Number.NaN;
  let last = started;
  let maxGap = 0;
  let text = '';
  for await (const chunk of res.body) {
    const now = performance.now();
    if (Number.isNaN(ttfb)) ttfb = now - started;
    else maxGap = Math.max(maxGap, now - last);
    last = now;
    text += chunk;
  }
  return { status: res.statusCode, ttfb, maxGap, complete: text.includes('data: [DONE]') };
}

async function main() {
  // The fake nodes run in processes of their own, like real nodes (see streaming-node.ts).
  const fast = await spawnStreamingNode({ chunks: 8, intervalMs: 0 });
  const slow = await spawnStreamingNode(SLOW);
  // The fake nodes never heartbeat: keep them online for the whole run.
  const router = await startRouterProcess({ LLM_ROUTER_LOG_LEVEL: 'warn', LLM_ROUTER_NODE_TIMEOUT: '3600' });
  const nodeKey = await router.createKey('node:register');
  const auth = { authorization: `Bearer ${await router.createKey('api:inference')}` };
  await register(router.url, nodeKey, fast.url, 'fast');
  await register(router.url, nodeKey, slow.url, 'slow');

  // 1. Added TTFB, one stream at a time, on a warm router: V8 optimises the request path only
  // after a few thousand requests, and until then every process here (client, router, node)
  // runs slower code. Cold start has its own benchmark (cold-start.ts).
  const one = new Agent({ connections: 1 });
  const direct: number[] = [];
  const routed: number[] = [];
  for (let i = 0; i < warmup; i++) {
    await stream(`${fast.url}/v1/chat/completions`, 'fast', {}, one);
    await stream(`${router.url}/v1/chat/completions`, 'fast', auth, one);
  }
  for (let i = 0; i < requests; i++) {
    direct.push((await stream(`${fast.url}/v1/chat/completions`, 'fast', {}, one)).ttfb);
    routed.push((await stream(`${router.url}/v1/chat/completions`, 'fast', auth, one)).ttfb);
  }
  await one.close();
  const addedTtfb = percentile(routed, 50) - percentile(direct, 50);

  // 2. Many slow streams at once.
  const pid = router.child.pid as number;
  const rssBefore = rssMb(pid);
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 50);
  const many = new Agent({ connections: streams });
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: streams }, () => stream(`${router.url}/v1/chat/completions`, 'slow', auth, many)),
  );
  const wall = performance.now() - started;
  clearInterval(sampler);
  await many.close();
  const failed = results.filter((r) => r.status !== 200 || !r.complete).length;
  const maxGap = Math.max(...results.map((r) => r.maxGap));

  console.log('\nStreaming through `llm-router serve` (auth, history on) to a fake node\n');
  console.log('| measure | value | goal | met |\n|---|---:|---|---|');
  const rows: Array<[string, string, string, boolean]> = [
    [
      `added TTFB, p50 of ${requests} (direct ${percentile(direct, 50).toFixed(2)} ms, routed ${percentile(routed, 50).toFixed(2)} ms)`,
      `${addedTtfb.toFixed(3)} ms`,
      `≤ ${GOALS.addedTtfbMs} ms`,
      addedTtfb <= GOALS.addedTtfbMs,
    ],
    [
      `router peak RSS, ${streams} concurrent streams (${rssBefore.toFixed(0)} MB before)`,
      `${peak.toFixed(0)} MB`,
      `≤ ${GOALS.rssMb} MB`,
      peak <= GOALS.rssMb,
    ],
    [
      `longest gap between two chunks of any stream (node sends every ${SLOW.intervalMs} ms; all done in ${(wall / 1000).toFixed(1)} s)`,
      `${maxGap.toFixed(0)} ms`,
      `< ${GOALS.maxGapMs} ms`,
      maxGap < GOALS.maxGapMs,
    ],
    [`streams not complete or not 200`, String(failed), '0', failed === 0],
  ];
  for (const [name, value, goal, met] of rows)
    console.log(`| ${name} | ${value} | ${goal} | ${met ? 'yes' : '**no**'} |`);

  await fast.close();
  await slow.close();
  await stopAll();
  if (rows.some(([, , , met]) => !met)) process.exitCode = 1;
}

main().catch(async (error) => {
  console.error(error);
  await stopAll();
  process.exit(1);
});
