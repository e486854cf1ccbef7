/**
 * OpenTelemetry trace export, OTLP over HTTP with JSON bodies (`POST {endpoint}/v1/traces`,
 * https://opentelemetry.io/docs/specs/otlp/#otlphttp), shared by the router and the node. It is
 * on only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.
 *
 * No SDK: a span is a plain record added to a bounded queue; a timer sends batches in the
 * background (every `OTEL_BSP_SCHEDULE_DELAY` ms, at once when a batch is full, and on
 * shutdown), each export has a timeout, and a full queue drops spans and counts them. A request
 * never waits for the collector, and a collector that is down or slow costs it nothing.
 */
import { randomBytes } from 'node:crypto';

export type SpanKind = 'internal' | 'server' | 'client';
export type AttributeValue = string | number | boolean | null | undefined;

export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** The parent span in the same trace (a client's span, the router's, an attempt). */
  parentSpanId?: string | null;
  name: string;
  kind: SpanKind;
  /** Wall-clock times in epoch milliseconds (fractions allowed). */
  startMs: number;
  endMs: number;
  /** Null and undefined values are left out. */
  attributes: Record<string, AttributeValue>;
  /** Set for a failed operation: the span's status is ERROR with this message. */
  error?: string | null;
}

export interface OtlpConfig {
  /** Where spans are posted: the traces endpoint as given, or `{endpoint}/v1/traces`. */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  /** Time between background exports. */
  scheduleDelayMs: number;
  /** Each export is abandoned after this long. */
  timeoutMs: number;
  maxQueueSize: number;
  maxBatchSize: number;
}

export interface OtlpSetup {
  /** Null when export is off (no endpoint set, or the SDK disabled by the standard variables). */
  config: OtlpConfig | null;
  /** Misconfigurations worth a line in the log at startup. */
  warnings: string[];
}

type Env = Record<string, string | undefined>;

const positiveInt = (env: Env, name: string, fallback: number, warnings: string[]): number => {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (Number.isInteger(value) && value > 0) return value;
  warnings.push(`${name}='${raw}' is not a positive whole number; using ${fallback}`);
  return fallback;
};

/** `key1=value1,key2=value2`, values URL-encoded (the OTLP exporter's header format). */
function parseHeaders(raw: string | undefined, name: string, warnings: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!raw?.trim()) return headers;
  for (const pair of raw.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (!key) {
      warnings.push(`${name}: ignored '${pair.trim()}' (expected key=value)`);
      continue;
    }
    const value = pair.slice(eq + 1).trim();
    try {
      headers[key.toLowerCase()] = decodeURIComponent(value);
    } catch {
      headers[key.toLowerCase()] = value;
    }
  }
  return headers;
}

/** Reads the standard `OTEL_*` variables; `defaultServiceName` when OTEL_SERVICE_NAME is unset. */
export function otlpSetupFromEnv(env: Env, defaultServiceName: string): OtlpSetup {
  const warnings: string[] = [];
  const off = { config: null, warnings };
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return off;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return off;
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!tracesEndpoint && !endpoint) return off;
  // The signal-specific endpoint is used as is; the general one gets the traces path appended.
  const url = tracesEndpoint || `${endpoint!.replace(/\/+$/, '')}/v1/traces`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    warnings.push(`OpenTelemetry export is off: '${url}' is not a valid URL`);
    return off;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    warnings.push(`OpenTelemetry export is off: '${url}' is not an http(s) URL`);
    return off;
  }
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  if (protocol && protocol !== 'http/json') {
    warnings.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL='${protocol}' is not supported: spans are exported as OTLP/HTTP JSON ('http/json') to ${url}; make sure the collector accepts it (the OpenTelemetry Collector's otlp receiver does, on port 4318)`,
    );
  }
  const headers = {
    ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS', warnings),
    ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', warnings),
  };
  const timeoutName = env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT
    ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'
    : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const maxQueueSize = positiveInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, warnings);
  return {
    config: {
      url,
      headers,
      serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
      scheduleDelayMs: positiveInt(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, warnings),
      timeoutMs: positiveInt(env, timeoutName, 10_000, warnings),
      maxQueueSize,
      maxBatchSize: Math.min(maxQueueSize, positiveInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, warnings)),
    },
    warnings,
  };
}

/** A random span id (16 hex digits, never all zero in practice). */
export const newSpanId = (): string => randomBytes(8).toString('hex');

/** Wall-clock now in epoch milliseconds, sub-millisecond precise. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** Epoch milliseconds → the decimal nanosecond string OTLP/JSON uses for times. */
export function unixNanos(ms: number): string {
  const whole = Math.floor(ms);
  const fraction = Math.min(999_999, Math.round((ms - whole) * 1e6));
  return `${whole}${String(fraction).padStart(6, '0')}`;
}

const KIND_CODES: Record<SpanKind, number> = { internal: 1, server: 2, client: 3 };

function otlpValue(value: string | number | boolean) {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  // int64 is a JSON string in the protobuf JSON mapping.
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

function otlpAttributes(attributes: Record<string, AttributeValue>) {
  const list: { key: string; value: ReturnType<typeof otlpValue> }[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value === null || value === undefined) continue;
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    list.push({ key, value: otlpValue(value) });
  }
  return list;
}

function otlpSpan(span: SpanRecord) {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    name: span.name,
    kind: KIND_CODES[span.kind],
    startTimeUnixNano: unixNanos(span.startMs),
    endTimeUnixNano: unixNanos(Math.max(span.startMs, span.endMs)),
    attributes: otlpAttributes(span.attributes),
    status: span.error ? { code: 2, message: span.error } : { code: 0 },
  };
}

/** The OTLP/JSON `ExportTraceServiceRequest` body for a batch of one service's spans. */
export function otlpTraceRequest(
  resource: Record<string, AttributeValue>,
  scope: { name: string; version?: string },
  spans: SpanRecord[],
) {
  return {
    resourceSpans: [
      {
        resource: { attributes: otlpAttributes(resource) },
        scopeSpans: [{ scope, spans: spans.map(otlpSpan) }],
      },
    ],
  };
}

export interface OtlpExporterStats {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans dropped because the queue was full. */
  dropped: number;
  /** Spans lost to failed exports (collector down, slow, or refusing). */
  failed: number;
  /** Spans waiting in the queue. */
  queued: number;
}

export interface OtlpExporterOptions {
  config: OtlpConfig;
  /** `service.name` comes from the config; these are added (service.version, …). */
  resource?: Record<string, AttributeValue>;
  scope: { name: string; version?: string };
  /** Told about failed exports, at most once a minute (the first one at once). */
  onExportError?: (message: string) => void;
}

const ERROR_REPORT_INTERVAL_MS = 60_000;

/** Batches spans and posts them in the background; see the module comment. */
export class OtlpTraceExporter {
  private queue: SpanRecord[] = [];
  private exporting: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private lastErrorReportAt = -Infinity;
  /** Spans of the export being sent now. */
  private inFlight = 0;
  /** Set when shutdown gave up waiting: spans still on their way were counted as failed. */
  private abandoned = false;
  private readonly resource: Record<string, AttributeValue>;
  readonly stats: OtlpExporterStats = { exported: 0, dropped: 0, failed: 0, queued: 0 };

  constructor(private readonly options: OtlpExporterOptions) {
    this.resource = { 'service.name': options.config.serviceName, ...options.resource };
    this.timer = setInterval(() => void this.flush(), options.config.scheduleDelayMs);
    this.timer.unref();
  }

  /** Queues a span; never blocks, never throws. */
  add(span: SpanRecord): void {
    if (this.closed || this.queue.length >= this.options.config.maxQueueSize) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(span);
    this.stats.queued = this.queue.length;
    if (this.queue.length >= this.options.config.maxBatchSize && !this.exporting) {
      setImmediate(() => void this.flush());
    }
  }

  /** Sends everything queued so far, one batch at a time; resolves when done (never rejects). */
  flush(): Promise<void> {
    if (this.exporting) return this.exporting;
    if (this.queue.length === 0) return Promise.resolve();
    this.exporting = (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue.splice(0, this.options.config.maxBatchSize);
          this.stats.queued = this.queue.length;
          this.inFlight = batch.length;
          const sent = await this.send(batch);
          this.inFlight = 0;
          if (!sent) break; // the collector is unwell: try again next round
        }
      } finally {
        this.exporting = null;
      }
    })();
    return this.exporting;
  }

  /**
   * Stops the timer and sends what is queued, all within one export timeout (an export still
   * running counts against it); what is not sent by then is lost and counted as failed.
   */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.config.timeoutMs);
    });
    const drain = (async () => {
      await this.flush();
      // A flush already running when shutdown began may have left spans for a next round.
      if (this.queue.length > 0) await this.flush();
    })();
    await Promise.race([drain, deadline]);
    clearTimeout(timer);
    this.abandoned = true;
    this.stats.failed += this.queue.length + this.inFlight;
    this.queue = [];
    this.stats.queued = 0;
  }

  private async send(batch: SpanRecord[]): Promise<boolean> {
    const { config } = this.options;
    const body = JSON.stringify(otlpTraceRequest(this.resource, this.options.scope, batch));
    try {
      const res = await fetch(config.url, {
        method: 'POST',
        headers: { ...config.headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      // The body is not needed (a partial-success report at most); read it so the socket is reused.
      await res.arrayBuffer().catch(() => undefined);
      if (this.abandoned) return res.ok; // counted as failed by shutdown already
      if (res.ok) {
        this.stats.exported += batch.length;
        return true;
      }
      this.reportError(`the collector answered ${res.status} to ${batch.length} spans`);
    } catch (error) {
      const reason =
        error instanceof Error ? (error.cause as Error | undefined)?.message || error.message : String(error);
      this.reportError(`exporting ${batch.length} spans to ${config.url} failed: ${reason}`);
    }
    if (!this.abandoned) this.stats.failed += batch.length;
    return false;
  }

  private reportError(message: string): void {
    const now = Date.now();
    if (now - this.lastErrorReportAt < ERROR_REPORT_INTERVAL_MS) return;
    this.lastErrorReportAt = now;
    this.options.onExportError?.(message);
  }
}
