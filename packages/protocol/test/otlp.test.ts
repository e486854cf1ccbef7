/**
 * The OTLP/HTTP JSON exporter on its own, against a real HTTP receiver on 127.0.0.1: the
 * standard variables, the JSON it posts, batching, a full queue, and collectors that are down,
 * refusing or never answer (the end-to-end span tree is in test/e2e/otlp.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Collector, startCollector } from '../../../test/support/otlp-collector.js';
import {
  type OtlpConfig,
  OtlpTraceExporter,
  otlpSetupFromEnv,
  type SpanRecord,
  unixNanos,
} from '../src/otlp.js';

const collectors: Collector[] = [];
afterEach(async () => {
  for (const collector of collectors.splice(0)) await collector.close();
});

async function receiver(answer?: 'ok' | 'hang' | number): Promise<Collector> {
  const collector = await startCollector({ answer });
  collectors.push(collector);
  return collector;
}

const config = (url: string, overrides: Partial<OtlpConfig> = {}): OtlpConfig => ({
  url: `${url}/v1/traces`,
  headers: {},
  serviceName: 'test-service',
  scheduleDelayMs: 60_000,
  timeoutMs: 2_000,
  maxQueueSize: 100,
  maxBatchSize: 50,
  ...overrides,
});

const span = (n: number, overrides: Partial<SpanRecord> = {}): SpanRecord => ({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: n.toString(16).padStart(16, '0'),
  parentSpanId: 'b7ad6b7169203331',
  name: `span-${n}`,
  kind: 'server',
  startMs: 1_700_000_000_000.25,
  endMs: 1_700_000_000_012.5,
  attributes: { 'a.string': 'x', 'a.int': 42, 'a.double': 1.5, 'a.bool': true, 'a.none': undefined },
  ...overrides,
});

describe('otlpSetupFromEnv', () => {
  it('is off without an endpoint, and when the SDK or the traces exporter is disabled', () => {
    expect(otlpSetupFromEnv({}, 'svc').config).toBeNull();
    expect(otlpSetupFromEnv({ OTEL_SERVICE_NAME: 'x' }, 'svc').config).toBeNull();
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(otlpSetupFromEnv({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, 'svc').config).toBeNull();
    expect(otlpSetupFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'svc').config).toBeNull();
  });

  it('appends /v1/traces to the general endpoint and takes the traces endpoint as given', () => {
    const general = otlpSetupFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'svc');
    expect(general.config?.url).toBe('http://collector:4318/v1/traces');
    expect(general.config?.serviceName).toBe('svc');
    const traces = otlpSetupFromEnv(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/custom/path',
        OTEL_SERVICE_NAME: 'my-router',
      },
      'svc',
    );
    expect(traces.config?.url).toBe('https://traces.example/custom/path');
    expect(traces.config?.serviceName).toBe('my-router');
  });

  it('parses headers (URL-decoded values), timeouts and batch settings, and warns about bad ones', () => {
    const { config, warnings } = otlpSetupFromEnv(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-tenant = t1 ,broken',
        OTEL_EXPORTER_OTLP_TIMEOUT: '1500',
        OTEL_BSP_SCHEDULE_DELAY: 'soon',
        OTEL_BSP_MAX_QUEUE_SIZE: '10',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '64',
      },
      'svc',
    );
    expect(config?.headers).toEqual({ authorization: 'Bearer abc', 'x-tenant': 't1' });
    expect(config?.timeoutMs).toBe(1500);
    expect(config?.scheduleDelayMs).toBe(5000);
    expect(config?.maxQueueSize).toBe(10);
    expect(config?.maxBatchSize).toBe(10); // never more than the queue holds
    expect(warnings.join('\n')).toMatch(/ignored 'broken'/);
    expect(warnings.join('\n')).toMatch(/OTEL_BSP_SCHEDULE_DELAY='soon'/);
  });

  it('warns when another OTLP protocol is asked for, and turns export off for a bad URL', () => {
    const grpc = otlpSetupFromEnv(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'svc',
    );
    expect(grpc.config).not.toBeNull();
    expect(grpc.warnings.join('\n')).toMatch(
      /'grpc' is not supported: spans are exported as OTLP\/HTTP JSON/,
    );
    expect(
      otlpSetupFromEnv(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
        'svc',
      ).warnings,
    ).toEqual([]);
    const bad = otlpSetupFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'svc');
    expect(bad.config).toBeNull();
    expect(bad.warnings.join('\n')).toMatch(/export is off: 'not a url\/v1\/traces' is not a valid URL/);
  });
});

describe('OtlpTraceExporter', () => {
  it('posts the OTLP/JSON mapping: resource, scope, hex ids, nanosecond strings, typed attributes', async () => {
    const rx = await receiver();
    const exporter = new OtlpTraceExporter({
      config: config(rx.url, { headers: { 'x-token': 'secret' } }),
      resource: { 'service.version': '1.2.3' },
      scope: { name: 'test-scope', version: '1.2.3' },
    });
    exporter.add(span(1));
    exporter.add(span(2, { parentSpanId: null, kind: 'client', error: 'it broke' }));
    await exporter.shutdown();
    expect(rx.posts).toHaveLength(1);
    const [post] = rx.posts;
    expect(post.path).toBe('/v1/traces');
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['x-token']).toBe('secret');
    const [resourceSpans] = post.body.resourceSpans;
    expect(resourceSpans.resource.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 'test-service' } },
      { key: 'service.version', value: { stringValue: '1.2.3' } },
    ]);
    const [scopeSpans] = resourceSpans.scopeSpans;
    expect(scopeSpans.scope).toEqual({ name: 'test-scope', version: '1.2.3' });
    expect(scopeSpans.spans).toEqual([
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: '0000000000000001',
        parentSpanId: 'b7ad6b7169203331',
        name: 'span-1',
        kind: 2,
        startTimeUnixNano: '1700000000000250000',
        endTimeUnixNano: '1700000000012500000',
        attributes: [
          { key: 'a.string', value: { stringValue: 'x' } },
          { key: 'a.int', value: { intValue: '42' } },
          { key: 'a.double', value: { doubleValue: 1.5 } },
          { key: 'a.bool', value: { boolValue: true } },
        ],
        status: { code: 0 },
      },
      expect.objectContaining({
        spanId: '0000000000000002',
        kind: 3,
        status: { code: 2, message: 'it broke' },
      }),
    ]);
    expect(scopeSpans.spans[1]).not.toHaveProperty('parentSpanId');
    expect(exporter.stats).toMatchObject({ exported: 2, dropped: 0, failed: 0, queued: 0 });
  });

  it('converts epoch milliseconds to nanosecond strings without losing digits', () => {
    expect(unixNanos(1_700_000_000_000)).toBe('1700000000000000000');
    expect(unixNanos(1_700_000_000_000.5)).toBe('1700000000000500000');
    expect(unixNanos(5.9999999)).toBe('5999999');
  });

  it('sends in batches on its schedule and drops (and counts) what a full queue cannot hold', async () => {
    const rx = await receiver();
    const exporter = new OtlpTraceExporter({
      config: config(rx.url, { maxQueueSize: 5, maxBatchSize: 2, scheduleDelayMs: 50 }),
      scope: { name: 's' },
    });
    for (let i = 1; i <= 8; i++) exporter.add(span(i));
    expect(exporter.stats.dropped).toBe(3);
    const deadline = Date.now() + 5000;
    while (exporter.stats.exported < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(rx.posts.map((p) => p.body.resourceSpans[0].scopeSpans[0].spans.length)).toEqual([2, 2, 1]);
    await exporter.shutdown();
    expect(exporter.stats).toMatchObject({ exported: 5, dropped: 3, failed: 0, queued: 0 });
  });

  it('counts spans a collector that is down or refusing loses, reports it once, and never throws', async () => {
    const rx = await receiver(503);
    const errors: string[] = [];
    const refusing = new OtlpTraceExporter({
      config: config(rx.url),
      scope: { name: 's' },
      onExportError: (m) => errors.push(m),
    });
    refusing.add(span(1));
    await refusing.flush();
    refusing.add(span(2));
    await refusing.shutdown();
    expect(refusing.stats).toMatchObject({ exported: 0, failed: 2 });
    expect(errors).toEqual(['the collector answered 503 to 1 spans']); // once a minute at most

    const gone = await receiver(); // a port nothing listens on any more
    await gone.close();
    const down = new OtlpTraceExporter({
      config: config(gone.url),
      scope: { name: 's' },
      onExportError: (m) => errors.push(m),
    });
    down.add(span(3));
    await down.shutdown();
    expect(down.stats).toMatchObject({ exported: 0, failed: 1 });
    expect(errors[1]).toMatch(
      /exporting 1 spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed: .*ECONNREFUSED/,
    );
  });

  it('gives up on a collector that never answers after the export timeout; add() stays instant', async () => {
    const rx = await receiver('hang'); // reads the request, never answers
    const exporter = new OtlpTraceExporter({
      config: config(rx.url, { timeoutMs: 300 }),
      scope: { name: 's' },
    });
    exporter.add(span(1));
    const flushing = exporter.flush();
    const started = performance.now();
    for (let i = 2; i < 50; i++) exporter.add(span(i));
    expect(performance.now() - started).toBeLessThan(50);
    await flushing;
    expect(rx.posts).toHaveLength(1);
    expect(exporter.stats.failed).toBe(1);
    const shutdownStarted = performance.now();
    await exporter.shutdown();
    // The rest gets one more try, all of shutdown bounded by the same timeout.
    expect(performance.now() - shutdownStarted).toBeLessThan(1000);
    expect(exporter.stats).toMatchObject({ exported: 0, failed: 49, queued: 0 });
  });
});
