/**
 * The node call on the node client, against real HTTP servers: what the proxy relies on from it
 * (the reply in order, trailers, a paused node while the client is slow, aborts that settle at
 * once, and chunks that arrived before a failure).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeCall } from '../../src/proxy/node-call.js';
import { NodeClient } from '../../src/proxy/node-client.js';

const servers: Server[] = [];
const clients: NodeClient[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(): NodeClient {
  const created = new NodeClient({ connectTimeoutMs: 2000 });
  clients.push(created);
  return created;
}

async function readAll(call: NodeCall): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let chunk = await call.read(); chunk !== null; chunk = await call.read()) parts.push(chunk);
  return Buffer.concat(parts);
}

const post = (url: string) => ({
  url,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from('{"a":1}'),
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('NodeCall', () => {
  it('hands over the status, headers, body and trailers, and sends the path and body', async () => {
    let seen = '';
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen = `${req.method} ${req.url} ${body}`;
        res.writeHead(201, { 'content-type': 'text/event-stream', trailer: 'x-usage' });
        res.write('one,');
        setTimeout(() => {
          res.addTrailers({ 'x-usage': '{"prompt_tokens":3}' });
          res.end('two');
        }, 20);
      });
    });
    const call = NodeCall.start(client(), post(`${url}/prefix/v1/chat/completions?x=1`));
    await call.response();
    expect(call.status).toBe(201);
    expect(call.headers['content-type']).toBe('text/event-stream');
    expect((await readAll(call)).toString()).toBe('one,two');
    expect(call.trailers['x-usage']).toBe('{"prompt_tokens":3}');
    expect(seen).toBe('POST /prefix/v1/chat/completions?x=1 {"a":1}');
  });

  it('pauses the node while its unread bytes pile up, and resumes as they are read', async () => {
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 120);
    let written = 0;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const call = NodeCall.start(client(), post(url));
    await call.response();
    await new Promise((wait) => setTimeout(wait, 300));
    // Only socket buffers hold what the server could write while nothing was read.
    expect(written).toBeLessThan(total / 2);
    expect((await readAll(call)).length).toBe(total);
  });

  it('settles at once when aborted before its connection was made, and never sends it', async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests++;
      res.end('done');
    });
    const aborted = NodeCall.start(client(), post(url));
    aborted.abort(new Error('first_byte timeout'));
    await expect(aborted.response()).rejects.toThrow('first_byte timeout');
    await expect(aborted.read()).rejects.toThrow('first_byte timeout');
    const next = NodeCall.start(client(), post(url));
    await next.response();
    expect((await readAll(next)).toString()).toBe('done');
    expect(requests).toBe(1);
  });

  it('reads the chunks that came before the node broke, then the failure', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"partial":true}\n\n');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const call = NodeCall.start(client(), post(url));
    await call.response();
    expect((await call.read())?.toString()).toBe('data: {"partial":true}\n\n');
    await expect(call.read()).rejects.toThrow();
  });

  it('rejects with the connection error when the node is not listening', async () => {
    const url = await serve(() => {});
    const closed = servers.pop()!;
    await new Promise<void>((done) => closed.close(() => done()));
    const call = NodeCall.start(client(), post(url));
    await expect(call.response()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
