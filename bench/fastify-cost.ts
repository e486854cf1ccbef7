/**
 * What Fastify costs the router a request: three passthroughs to the same instant fake node,
 * driven by wrk at concurrency 10 in interleaved rounds, each with its main thread's CPU time
 * per request (from /proc):
 *   - bare `node:http` + undici (bench/support/bare-passthrough.ts),
 *   - the minimal Fastify passthrough bench/overhead.ts compares the router with,
 *   - Fastify with the router's hook layout (bench/support/hooked-passthrough.ts).
 * The differences to the bare row, paired round by round and given as medians, bound what
 * taking the inference routes off Fastify's request path could save. A diagnostic with no
 * goal: it exits non-zero only when a request fails.
 *
 *   npx tsx bench/fastify-cost.ts
 *   BENCH_ROUNDS=9 BENCH_SECONDS=4 npx tsx bench/fastify-cost.ts
 */
import { fileURLToPath } from 'node:url';
import { percentile, startInstantNode } from './support/instant-node.js';
import { cpuSeconds } from './support/process-cpu.js';
import { type SpawnedServer, spawnServer } from './support/spawn-server.js';
import { runWrk } from './support/wrk.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 7));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = 10;

/** A passthrough script in bench/support/, in a process of its own, forwarding to `upstream`. */
async function startPassthrough(name: string, script: string, upstream: string) {
  const server = await spawnServer(fileURLToPath(new URL(`./support/${script}`, import.meta.url)), [
    upstream,
  ]);
  return { name, ...server };
}

const fake = await startInstantNode();
const servers = [
  await startPassthrough('bare node:http + undici', 'bare-passthrough.ts', fake.url),
  await startPassthrough('Fastify + undici (overhead.ts floor)', 'passthrough.ts', fake.url),
  await startPassthrough('Fastify, router hook layout', 'hooked-passthrough.ts', fake.url),
];
const body = JSON.stringify({ model: 'fake', messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 });
const target = (server: SpawnedServer) => `${server.url}/v1/chat/completions`;
for (const server of servers) await runWrk(target(server), { connections: CONNECTIONS, seconds: 2, body });

const measured = servers.map(() => ({ rps: [] as number[], mainUs: [] as number[] }));
let failures = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, server] of servers.entries()) {
    const before = cpuSeconds(server.pid, true);
    const r = await runWrk(target(server), { connections: CONNECTIONS, seconds: SECONDS, body });
    measured[i].rps.push(r.rps);
    measured[i].mainUs.push(((cpuSeconds(server.pid, true) - before) * 1e6) / r.requests);
    failures += r.failures;
  }
}

console.log(
  `\nwrk, 1 thread, c=${CONNECTIONS}, ${SECONDS} s a row, medians of ${ROUNDS} interleaved rounds\n`,
);
console.log('| passthrough | req/s | main thread µs/request | more than bare, µs/request (paired median) |');
console.log('|---|---:|---:|---:|');
for (const [i, server] of servers.entries()) {
  const paired = measured[i].mainUs.map((us, round) => us - measured[0].mainUs[round]);
  console.log(
    `| ${server.name} | ${percentile(measured[i].rps, 50).toFixed(0)} | ${percentile(measured[i].mainUs, 50).toFixed(0)} | ${i === 0 ? '–' : percentile(paired, 50).toFixed(0)} |`,
  );
}
console.log(`\n${failures} failed requests`);
for (const server of servers) await server.close();
await fake.close();
if (failures > 0) process.exitCode = 1;
