/**
 * A fake node for the streaming benchmarks: every chat completion is an SSE stream that opens
 * with the role chunk at once, then sends `chunks` content chunks `intervalMs` apart (0: all at
 * once), the way llm-node streams. No model, so the router's cost is what is measured.
 *
 * `spawnStreamingNode` runs it in a process of its own, as a real node is (spawn-server.ts): in
 * the client's process it inflated the router's apparent cost by about a millisecond.
 *
 *   node --import tsx bench/support/streaming-node.ts <chunks> <intervalMs>   # prints "listening <url>"
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type SpawnedServer, spawnServer } from './spawn-server.js';

const event = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'fake',
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;

export function startStreamingNode(options: {
  chunks: number;
  intervalMs: number;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(event({ role: 'assistant', content: '' }));
      let sent = 0;
      const next = () => {
        if (res.destroyed) return;
        if (sent === options.chunks) {
          res.end(`${event({}, 'stop')}data: [DONE]\n\n`);
          return;
        }
        sent++;
        res.write(event({ content: `token${sent} ` }));
        if (options.intervalMs > 0) setTimeout(next, options.intervalMs);
        else next();
      };
      if (options.intervalMs > 0) setTimeout(next, options.intervalMs);
      else next();
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () =>
      ok({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/** The same fake node in a child process; `close` stops it. */
export function spawnStreamingNode(options: { chunks: number; intervalMs: number }): Promise<SpawnedServer> {
  return spawnServer(fileURLToPath(import.meta.url), [String(options.chunks), String(options.intervalMs)]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [chunks, intervalMs] = process.argv.slice(2).map(Number);
  if (!Number.isInteger(chunks) || !Number.isFinite(intervalMs))
    throw new Error('usage: streaming-node.ts <chunks> <intervalMs>');
  const node = await startStreamingNode({ chunks, intervalMs });
  console.log(`listening ${node.url}`);
  process.once('SIGTERM', () => void node.close().then(() => process.exit(0)));
}
