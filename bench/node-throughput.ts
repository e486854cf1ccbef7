/**
 * Generation speed of stories260K: through the node's HTTP API (sequential, non-streamed
 * requests) versus node-llama-cpp called in-process with the same threads and sampling.
 * The difference is what the node adds (HTTP, JSON, queueing, prompt handling) per token.
 *
 *   npx tsx bench/node-throughput.ts            # 1 thread, 200 tokens, 7 runs
 *   BENCH_THREADS=2 BENCH_TOKENS=400 BENCH_RUNS=9 npx tsx bench/node-throughput.ts
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLlama, type Llama, LlamaCompletion, LlamaLogLevel } from 'node-llama-cpp';
import { loadNodeConfig } from '../packages/node/src/config/config.js';
import { startNode } from '../packages/node/src/main.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modelPath = resolve(repoRoot, '../shared/models/stories260K.gguf');
const threads = Number(process.env.BENCH_THREADS ?? 1);
const maxTokens = Number(process.env.BENCH_TOKENS ?? 200);
const runs = Number(process.env.BENCH_RUNS ?? 7);
const prompt = 'Once upon a time';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Sample {
  tokens: number;
  seconds: number;
}

type Runner = () => Promise<Sample>;

/** Runs the contenders in turn, round after round, so background load hits them all alike. */
async function measureInterleaved(contenders: [string, Runner][]) {
  for (const [, once] of contenders) await once(); // warm-up: first evaluation allocates buffers
  const samples = new Map<string, Sample[]>(contenders.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, once] of contenders) samples.get(name)!.push(await once());
  }
  return contenders.map(([name]) => {
    const list = samples.get(name)!;
    const rates = list.map((s) => s.tokens / s.seconds);
    return {
      name,
      tokens: median(list.map((s) => s.tokens)),
      medianMs: median(list.map((s) => s.seconds * 1000)),
      medianTokensPerSecond: median(rates),
      min: Math.min(...rates),
      max: Math.max(...rates),
    };
  });
}

async function startBenchNode(dir: string) {
  mkdirSync(join(dir, 'models'));
  copyFileSync(modelPath, join(dir, 'models', 'stories260K.gguf'));
  const config = loadNodeConfig({
    LLM_NODE_PORT: '0',
    LLM_NODE_BIND_ADDRESS: '127.0.0.1',
    LLM_NODE_THREADS: String(threads),
    LLM_NODE_PARALLEL: '1',
    LLM_ALLOW_NO_GPU: 'true',
    LLM_NODE_MODELS_DIR: join(dir, 'models'),
    LLM_NODE_STATE_DIR: join(dir, 'state'),
    LLM_NODE_MODEL_RESCAN_SECS: '0',
    LLM_NODE_LOG_LEVEL: 'warn',
  });
  const node = await startNode({ ...config, logToStdout: false });
  while ((await fetch(`${node.url}/startup`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
  return node;
}

function httpRunner(url: string, path: string, body: object): Runner {
  return async () => {
    const started = performance.now();
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', max_tokens: maxTokens, temperature: 0, ...body }),
    });
    const json = (await response.json()) as { usage: { completion_tokens: number } };
    return { tokens: json.usage.completion_tokens, seconds: (performance.now() - started) / 1000 };
  };
}

/** The same generation the node does, minus the node: same options, no HTTP, no queue. */
async function inProcessRunner(llama: Llama): Promise<Runner> {
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 2048, sequences: 1, threads });
  const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  const tokens = model.tokenize(prompt, false);
  return async () => {
    let generated = 0;
    const started = performance.now();
    await completion.generateCompletionWithMeta(tokens, {
      maxTokens,
      temperature: 0,
      repeatPenalty: false,
      onToken: (t) => {
        generated += t.length;
      },
    });
    return { tokens: generated, seconds: (performance.now() - started) / 1000 };
  };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-node-'));
const llama = await getLlama({
  gpu: false,
  build: 'never',
  maxThreads: threads,
  logLevel: LlamaLogLevel.error,
});
const node = await startBenchNode(dir);
let rows: Awaited<ReturnType<typeof measureInterleaved>>;
try {
  rows = await measureInterleaved([
    ['node-llama-cpp in-process', await inProcessRunner(llama)],
    ['node HTTP /v1/completions', httpRunner(node.url, '/v1/completions', { prompt })],
    [
      'node HTTP /v1/chat/completions',
      httpRunner(node.url, '/v1/chat/completions', { messages: [{ role: 'user', content: prompt }] }),
    ],
  ]);
} finally {
  await node.close();
  await llama.dispose();
  rmSync(dir, { recursive: true, force: true });
}
const direct = rows[0];
console.log(
  `\nstories260K, ${maxTokens} tokens, temperature 0, ${threads} thread(s), median of ${runs} sequential runs, interleaved` +
    ` (${cpus().length} CPUs: ${cpus()[0]?.model ?? 'unknown'})\n`,
);
console.log('| path | tokens | median ms | median tokens/s | min–max tokens/s | vs in-process |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(
    `| ${row.name} | ${row.tokens} | ${row.medianMs.toFixed(1)} | ${row.medianTokensPerSecond.toFixed(0)} | ` +
      `${row.min.toFixed(0)}–${row.max.toFixed(0)} | ${((row.medianTokensPerSecond / direct.medianTokensPerSecond) * 100).toFixed(0)}% |`,
  );
}
