/**
 * The floor for a Node.js router, used as a reference row by bench/overhead.ts: a minimal
 * Fastify server that forwards each request's body to one upstream through a pooled undici
 * Agent and streams the reply back. No auth, no validation, no balancing, no history.
 *
 *   node --import tsx bench/support/passthrough.ts <upstream-url>   # prints "listening <url>"
 */
import Fastify from 'fastify';
import { Agent, request } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: passthrough.ts <upstream-url>');
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

app.post('/v1/chat/completions', async (req, reply) => {
  const res = await request(`${upstream}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: req.body as Buffer,
    dispatcher,
  });
  reply.code(res.statusCode);
  const type = res.headers['content-type'];
  if (typeof type === 'string') reply.header('content-type', type);
  return reply.send(res.body);
});

const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${url}`);
