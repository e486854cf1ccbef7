/**
 * A fake inference node: a tiny real HTTP server on 127.0.0.1 speaking the node's OpenAI API
 * (JSON and SSE), with faults a test can switch on: error statuses, hanging before headers,
 * dying, stalling or trickling mid-reply, and a gate that holds a stream after its first event.
 * `test/support/fault-node.ts` runs one as a separate process that registers like a node.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeNodeFault =
  | { kind: 'none' }
  /** Answer with this status and body (e.g. 500, or a 400 context_length_exceeded). */
  | { kind: 'status'; status: number; body: string }
  /** Accept the request and never send headers. */
  | { kind: 'hang' }
  /** Send `afterEvents` SSE events (or half a JSON body), then a torn event, then drop the socket. */
  | { kind: 'die'; afterEvents: number }
  /** Send `afterEvents` SSE events, then go silent without closing. */
  | { kind: 'stall'; afterEvents: number }
  /**
   * Send `afterEvents` SSE events (a JSON reply: its headers), then one byte every `everyMs`,
   * never finishing: a node that is still "sending", too slowly to be of use.
   */
  | { kind: 'trickle'; afterEvents: number; everyMs: number }
  /** Send the first SSE event, then wait for `release()` before the rest. */
  | { kind: 'gate' }
  /** Hold every reply until `release()`, then answer normally. */
  | { kind: 'hold' };

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: Record<string, unknown>;
}

export interface FakeNode {
  name: string;
  url: string;
  fault: FakeNodeFault;
  requests: ReceivedRequest[];
  /** Requests whose connection closed before the node finished its reply (the router aborted). */
  abortedByPeer: number;
  /** TCP connections accepted (keep-alive reuse keeps this low). */
  connections: number;
  /** Whether the last stream's final event has been written. */
  sentLastEvent: boolean;
  release(): void;
  close(): Promise<void>;
}

const USAGE = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };

function chatEvents(name: string, model: string, includeUsage: boolean): unknown[] {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1_700_000_000, model };
  const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta: d, finish_reason: finish }],
  });
  const events: unknown[] = [
    delta({ role: 'assistant', content: '' }),
    delta({ content: 'hello ' }),
    delta({ content: 'from ' }),
    delta({ content: name }),
    delta({}, 'stop'),
  ];
  if (includeUsage) events.push({ ...base, choices: [], usage: USAGE });
  return events;
}

function completionEvents(name: string, model: string): unknown[] {
  const base = { id: 'cmpl-fake', object: 'text_completion', created: 1_700_000_000, model };
  return ['once ', 'upon ', name].map((text, i) => ({
    ...base,
    choices: [{ index: 0, text, finish_reason: i === 2 ? 'stop' : null, logprobs: null }],
  }));
}

function jsonReply(path: string, name: string, body: Record<string, unknown>): unknown {
  const model = String(body.model);
  if (path === '/v1/embeddings') {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const vector = [0.5, -0.25, 1];
    const embedding =
      body.encoding_format === 'base64'
        ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
        : vector;
    return {
      object: 'list',
      model,
      data: inputs.map((_, index) => ({ object: 'embedding', index, embedding })),
      usage: { prompt_tokens: 4, total_tokens: 4 },
    };
  }
  if (path === '/v1/completions') {
    return {
      id: 'cmpl-fake',
      object: 'text_completion',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, text: `once upon ${name}`, finish_reason: 'stop', logprobs: null }],
      usage: USAGE,
    };
  }
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [
      { index: 0, message: { role: 'assistant', content: `hello from ${name}` }, finish_reason: 'stop' },
    ],
    usage: USAGE,
  };
}

export async function startFakeNode(
  name: string,
  fault: FakeNodeFault = { kind: 'none' },
  port = 0,
): Promise<FakeNode> {
  let releaseGate: () => void = () => {};
  let releaseHold: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    releaseHold = resolve;
  });
  const node: FakeNode = {
    name,
    url: '',
    fault,
    requests: [],
    abortedByPeer: 0,
    connections: 0,
    sentLastEvent: false,
    release: () => {
      releaseGate();
      releaseHold();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  /** One byte every `everyMs` until the peer goes away (a line that never ends). */
  const trickle = (res: ServerResponse, everyMs: number, byte: string) => {
    const timer = setInterval(() => {
      if (res.destroyed) clearInterval(timer);
      else res.write(byte);
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  };

  const sendStream = async (res: ServerResponse, events: unknown[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const current = node.fault;
    const lines = [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];
    node.sentLastEvent = false;
    for (let i = 0; i < lines.length; i++) {
      if (current.kind === 'die' && i === current.afterEvents) {
        // Half an event, then the process "dies" (after the bytes so far have left).
        await new Promise((resolve) => res.write('data: {"id":"torn', resolve));
        await new Promise((resolve) => setTimeout(resolve, 20));
        res.socket?.destroy();
        return;
      }
      if (current.kind === 'stall' && i === current.afterEvents) return;
      if (current.kind === 'trickle' && i === current.afterEvents) return trickle(res, current.everyMs, ':');
      if (current.kind === 'gate' && i === 1) await new Promise<void>((resolve) => (releaseGate = resolve));
      if (res.destroyed) return;
      await new Promise((resolve) => res.write(lines[i], resolve));
    }
    node.sentLastEvent = true;
    res.end();
  };

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', async () => {
      if (node.fault.kind === 'hold') {
        const body = Buffer.concat(parts);
        node.requests.push({
          path: req.url ?? '',
          headers: req.headers,
          raw: body,
          body: JSON.parse(body.toString('utf8')),
        });
        await held;
        const json = JSON.stringify(jsonReply(req.url ?? '', name, JSON.parse(body.toString('utf8'))));
        res.writeHead(200, { 'content-type': 'application/json' }).end(json);
        return;
      }
      const raw = Buffer.concat(parts);
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      const path = req.url ?? '';
      node.requests.push({ path, headers: req.headers, raw, body });
      res.on('close', () => {
        if (!res.writableFinished) node.abortedByPeer++;
      });
      const current = node.fault;
      if (current.kind === 'hang') return;
      if (current.kind === 'status') {
        res.writeHead(current.status, { 'content-type': 'application/json' }).end(current.body);
        return;
      }
      if (body.stream === true && path !== '/v1/embeddings') {
        const model = String(body.model);
        const includeUsage =
          (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
        const events =
          path === '/v1/completions' ? completionEvents(name, model) : chatEvents(name, model, includeUsage);
        void sendStream(res, events);
        return;
      }
      const json = Buffer.from(JSON.stringify(jsonReply(path, name, body)));
      if (current.kind === 'trickle') {
        res.writeHead(200, { 'content-type': 'application/json' });
        trickle(res, current.everyMs, ' ');
        return;
      }
      if (current.kind === 'die') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': json.length });
        res.write(json.subarray(0, json.length >> 1));
        res.socket?.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    });
  });
  server.on('connection', () => node.connections++);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  node.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return node;
}

/** A URL where nothing listens: the port was bound and released, so connecting is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
