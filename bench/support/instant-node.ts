/**
 * Shared by the router benchmarks: an instant fake node (a canned chat completion, no work) that
 * isolates the router's own cost, and the percentile used in every latency table.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type SpawnedServer, spawnServer } from './spawn-server.js';

const REPLY = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 0,
  model: 'fake',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});

export function startInstantNode(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(REPLY);
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

/** The same instant node in a process of its own (spawn-server.ts); `close` stops it. */
export function spawnInstantNode(): Promise<SpawnedServer> {
  return spawnServer(fileURLToPath(import.meta.url));
}

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const node = await startInstantNode();
  console.log(`listening ${node.url}`);
  process.once('SIGTERM', () => void node.close().then(() => process.exit(0)));
}
