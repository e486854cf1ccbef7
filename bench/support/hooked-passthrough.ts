/**
 * The Fastify passthrough with the router's hook layout (http/server.ts): a request id, a
 * global onRequest hook and a route one (where the router authenticates), preParsing, a JSON
 * parser that keeps the raw bytes, onSend (Server-Timing). The hooks do next to nothing, so
 * against bench/support/bare-passthrough.ts it shows what Fastify, configured as the router
 * configures it, costs a request (bench/fastify-cost.ts).
 *
 *   node --import tsx bench/support/hooked-passthrough.ts <upstream-url>   # prints "listening <url>"
 */
import Fastify from 'fastify';
import { Agent, request } from 'undici';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: hooked-passthrough.ts <upstream-url>');
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
let nextId = 0;
const app = Fastify({ logger: false, genReqId: () => String(++nextId) });
app.addHook('onRequest', (req, reply, done) => {
  reply.header('x-request-id', req.id);
  done();
});
app.removeContentTypeParser('application/json');
app.addContentTypeParser('application/json', (req, payload, done) => {
  const chunks: Buffer[] = [];
  payload.on('data', (chunk: Buffer) => chunks.push(chunk));
  payload.on('end', () => {
    const raw = Buffer.concat(chunks);
    req.rawBody = raw;
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  payload.resume();
});
app.addHook('preParsing', (_req, _reply, payload, done) => done(null, payload));
app.addHook('onSend', (_req, reply, payload, done) => {
  reply.header('server-timing', 'total;dur=0');
  done(null, payload);
});

app.post('/v1/chat/completions', { onRequest: (_req, _reply, done) => done() }, async (req, reply) => {
  const res = await request(`${upstream}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: req.rawBody,
    dispatcher,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  reply.code(res.statusCode);
  const type = res.headers['content-type'];
  if (typeof type === 'string') reply.header('content-type', type);
  return reply.send(body);
});

const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${url}`);
