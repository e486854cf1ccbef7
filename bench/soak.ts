/**
 * Soak: mixed traffic through a real router process for a long time (30 minutes by default),
 * sampling the router's RSS and open file descriptors, to catch slow leaks and latency drift
 * that short benchmarks miss. Traffic mixes non-streamed and streamed chat, embeddings, model
 * listings, management reads, bad requests (400/401/404) and requests from a rate-limited key
 * (429s), against two instant fake nodes (one streams).
 * Goal: RSS and fd growth < 10 % after the warm-up, p99 of the last window within 1.5× the
 * first's. Exits 1 when a goal is missed or a request got an unexpected status.
 *
 *   npx tsx bench/soak.ts                                   # 30 min, 8 concurrent
 *   SOAK_MINUTES=2 SOAK_CONCURRENCY=4 npx tsx bench/soak.ts # a short check
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { startRouterProcess, stopAll } from '../test/support/processes.js';
import { percentile } from './support/instant-node.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 30);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 8);
/** Samples taken over the run; the first fifth is the warm-up. */
const SAMPLES = 20;

/** A fake node answering chat (JSON or SSE) and embeddings at once. */
function startFakeNode(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString() || '{}');
      if (req.url === '/v1/embeddings') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            object: 'list',
            data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
            usage: { prompt_tokens: 2, total_tokens: 2 },
          }),
        );
        return;
      }
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const base = { id: 'c', object: 'chat.completion.chunk', created: 0, model: body.model };
        for (const content of ['hel', 'lo'])
          res.write(
            `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`,
          );
        res.write(
          `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`,
        );
        res.end('data: [DONE]\n\n');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id: 'c',
          object: 'chat.completion',
          created: 0,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      );
    });
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () =>
      ok({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

function sampleProcess(pid: number): { rssMb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMb: rssKb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
}

async function main() {
  const router = await startRouterProcess({ LLM_ROUTER_LOG_LEVEL: 'warn' });
  const pid = router.child.pid as number;
  const nodeKey = await router.createKey('node:register');
  const key = await router.createKey('api:inference');
  const admin = await router.createKey('admin:*');
  const nodes = [await startFakeNode(), await startFakeNode()];
  const registered: Array<{ node_id: string; node_token: string }> = [];
  for (const node of nodes) {
    const res = await fetch(`${router.url}/v0/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        machine_name: 'soak',
        ip_address: '127.0.0.1',
        runtime_port: 0,
        base_url: node.url,
        gpu_available: true,
        gpu_devices: [{ model: 'soak', count: 1 }],
        models: [{ id: 'soak', ready: true }],
      }),
    });
    if (res.status !== 201) throw new Error(`registration failed: ${res.status}`);
    registered.push((await res.json()) as { node_id: string; node_token: string });
  }
  // The fake nodes heartbeat like real ones (every 10 s), or they would go offline after 60 s.
  const beat = () =>
    Promise.all(
      registered.map((r) =>
        fetch(`${router.url}/v0/health`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${nodeKey}`,
            'x-node-token': r.node_token,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            node_id: r.node_id,
            cpu_usage: 10,
            memory_usage: 10,
            active_requests: 0,
            models: [{ id: 'soak', ready: true }],
            loaded_models: ['soak'],
          }),
        }).then((res) => res.text()),
      ),
    );
  await beat();
  const heartbeats = setInterval(() => void beat().catch(() => {}), 10_000);
  const limitedRes = await fetch(`${router.url}/v0/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'soak limited', scopes: ['api:inference'], limits: { rpm: 30 } }),
  });
  const limited = ((await limitedRes.json()) as { key: string }).key;

  const chat = JSON.stringify({ model: 'soak', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
  const stream = JSON.stringify({
    model: 'soak',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const mix: Array<{ method: string; path: string; body?: string; auth: string; ok: number[] }> = [
    { method: 'POST', path: '/v1/chat/completions', body: chat, auth: key, ok: [200] },
    { method: 'POST', path: '/v1/chat/completions', body: stream, auth: key, ok: [200] },
    {
      method: 'POST',
      path: '/v1/embeddings',
      body: JSON.stringify({ model: 'soak', input: 'x' }),
      auth: key,
      ok: [200],
    },
    { method: 'GET', path: '/v1/models', auth: key, ok: [200] },
    { method: 'GET', path: '/v0/dashboard/overview', auth: admin, ok: [200] },
    { method: 'POST', path: '/v1/chat/completions', body: '{"model":', auth: key, ok: [400] },
    { method: 'POST', path: '/v1/chat/completions', body: chat, auth: 'sk_wrong', ok: [401] },
    {
      method: 'POST',
      path: '/v1/chat/completions',
      body: chat.replace('"soak"', '"missing"'),
      auth: key,
      ok: [404],
    },
    { method: 'POST', path: '/v1/chat/completions', body: chat, auth: limited, ok: [200, 429] },
  ];

  const dispatcher = new Agent({ connections: concurrency });
  const durationMs = minutes * 60_000;
  const started = performance.now();
  const windows: number[][] = Array.from({ length: SAMPLES }, () => []);
  const samples: Array<{ rssMb: number; fds: number }> = [];
  let unexpected = 0;
  const unexpectedBy = new Map<string, number>();
  let total = 0;
  let i = 0;
  const sampler = setInterval(() => samples.push(sampleProcess(pid)), durationMs / SAMPLES);
  const worker = async () => {
    while (performance.now() - started < durationMs) {
      const op = mix[i++ % mix.length] as (typeof mix)[number];
      const t0 = performance.now();
      const res = await request(`${router.url}${op.path}`, {
        method: op.method as 'GET' | 'POST',
        headers: {
          authorization: `Bearer ${op.auth}`,
          ...(op.body ? { 'content-type': 'application/json' } : {}),
        },
        body: op.body,
        dispatcher,
      });
      await res.body.text();
      const window = Math.min(
        SAMPLES - 1,
        Math.floor(((performance.now() - started) / durationMs) * SAMPLES),
      );
      windows[window]?.push(performance.now() - t0);
      total++;
      if (!op.ok.includes(res.statusCode)) {
        unexpected++;
        const what = `${op.method} ${op.path} → ${res.statusCode}`;
        unexpectedBy.set(what, (unexpectedBy.get(what) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(sampler);
  clearInterval(heartbeats);
  samples.push(sampleProcess(pid));
  await dispatcher.close();

  const warm = Math.max(1, Math.floor(SAMPLES / 5));
  const base = samples[warm - 1] ?? samples[0];
  const last = samples.at(-1);
  if (!base || !last) throw new Error('no samples');
  const rssGrowth = (last.rssMb - base.rssMb) / base.rssMb;
  const fdGrowth = (last.fds - base.fds) / base.fds;
  const firstP99 = percentile(windows[warm] ?? [], 99);
  const lastP99 = percentile(windows.filter((w) => w.length > 0).at(-1) ?? [], 99);
  console.log(
    `\nSoak: ${minutes} min, ${concurrency} concurrent, ${total} requests, ${unexpected} unexpected statuses\n`,
  );
  for (const [what, n] of unexpectedBy) console.log(`unexpected: ${what} × ${n}`);
  console.log('| sample | RSS MB | open fds |');
  console.log('|---:|---:|---:|');
  for (const [n, s] of samples.entries()) console.log(`| ${n + 1} | ${s.rssMb.toFixed(1)} | ${s.fds} |`);
  console.log(
    `\nAfter warm-up (sample ${warm}): RSS ${(rssGrowth * 100).toFixed(1)} %, fds ${(fdGrowth * 100).toFixed(1)} %;` +
      ` p99 first window ${firstP99.toFixed(2)} ms, last ${lastP99.toFixed(2)} ms`,
  );
  await router.stop();
  for (const node of nodes) await node.close();
  await stopAll();
  const ok = unexpected === 0 && rssGrowth < 0.1 && fdGrowth < 0.1 && lastP99 <= firstP99 * 1.5 + 1;
  console.log(ok ? 'Goals met.' : 'GOAL MISSED.');
  if (!ok) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
