/**
 * What the router adds to a request: sequential chat completions with a short generation,
 * sent directly to a node and through the router to that same node, interleaved so background
 * load hits both alike. Two backends:
 *   - a real llm-node running stories260K (1 thread), max_tokens 8, temperature 0;
 *   - an instant fake node that answers a canned reply, which isolates the router's own cost.
 * Reports medians and p90 of per-request latency, and the router's added median.
 *
 *   npx tsx bench/router-latency.ts                 # 300 requests per path and backend
 *   BENCH_REQUESTS=1000 npx tsx bench/router-latency.ts
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { loadNodeConfig } from '../packages/node/src/config/config.js';
import { startNode } from '../packages/node/src/main.js';
import { loadRouterConfig } from '../packages/router/src/config/config.js';
import { startRouter } from '../packages/router/src/main.js';
import { createRouterLogging } from '../packages/router/src/observability/logger.js';
import { percentile, startInstantNode } from './support/instant-node.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modelPath = resolve(repoRoot, '../shared/models/stories260K.gguf');
const requests = Number(process.env.BENCH_REQUESTS ?? 300);

async function timeOne(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const started = performance.now();
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
  return performance.now() - started;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'llm-router-bench-'));
  mkdirSync(join(dir, 'models'));
  copyFileSync(modelPath, join(dir, 'models', 'stories260K.gguf'));
  const logging = createRouterLogging({ level: 'warn', console: null });
  const router = await startRouter(
    loadRouterConfig({
      LLM_ROUTER_HOST: '127.0.0.1',
      LLM_ROUTER_PORT: '0',
      LLM_ROUTER_DATA_DIR: join(dir, 'router'),
      LLM_ROUTER_ADMIN_PASSWORD: 'bench-password',
      LLM_ROUTER_ALLOW_NO_GPU: 'true',
    }),
    logging,
  );
  const nodeKey = (await router.apiKeys.create({ name: 'bench node', scopes: ['node:register'] })).key;
  const apiKey = (await router.apiKeys.create({ name: 'bench client', scopes: ['api:inference'] })).key;
  const node = await startNode({
    ...loadNodeConfig({
      LLM_ROUTER_URL: router.url,
      LLM_NODE_API_KEY: nodeKey,
      LLM_NODE_PORT: '0',
      LLM_NODE_BIND_ADDRESS: '127.0.0.1',
      LLM_NODE_IP: '127.0.0.1',
      LLM_NODE_MODELS_DIR: join(dir, 'models'),
      LLM_NODE_STATE_DIR: join(dir, 'node'),
      LLM_NODE_LOG_DIR: join(dir, 'node-logs'),
      LLM_NODE_THREADS: '1',
      LLM_NODE_HEARTBEAT_SECS: '1',
      LLM_ALLOW_NO_GPU: 'true',
      LLM_NODE_LOG_LEVEL: 'warn',
    }),
    logToStdout: false,
  });
  const fake = await startInstantNode();
  await router.registry.register(
    {
      machine_name: 'fake',
      ip_address: '127.0.0.1',
      runtime_version: 'bench',
      runtime_port: 0,
      base_url: fake.url,
      gpu_available: true,
      gpu_devices: [{ model: 'bench', count: 1 }],
      supported_runtimes: [],
      models: [{ id: 'fake', ready: true }],
    },
    undefined,
  );
  while (router.registry.candidatesFor('stories260K').length === 0)
    await new Promise((r) => setTimeout(r, 50));

  const auth = { authorization: `Bearer ${apiKey}` };
  const backends = [
    { name: 'llm-node, stories260K, max_tokens 8', direct: node.url, model: 'stories260K' },
    { name: 'instant fake node', direct: fake.url, model: 'fake' },
  ];
  const rows: string[] = [];
  for (const backend of backends) {
    const body = JSON.stringify({
      model: backend.model,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 8,
      temperature: 0,
    });
    const direct = `${backend.direct}/v1/chat/completions`;
    const routed = `${router.url}/v1/chat/completions`;
    for (let i = 0; i < 20; i++) {
      await timeOne(direct, {}, body);
      await timeOne(routed, auth, body);
    }
    const directMs: number[] = [];
    const routedMs: number[] = [];
    for (let i = 0; i < requests; i++) {
      directMs.push(await timeOne(direct, {}, body));
      routedMs.push(await timeOne(routed, auth, body));
    }
    const d50 = percentile(directMs, 50);
    const r50 = percentile(routedMs, 50);
    rows.push(
      `| ${backend.name} | ${d50.toFixed(2)} | ${r50.toFixed(2)} | ${(r50 - d50).toFixed(2)} | ${(r50 / d50).toFixed(2)}× | ${percentile(directMs, 90).toFixed(2)} | ${percentile(routedMs, 90).toFixed(2)} |`,
    );
  }
  console.log(`\n${requests} sequential requests per path, interleaved; latency in ms\n`);
  console.log('| backend | direct p50 | via router p50 | added p50 | ratio | direct p90 | via router p90 |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);

  await node.close();
  await fake.close();
  await router.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
