/**
 * Prefix-cache-aware routing vs the other policies, on real llama.cpp nodes. A random-weights
 * model large enough for prefill to cost something (~21 M parameters, context 4096) is generated
 * with the project's own GGUF writer into a cache folder (not the repo); for each policy a fresh
 * router (`LLM_ROUTER_LOAD_BALANCER_MODE`) and fresh nodes (2 sequences each, 1 thread) run:
 *   (a) multi-turn chats: conversations in groups sharing a long system prompt, turns interleaved;
 *   (b) unique prompts (no reuse possible);
 *   (c) overload: more concurrent requests than sequences, absorbed by the router queue.
 * It prints one table per workload (TTFT and end-to-end p50/p95, throughput, cached-token ratio,
 * rejections), checks the goals and exits non-zero when one is missed.
 *
 *   npx tsx bench/cache-aware.ts
 *   BENCH_POLICIES=least_loaded,cache_aware BENCH_NODES=2 npx tsx bench/cache-aware.ts
 * Variables: BENCH_CACHE_DIR (model, default $TMPDIR/llm-router-bench), BENCH_NODES (2),
 * BENCH_GROUPS (4), BENCH_CONVERSATIONS (8), BENCH_TURNS (3), BENCH_PREFIX_WORDS (600, ~1 token
 * each), BENCH_UNIQUE (8), BENCH_OVERLOAD (16), BENCH_MAX_TOKENS (8). The defaults fit a shared
 * 2-core machine; the full size is BENCH_NODES=3 BENCH_CONVERSATIONS=16 BENCH_TURNS=6
 * BENCH_PREFIX_WORDS=1500 on a machine with a core per node.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { writeDemoModel } from '../packages/node/src/demo-model/demo-model.js';
import { startNodeProcess, startRouterProcess, stopAll, waitUntil } from '../test/support/processes.js';
import { type ChatMessage, randomWords, streamChat, type TimedReply } from './support/chat-stream.js';
import { percentile } from './support/instant-node.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const NODES = env('BENCH_NODES', 2);
const SEQUENCES = 2;
const GROUPS = env('BENCH_GROUPS', 4);
const CONVERSATIONS = env('BENCH_CONVERSATIONS', 8);
const TURNS = env('BENCH_TURNS', 3);
const PREFIX_WORDS = env('BENCH_PREFIX_WORDS', 600);
const UNIQUE = env('BENCH_UNIQUE', 8);
const OVERLOAD = env('BENCH_OVERLOAD', 16);
const MAX_TOKENS = env('BENCH_MAX_TOKENS', 8);
const QUEUE_TIMEOUT_S = 60;
const POLICIES = (process.env.BENCH_POLICIES ?? 'round_robin,least_loaded,auto,cache_aware').split(',');
const MODEL = 'bench-random';
const SHAPE = { embd: 512, heads: 8, headsKv: 8, ff: 1536, layers: 6, context: 4096 };

interface WorkloadResult {
  replies: TimedReply[];
  seconds: number;
  maxQueueWaitS?: number;
}

type PolicyResults = Record<'a' | 'b' | 'c', WorkloadResult>;

async function ensureModel(): Promise<string> {
  const dir = join(process.env.BENCH_CACHE_DIR ?? join(tmpdir(), 'llm-router-bench'), 'models');
  const path = join(dir, `${MODEL}.gguf`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const bytes = await writeDemoModel(path, { shape: SHAPE, seed: 4096 });
    console.error(`generated ${path} (${(bytes / 1e6).toFixed(0)} MB)`);
  }
  return dir;
}

/** Runs tasks with at most `concurrency` at once; a task may `add` follow-ups before it ends. */
function workPool(concurrency: number) {
  const queue: Array<() => Promise<void>> = [];
  let active = 0;
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const pump = () => {
    while (active < concurrency && queue.length > 0) {
      const task = queue.shift()!;
      active++;
      task().then(() => {
        active--;
        pump();
      }, settle.reject);
    }
    if (queue.length === 0 && active === 0) settle.resolve();
  };
  return {
    add(task: () => Promise<void>) {
      queue.push(task);
    },
    run() {
      pump();
      return done;
    },
  };
}

function progress(workload: string, done: number, total: number, reply: TimedReply) {
  console.error(
    `  (${workload}) ${done}/${total}: ${reply.status} ttft ${reply.ttftMs?.toFixed(0)} ms, cached ${reply.cachedTokens}/${reply.promptTokens}`,
  );
}

async function runPolicy(policy: string, modelsDir: string): Promise<PolicyResults> {
  const router = await startRouterProcess({
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    LLM_ROUTER_LOAD_BALANCER_MODE: policy,
    LLM_ROUTER_LOG_LEVEL: 'warn',
    LLM_ROUTER_QUEUE_MAX: '100',
    LLM_ROUTER_QUEUE_TIMEOUT: String(QUEUE_TIMEOUT_S),
  });
  const nodeKey = await router.createKey('node:register');
  const key = await router.createKey('api:inference');
  const admin = await router.createKey('admin:*');
  // One at a time: on a loaded machine, parallel llama.cpp start-ups can outlast the health wait.
  for (let i = 0; i < NODES; i++) {
    await startNodeProcess({
      routerUrl: router.url,
      apiKey: nodeKey,
      models: modelsDir,
      env: { LLM_NODE_PARALLEL: String(SEQUENCES), LLM_NODE_CONTEXT_SIZE: '4096' },
    });
  }
  const adminGet = async <T>(path: string) =>
    (await (
      await fetch(`${router.url}${path}`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as T;
  await waitUntil(
    async () => {
      const nodes = await adminGet<Array<{ status: string; models: Array<{ ready: boolean }> }>>('/v0/nodes');
      return nodes.filter((n) => n.status === 'online' && n.models.some((m) => m.ready)).length === NODES;
    },
    120_000,
    'nodes online with the model ready',
  );
  const dispatcher = new Agent({ connections: 256 });
  const chat = (messages: ChatMessage[]) =>
    streamChat(router.url, key, { model: MODEL, messages, max_tokens: MAX_TOKENS }, dispatcher);
  const capacity = NODES * SEQUENCES;

  // (a) conversations in groups sharing a system prompt; each turn follows the previous reply.
  const systems = Array.from(
    { length: GROUPS },
    (_, g) => `Group ${g} guide. ${randomWords(1000 + g, PREFIX_WORDS)}`,
  );
  const a: TimedReply[] = [];
  let started = performance.now();
  const conversations = workPool(capacity);
  const turn = (conversation: number, history: ChatMessage[], t: number) => async () => {
    const messages: ChatMessage[] = [
      ...history,
      { role: 'user', content: randomWords(conversation * 100 + t, 12) },
    ];
    const reply = await chat(messages);
    a.push(reply);
    progress('a', a.length, CONVERSATIONS * TURNS, reply);
    if (t + 1 < TURNS)
      conversations.add(turn(conversation, [...messages, { role: 'assistant', content: reply.text }], t + 1));
  };
  for (let c = 0; c < CONVERSATIONS; c++) {
    conversations.add(turn(c, [{ role: 'system', content: systems[c % GROUPS]! }], 0));
  }
  await conversations.run();
  const aSeconds = (performance.now() - started) / 1000;

  // (b) unique prompts of the same length: nothing to reuse.
  const b: TimedReply[] = [];
  started = performance.now();
  const unique = workPool(capacity);
  for (let i = 0; i < UNIQUE; i++) {
    unique.add(async () => {
      const reply = await chat([
        { role: 'user', content: `Unique ${i}. ${randomWords(50_000 + i, PREFIX_WORDS)}` },
      ]);
      b.push(reply);
      progress('b', b.length, UNIQUE, reply);
    });
  }
  await unique.run();
  const bSeconds = (performance.now() - started) / 1000;

  // (c) overload: everything at once, far more than the fleet's sequences.
  const before = await adminGet<{ queue: { wait_seconds_max: number } }>('/v0/dashboard/cache-routing');
  started = performance.now();
  const c = await Promise.all(
    Array.from({ length: OVERLOAD }, (_, i) =>
      chat([
        { role: 'user', content: `Burst ${i}. ${randomWords(90_000 + i, Math.round(PREFIX_WORDS / 4))}` },
      ]),
    ),
  );
  const cSeconds = (performance.now() - started) / 1000;
  const after = await adminGet<{ queue: { wait_seconds_max: number } }>('/v0/dashboard/cache-routing');
  await dispatcher.close();
  await stopAll();
  return {
    a: { replies: a, seconds: aSeconds },
    b: { replies: b, seconds: bSeconds },
    c: {
      replies: c,
      seconds: cSeconds,
      maxQueueWaitS: Math.max(before.queue.wait_seconds_max, after.queue.wait_seconds_max),
    },
  };
}

interface Row {
  ttft50: number;
  ttft95: number;
  e2e50: number;
  e2e95: number;
  rps: number;
  cachedRatio: number;
  rejections: number;
}

function summarise(w: WorkloadResult): Row {
  const ok = w.replies.filter((r) => r.status === 200);
  const ttft = ok.map((r) => r.ttftMs ?? r.e2eMs);
  const e2e = ok.map((r) => r.e2eMs);
  const prompt = ok.reduce((s, r) => s + r.promptTokens, 0);
  const cached = ok.reduce((s, r) => s + r.cachedTokens, 0);
  return {
    ttft50: percentile(ttft, 50),
    ttft95: percentile(ttft, 95),
    e2e50: percentile(e2e, 50),
    e2e95: percentile(e2e, 95),
    rps: ok.length / w.seconds,
    cachedRatio: prompt > 0 ? cached / prompt : 0,
    rejections: w.replies.length - ok.length,
  };
}

function printTable(title: string, rows: Array<[string, Row, string?]>) {
  console.log(`\n${title}\n`);
  console.log(
    '| policy | TTFT p50 ms | TTFT p95 ms | e2e p50 ms | e2e p95 ms | req/s | cached tokens | rejections |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [policy, r, extra] of rows) {
    console.log(
      `| ${policy} | ${r.ttft50.toFixed(0)} | ${r.ttft95.toFixed(0)} | ${r.e2e50.toFixed(0)} | ${r.e2e95.toFixed(0)} | ${r.rps.toFixed(2)} | ${(100 * r.cachedRatio).toFixed(1)} % | ${r.rejections}${extra ?? ''} |`,
    );
  }
}

async function main() {
  const modelsDir = await ensureModel();
  const results = new Map<string, PolicyResults>();
  for (const policy of POLICIES) {
    console.error(`running ${policy}…`);
    results.set(policy, await runPolicy(policy, modelsDir));
  }
  const rows = (w: 'a' | 'b' | 'c') =>
    [...results].map(([policy, r]) => [policy, summarise(r[w])] as [string, Row]);
  console.log(
    `\n${NODES} nodes x ${SEQUENCES} sequences, model ${SHAPE.layers} layers x ${SHAPE.embd} (random weights, ~21 M params), ` +
      `1 thread per node, max_tokens ${MAX_TOKENS}, streamed`,
  );
  printTable(
    `(a) ${CONVERSATIONS} conversations x ${TURNS} turns, ${GROUPS} system prompts of ${PREFIX_WORDS} words, ${NODES * SEQUENCES} at a time`,
    rows('a'),
  );
  printTable(
    `(b) ${UNIQUE} unique prompts of ${PREFIX_WORDS} words, ${NODES * SEQUENCES} at a time`,
    rows('b'),
  );
  printTable(
    `(c) overload: ${OVERLOAD} requests at once (${NODES * SEQUENCES} sequences), queue max 100, timeout ${QUEUE_TIMEOUT_S} s`,
    [...results].map(([policy, r]) => [
      policy,
      summarise(r.c),
      `; max queue wait ${(r.c.maxQueueWaitS ?? 0).toFixed(1)} s`,
    ]),
  );

  const missed: string[] = [];
  const get = (policy: string, w: 'a' | 'b' | 'c') => {
    const r = results.get(policy);
    return r ? summarise(r[w]) : null;
  };
  const ca = get('cache_aware', 'a');
  const rr = get('round_robin', 'a');
  const ll = get('least_loaded', 'a');
  if (ca && rr && !(ca.ttft50 * 2 <= rr.ttft50))
    missed.push(
      `(a) cache_aware TTFT p50 ${ca.ttft50.toFixed(0)} ms is not 2x better than round_robin ${rr.ttft50.toFixed(0)} ms`,
    );
  if (ca && ll && !(ca.ttft50 <= ll.ttft50 * 0.7))
    missed.push(
      `(a) cache_aware TTFT p50 ${ca.ttft50.toFixed(0)} ms is not 30 % better than least_loaded ${ll.ttft50.toFixed(0)} ms`,
    );
  const cb = get('cache_aware', 'b');
  const lb = get('least_loaded', 'b');
  if (cb && lb && !(cb.e2e50 <= lb.e2e50 * 1.05))
    missed.push(
      `(b) cache_aware e2e p50 ${cb.e2e50.toFixed(0)} ms is not within 5 % of least_loaded ${lb.e2e50.toFixed(0)} ms`,
    );
  for (const [policy, r] of results) {
    const c = summarise(r.c);
    if (c.rejections > 0)
      missed.push(`(c) ${policy}: ${c.rejections} requests failed while the queue had room`);
    if ((r.c.maxQueueWaitS ?? 0) >= QUEUE_TIMEOUT_S)
      missed.push(`(c) ${policy}: a request waited past the timeout`);
  }
  console.log(missed.length === 0 ? '\nAll goals met.' : `\nGoals missed:\n- ${missed.join('\n- ')}`);
  if (missed.length > 0) process.exitCode = 1;
}

main().catch(async (error) => {
  console.error(error);
  await stopAll();
  process.exit(1);
});
