/**
 * Throughput under concurrent load, checking that every answer is a 2xx: chat completions
 * against an instant fake node, directly and through the router (auth, balancing over two
 * nodes, history recording all on), with the same client and concurrency. The router runs as
 * its own process (the built `llm-router`, as in production); the client and the fake nodes
 * share this process. Reports requests/s, p50 and p99, and the non-2xx count (must be 0).
 *
 *   npx tsx bench/router-load.ts                        # 10 concurrent, 5 s per path
 *   BENCH_CONCURRENCY=32 BENCH_SECONDS=10 npx tsx bench/router-load.ts
 */
import { Agent, request } from 'undici';
import { openDatabase } from '../packages/router/src/store/database.js';
import { startRouterProcess, stopAll } from '../test/support/processes.js';
import { percentile, startInstantNode } from './support/instant-node.js';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

async function load(url: string, headers: Record<string, string>, body: string) {
  const dispatcher = new Agent({ connections: concurrency });
  const latencies: number[] = [];
  let non2xx = 0;
  const deadline = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        dispatcher,
      });
      await res.body.text();
      latencies.push(performance.now() - started);
      if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await dispatcher.close();
  return {
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    non2xx,
  };
}

async function main() {
  // BENCH_ROUTER_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, profiles the router.
  const nodeArgs = (process.env.BENCH_ROUTER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const router = await startRouterProcess({ LLM_ROUTER_LOG_LEVEL: 'warn' }, undefined, nodeArgs);
  const nodeKey = await router.createKey('node:register');
  const key = await router.createKey('api:inference');
  const nodes = [await startInstantNode(), await startInstantNode()];
  for (const node of nodes) {
    const res = await fetch(`${router.url}/v0/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        machine_name: 'fake',
        ip_address: '127.0.0.1',
        runtime_port: 0,
        base_url: node.url,
        gpu_available: true,
        gpu_devices: [{ model: 'bench', count: 1 }],
        models: [{ id: 'fake', ready: true }],
      }),
    });
    if (res.status !== 201) throw new Error(`registration failed: ${res.status}`);
  }
  const body = JSON.stringify({
    model: 'fake',
    messages: [{ role: 'user', content: 'hello' }],
    max_tokens: 8,
  });
  const auth = { authorization: `Bearer ${key}` };

  await load(`${nodes[0].url}/v1/chat/completions`, {}, body); // warm-up
  const warmUp = await load(`${router.url}/v1/chat/completions`, auth, body);
  const direct = await load(`${nodes[0].url}/v1/chat/completions`, {}, body);
  const routed = await load(`${router.url}/v1/chat/completions`, auth, body);
  await router.stop(); // SIGTERM: flushes the history batch
  const db = await openDatabase(`sqlite:${router.dataDir}/router.db`);
  const [{ n }] = await db
    .selectFrom('request_history')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .execute();
  await db.destroy();

  console.log(
    `\n${concurrency} concurrent clients, ${seconds} s per path, chat completions to an instant fake node\n`,
  );
  console.log('| path | requests | req/s | p50 ms | p99 ms | non-2xx |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, r] of [
    ['direct to one fake node', direct],
    ['via the router (2 nodes)', routed],
  ] as const) {
    console.log(
      `| ${name} | ${r.requests} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.non2xx} |`,
    );
  }
  const routedTotal = warmUp.requests + routed.requests;
  console.log(`\nHistory rows written: ${Number(n)} for ${routedTotal} routed requests (warm-up included)`);

  for (const node of nodes) await node.close();
  await stopAll();
  if (direct.non2xx + routed.non2xx + warmUp.non2xx > 0 || Number(n) !== routedTotal) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
