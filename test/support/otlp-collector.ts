/**
 * An OpenTelemetry collector for tests: an HTTP server on 127.0.0.1 that keeps what is posted
 * to it as OTLP/HTTP JSON (`POST /v1/traces`), flattened to spans with their service name. It
 * can also refuse (any status) or never answer, like a collector that is unwell.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean };
}

/** The OTLP/JSON `ExportTraceServiceRequest`, as far as tests read it. */
export interface TraceRequest {
  resourceSpans: {
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: Omit<CollectedSpan, 'service'>[] }[];
  }[];
}

export interface CollectedSpan {
  /** The resource's `service.name`. */
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status: { code: number; message?: string };
}

export interface Collector {
  url: string;
  posts: { path: string; headers: IncomingMessage['headers']; body: TraceRequest }[];
  spans: CollectedSpan[];
  /** Requests read and not answered (`answer: 'hang'`). */
  pending(): number;
  /** Stops listening and cuts every connection. */
  close(): Promise<void>;
}

/**
 * `answer`: 'ok' (200 `{}`, the default), 'hang' (never answers), or a status to answer with.
 * `port` 0 (the default) is any free port.
 */
export async function startCollector(
  options: { answer?: 'ok' | 'hang' | number; port?: number } = {},
): Promise<Collector> {
  const answer = options.answer ?? 'ok';
  const posts: Collector['posts'] = [];
  const spans: CollectedSpan[] = [];
  let pending = 0;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => {
      text += d;
    });
    req.on('end', () => {
      const body = JSON.parse(text) as TraceRequest;
      posts.push({ path: req.url ?? '', headers: req.headers, body });
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ service, ...span });
      }
      if (answer === 'hang') {
        pending++;
        return;
      }
      res.statusCode = answer === 'ok' ? 200 : answer;
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    spans,
    pending: () => pending,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A span attribute's value (int64 strings as numbers), or undefined. */
export function spanAttribute(span: CollectedSpan, key: string): string | number | boolean | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.doubleValue ?? value.boolValue;
}
