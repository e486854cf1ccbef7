/**
 * A fake cloud provider: a real HTTP server on 127.0.0.1:0 that records every request and
 * answers with a scripted reply — JSON, SSE (framed as the provider frames it), a hang, a cut
 * connection mid-stream, or a stream held open until the client leaves.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SseScriptEvent {
  event?: string;
  /** Objects are JSON-encoded; strings (e.g. `[DONE]`) are written as they are. */
  data: unknown;
}

export type Script =
  | { kind: 'json'; status?: number; headers?: Record<string, string>; body: unknown }
  | {
      kind: 'sse';
      status?: number;
      headers?: Record<string, string>;
      events: SseScriptEvent[];
      /** Gemini frames events with CRLF; the others with LF. */
      eol?: '\n' | '\r\n';
      /** Drop the TCP connection after this many events (a provider dying mid-stream). */
      cutAfter?: number;
      /** Stop after this many events and keep the connection open until the peer leaves. */
      holdAfter?: number;
    }
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`. */
  url: string;
  headers: IncomingHttpHeaders;
  raw: string;
  json: unknown;
}

export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  /** Resolves when the peer closes a hanging or held reply's connection. */
  peerClosed: Promise<void> = Promise.resolve();
  private routes: Array<{ match: (url: string) => boolean; script: Script }> = [];
  private signalPeerClosed: () => void = () => {};

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeUpstream> {
    let fake: FakeUpstream | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () =>
        fake?.handle(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks), res),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeUpstream(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  /** Answers requests whose path (without query) ends with `suffix`; later rules win. */
  on(suffix: string, script: Script): void {
    this.routes.unshift({ match: (url) => url.split('?')[0].endsWith(suffix), script });
  }

  reset(): void {
    this.routes = [];
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    res: ServerResponse,
  ): void {
    const raw = body.toString('utf8');
    let json: unknown;
    try {
      json = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      json = undefined;
    }
    this.requests.push({ method, url, headers, raw, json });
    const route = this.routes.find((candidate) => candidate.match(url));
    if (!route) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `no script for ${url}` } }));
      return;
    }
    this.play(route.script, res);
  }

  private play(script: Script, res: ServerResponse): void {
    if (script.kind === 'hang') {
      this.watchPeer(res);
      return;
    }
    if (script.kind === 'json') {
      res.writeHead(script.status ?? 200, { 'content-type': 'application/json', ...script.headers });
      res.end(JSON.stringify(script.body));
      return;
    }
    res.writeHead(script.status ?? 200, { 'content-type': 'text/event-stream', ...script.headers });
    const eol = script.eol ?? '\n';
    const limit = script.cutAfter ?? script.holdAfter ?? script.events.length;
    const pieces: string[] = [];
    for (const event of script.events.slice(0, limit)) {
      const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
      const frame = `${event.event ? `event: ${event.event}${eol}` : ''}data: ${data}${eol}${eol}`;
      // Two writes per event, split mid-frame, so the router's parser must reassemble.
      const middle = Math.floor(frame.length / 2);
      pieces.push(frame.slice(0, middle), frame.slice(middle));
    }
    const last = pieces.pop();
    for (const piece of pieces) res.write(piece);
    if (script.cutAfter !== undefined) {
      // Once everything written has been flushed, drop the connection without ending the body.
      if (last === undefined) res.flushHeaders();
      res.write(last ?? '', () => res.socket?.destroy());
      return;
    }
    if (last !== undefined) res.write(last);
    if (script.holdAfter !== undefined) {
      this.watchPeer(res);
      return;
    }
    res.end();
  }

  /** For replies that never end on their own: `peerClosed` resolves when the router hangs up. */
  private watchPeer(res: ServerResponse): void {
    this.peerClosed = new Promise((resolve) => {
      this.signalPeerClosed = resolve;
    });
    res.on('close', () => this.signalPeerClosed());
  }
}

/** A port that was just free and is now closed: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
