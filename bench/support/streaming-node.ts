/**
 * A fake node for the streaming benchmarks: every chat completion is an SSE stream that opens
 * with the role chunk at once, then sends `chunks` content chunks `intervalMs` apart (0: all at
 * once), the way llm-node streams. No model, so the router's cost is what is measured.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

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
