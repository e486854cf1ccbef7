/**
 * The router's HTTP/1.1 client for nodes, against real servers: Node's own HTTP server for the
 * replies a node sends, and raw TCP servers for replies no well-behaved node sends (split heads,
 * 1xx heads, bodies that end with the connection, and broken or hostile replies).
 */
import { createServer, type Server } from 'node:http';
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
} from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeCall } from '../../src/proxy/node-call.js';
import { type CallController, NodeClient, type ReplyHandler } from '../../src/proxy/node-client.js';

const servers: Array<Server | TcpServer> = [];
const clients: NodeClient[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close();
  }
});

function client(): NodeClient {
  const created = new NodeClient({ connectTimeoutMs: 2000 });
  clients.push(created);
  return created;
}

async function listen(server: Server | TcpServer): Promise<string> {
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Node HTTP server answering every request with `body`, counting its connections. */
async function httpNode(reply: (res: import('node:http').ServerResponse) => void = (res) => res.end('ok')) {
  const seen: Array<{ method?: string; url?: string; headers: Record<string, unknown>; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      reply(res);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  const url = await listen(server);
  return { server, url, seen, connections: () => connections };
}

/**
 * A raw TCP node: each request (read up to its body) is answered by `answer`, which writes
 * whatever bytes it likes to the socket.
 */
async function rawNode(answer: (socket: Socket, request: number) => void) {
  let requests = 0;
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections++;
    sockets.push(socket);
    let received = '';
    socket.on('data', (data) => {
      received += data.toString('latin1');
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? 0);
      if (received.length < headEnd + 4 + length) return;
      received = received.slice(headEnd + 4 + length);
      answer(socket, requests++);
    });
    socket.on('error', () => {});
  });
  const url = await listen(server);
  return { url, requests: () => requests, connections: () => connections };
}

const post = (url: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => ({
  url: `${url}/v1/chat/completions`,
  headers,
  body: Buffer.from('{"model":"m"}'),
});

async function readAll(call: NodeCall): Promise<string> {
  const parts: Buffer[] = [];
  for (let chunk = await call.read(); chunk !== null; chunk = await call.read()) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** One complete call: its status, headers, body and trailers. */
async function call(nodes: NodeClient, url: string, headers?: Record<string, string>) {
  const started = NodeCall.start(nodes, post(url, headers));
  await started.response();
  const body = await readAll(started);
  return { status: started.status, headers: started.headers, body, trailers: started.trailers };
}

const pause = (ms: number) => new Promise((wait) => setTimeout(wait, ms));

describe('NodeClient', () => {
  it('sends a POST with its path, host, length, headers and body', async () => {
    const node = await httpNode();
    await call(client(), node.url, { 'content-type': 'application/json', 'x-request-id': 'req-1' });
    const host = new URL(node.url).host;
    expect(node.seen).toEqual([
      {
        method: 'POST',
        url: '/v1/chat/completions',
        headers: expect.objectContaining({
          host,
          'content-length': '13',
          'content-type': 'application/json',
          'x-request-id': 'req-1',
        }),
        body: '{"model":"m"}',
      },
    ]);
  });

  it('reuses one keep-alive connection for calls one after another', async () => {
    const node = await httpNode((res) => res.end('{"ok":true}'));
    const nodes = client();
    for (let i = 0; i < 5; i++) expect((await call(nodes, node.url)).body).toBe('{"ok":true}');
    expect(node.connections()).toBe(1);
  });

  it('opens a connection per concurrent call, and reuses them afterwards', async () => {
    const node = await httpNode((res) => setTimeout(() => res.end('late'), 30));
    const nodes = client();
    const first = await Promise.all([1, 2, 3].map(() => call(nodes, node.url)));
    expect(first.map((r) => r.body)).toEqual(['late', 'late', 'late']);
    await Promise.all([1, 2, 3].map(() => call(nodes, node.url)));
    expect(node.connections()).toBe(3);
  });

  it('sends every call started in one turn on kept-alive connections (the later ones at its end)', async () => {
    const node = await httpNode((res) => setTimeout(() => res.end('ok'), 10));
    const nodes = client();
    await Promise.all([1, 2, 3].map(() => call(nodes, node.url)));
    node.seen.length = 0;
    const ids = ['a', 'b', 'c'];
    const replies = await Promise.all(ids.map((id) => call(nodes, node.url, { 'x-request-id': id })));
    expect(replies.map((r) => r.body)).toEqual(['ok', 'ok', 'ok']);
    expect(node.seen.map((seen) => seen.headers['x-request-id']).sort()).toEqual(ids);
    expect(node.connections()).toBe(3);
  });

  it('opens a new connection after a reply with Connection: close', async () => {
    const node = await httpNode((res) => {
      res.setHeader('connection', 'close');
      res.end('bye');
    });
    const nodes = client();
    expect((await call(nodes, node.url)).body).toBe('bye');
    expect((await call(nodes, node.url)).body).toBe('bye');
    expect(node.connections()).toBe(2);
  });

  it('does not reuse a connection the node has closed while it was idle', async () => {
    const node = await httpNode();
    const nodes = client();
    await call(nodes, node.url);
    node.server.closeIdleConnections();
    await pause(50);
    expect((await call(nodes, node.url)).body).toBe('ok');
    expect(node.connections()).toBe(2);
  });

  it('keeps an idle connection no longer than the keep-alive the node announces, less a second', async () => {
    const node = await rawNode((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok'),
    );
    const nodes = client();
    await call(nodes, node.url);
    await call(nodes, node.url);
    // timeout=1 leaves no time at all: the node may close it any moment.
    expect(node.connections()).toBe(2);
  });

  it('reads a chunked reply with chunk extensions and trailers, and reuses the connection', async () => {
    const node = await rawNode((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
          '5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nx-usage: {"prompt_tokens":3}\r\n\r\n',
      ),
    );
    const nodes = client();
    const reply = await call(nodes, node.url);
    expect(reply).toMatchObject({
      status: 200,
      body: 'hello world',
      trailers: { 'x-usage': '{"prompt_tokens":3}' },
    });
    expect(reply.headers['content-type']).toBe('text/event-stream');
    await call(nodes, node.url);
    expect(node.connections()).toBe(1);
  });

  it('parses a reply that arrives a few bytes at a time', async () => {
    const reply =
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
      'b\r\n{"ok":true}\r\n0\r\n\r\n';
    const node = await rawNode(async (socket) => {
      for (let i = 0; i < reply.length; i += 3) {
        socket.write(reply.slice(i, i + 3));
        await pause(1);
      }
    });
    const result = await call(client(), node.url);
    expect(result).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(result.headers['content-type']).toBe('application/json');
  });

  it('skips 1xx heads before the real one', async () => {
    const node = await rawNode((socket) =>
      socket.write(
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n' +
          'HTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\ndone',
      ),
    );
    expect(await call(client(), node.url)).toMatchObject({ status: 201, body: 'done' });
  });

  it('reads a body that ends with the connection, and a 204 with none', async () => {
    const untilClose = await rawNode((socket) => {
      socket.write('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nall of ');
      setTimeout(() => socket.end('it'), 20);
    });
    expect(await call(client(), untilClose.url)).toMatchObject({ status: 200, body: 'all of it' });
    const empty = await rawNode((socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
    const nodes = client();
    expect(await call(nodes, empty.url)).toMatchObject({ status: 204, body: '' });
    expect(await call(nodes, empty.url)).toMatchObject({ status: 204, body: '' });
    expect(empty.connections()).toBe(1);
  });

  it('joins repeated headers the way Node does, and keeps set-cookie a list', async () => {
    const node = await rawNode((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a:  2 \r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\ncontent-length: 0\r\n\r\n',
      ),
    );
    const { headers } = await call(client(), node.url);
    expect(headers['x-a']).toBe('1, 2');
    expect(headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it.each([
    ['a garbage status line', 'HTTP/2 200 OK\r\n\r\n', /invalid status line/],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nnot a header\r\n\r\n', /invalid header line/],
    [
      'a bare CR inside a header',
      'HTTP/1.1 200 OK\r\nx-a: 1\rx-b: 2\r\ncontent-length: 0\r\n\r\n',
      /invalid header/,
    ],
    [
      'a bare LF inside a header',
      'HTTP/1.1 200 OK\r\nx-a: 1\nx-b: 2\r\ncontent-length: 0\r\n\r\n',
      /invalid header/,
    ],
    [
      'a non-numeric content-length',
      'HTTP/1.1 200 OK\r\ncontent-length: 12x\r\n\r\n',
      /invalid content-length/,
    ],
    ['a switch of protocols', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n', /101/],
    ['a head larger than 64 KiB', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70_000)}`, /head larger than/],
  ])('fails the call on %s, and closes the connection', async (_name, reply, message) => {
    const node = await rawNode((socket) => socket.write(reply));
    const nodes = client();
    const started = NodeCall.start(nodes, post(node.url));
    await expect(started.response()).rejects.toMatchObject({ code: 'EPROTO', message });
    const after = await rawNode((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    expect((await call(nodes, after.url)).body).toBe('ok');
  });

  it('fails the call on a bad chunk after the chunks before it were read', async () => {
    const node = await rawNode((socket) =>
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n'),
    );
    const started = NodeCall.start(client(), post(node.url));
    await started.response();
    expect((await started.read())?.toString()).toBe('abc');
    await expect(started.read()).rejects.toMatchObject({ code: 'EPROTO', message: /invalid chunk size/ });
  });

  it('fails the call when the node closes the connection mid-reply', async () => {
    const node = await rawNode((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
    const started = NodeCall.start(client(), post(node.url));
    await started.response();
    expect((await started.read())?.toString()).toBe('abc');
    await expect(started.read()).rejects.toMatchObject({ code: 'ECONNRESET', message: /mid-reply/ });
  });

  it('closes a connection that carried more than the reply, and one the node writes to while idle', async () => {
    const trailing = await rawNode((socket) =>
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n'),
    );
    const nodes = client();
    expect((await call(nodes, trailing.url)).body).toBe('ok');
    expect((await call(nodes, trailing.url)).body).toBe('ok');
    expect(trailing.connections()).toBe(2);

    let idleSocket: Socket | undefined;
    const chatty = await rawNode((socket) => {
      idleSocket = socket;
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    expect((await call(nodes, chatty.url)).body).toBe('ok');
    idleSocket?.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale');
    await pause(50);
    // The stale reply must not be taken for the next call's.
    expect((await call(nodes, chatty.url)).body).toBe('ok');
    expect(chatty.connections()).toBe(2);
  });

  it('ignores what a finished call asks of the connection that now carries another call', async () => {
    const node = await httpNode((res) => setTimeout(() => res.end('second'), 50));
    const nodes = client();
    let firstController: CallController | undefined;
    const firstDone = new Promise<void>((done) => {
      const handler: ReplyHandler = {
        onRequestStart: (controller) => {
          firstController = controller;
        },
        onResponseStart: () => {},
        onResponseData: () => {},
        onResponseEnd: () => done(),
        onResponseError: () => done(),
      };
      nodes.dispatch({ origin: node.url, path: '/', headers: {}, body: Buffer.alloc(0) }, handler);
    });
    await firstDone;
    const second = NodeCall.start(nodes, post(node.url));
    firstController?.pause();
    firstController?.abort(new Error('stale abort'));
    await second.response();
    expect(await readAll(second)).toBe('second');
    expect(node.connections()).toBe(1);
  });

  it('refuses a header value or path that would split the request head, and sends nothing', async () => {
    const node = await httpNode();
    const nodes = client();
    const injected = NodeCall.start(nodes, post(node.url, { 'x-request-id': 'a\r\nx-evil: 1' }));
    await expect(injected.response()).rejects.toMatchObject({ code: 'EINVAL', message: /header value/ });
    // `new URL` percent-encodes a URL's path; the client checks what it is handed all the same.
    const badPath = new NodeCall();
    nodes.dispatch({ origin: node.url, path: '/v1/a b', headers: {}, body: Buffer.alloc(0) }, badPath);
    await expect(badPath.response()).rejects.toMatchObject({ code: 'EINVAL', message: /path/ });
    await pause(50);
    expect(node.seen).toEqual([]);
  });

  it('rejects with the connection error when the node is not listening', async () => {
    const node = await httpNode();
    await new Promise<void>((done) => (servers.pop() as Server).close(() => done()));
    const started = NodeCall.start(client(), post(node.url));
    await expect(started.response()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('closes its idle connections on close, and lets a call in flight finish', async () => {
    let closed = 0;
    const slow = await httpNode((res) => setTimeout(() => res.end('finished'), 100));
    slow.server.on('connection', (socket) => socket.on('close', () => closed++));
    const nodes = client();
    await Promise.all([call(nodes, slow.url), call(nodes, slow.url)]);
    const inFlight = call(nodes, slow.url);
    await pause(20);
    await nodes.close();
    await pause(50);
    expect(closed).toBe(1);
    expect((await inFlight).body).toBe('finished');
    await pause(50);
    expect(closed).toBe(2);
  });
});
