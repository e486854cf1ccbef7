/**
 * The passthrough of bench/support/passthrough.ts without Fastify: `node:http` reads the body
 * and undici forwards it. Against the Fastify passthrough it shows what Fastify itself costs a
 * request (bench/fastify-cost.ts).
 *
 *   node --import tsx bench/support/bare-passthrough.ts <upstream-url>   # prints "listening <url>"
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-passthrough.ts <upstream-url>');
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    const reply = await request(`${upstream}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat(chunks),
      dispatcher,
    });
    const body = Buffer.from(await reply.body.arrayBuffer());
    const type = reply.headers['content-type'];
    res.writeHead(reply.statusCode, {
      ...(typeof type === 'string' ? { 'content-type': type } : {}),
      'content-length': body.length,
    });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () =>
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`),
);
