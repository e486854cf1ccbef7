/**
 * The router's Prometheus metrics (`GET /metrics`, or the separate LLM_ROUTER_METRICS_ADDR
 * listener). One registry per router, so tests and embedded routers never share counters.
 * Label sets are bounded: kinds, status classes, failure reasons and node ids come from closed
 * or fleet-sized sets, and model labels are capped (requests that reached no backend count as
 * model "none", and models past the cap as "other"), so a client cannot grow the series.
 *
 * Other modules add their own gauges with `registerGauge` (collected at scrape time), so a
 * queue or a cache can publish its state without touching this file.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { FleetView } from '../fleet/types.js';
import type { FinishedRequest } from '../history/types.js';
import { RequestCounter, RequestHistogram } from './request-series.js';

/** Distinct model label values kept; later models are counted as `other`. */
const MAX_MODEL_LABELS = 100;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

export interface MetricsSources {
  fleet: FleetView;
  /** Rows waiting to be written and rows dropped so far (request history). */
  history?: { queued(): number; droppedRows(): number };
  /** Registered models being cached, with their download progress (0..1). */
  modelCache?: () => Array<{ id: string; status: string; progress: number }>;
}

export interface GaugeSpec {
  name: string;
  help: string;
  labelNames?: string[];
  /** Called at every scrape: returns the current value for each label set. */
  collect(): Array<{ value: number; labels?: Record<string, string> }>;
}

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

export class RouterMetrics {
  readonly registry = new Registry();
  private readonly models = new Set<string>();
  // Updated on every request: request-series.ts, not prom-client's own (see there why).
  private readonly requests: RequestCounter;
  private readonly duration: RequestHistogram;
  private readonly ttft: RequestHistogram;
  private readonly overhead: RequestHistogram;
  private readonly tokens: RequestCounter;
  private readonly attemptFailures: RequestCounter;
  private readonly failovers: RequestCounter;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'llm_router_' });
    // prom-client names three gauges `*_total`, which promtool rejects (a gauge is not a
    // counter); one correctly named gauge replaces them.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
      this.registry.removeSingleMetric(`llm_router_nodejs_${name}`);
    this.registerGauge({
      name: 'llm_router_nodejs_event_loop_resources',
      help: 'Resources (handles, requests, timers) keeping the event loop alive.',
      collect: () => [{ value: process.getActiveResourcesInfo().length }],
    });
    const registry = this.registry;
    this.requests = new RequestCounter(
      'llm_router_requests_total',
      'Inference requests by kind, model, status class and backend (node id, cloud provider, or none).',
      ['kind', 'model', 'status_class', 'backend'],
      registry,
    );
    this.duration = new RequestHistogram(
      'llm_router_request_duration_seconds',
      'Inference request duration, from the request to the last byte of the reply.',
      ['kind', 'streamed'],
      LATENCY_BUCKETS,
      registry,
    );
    this.ttft = new RequestHistogram(
      'llm_router_time_to_first_token_seconds',
      'Streams: time to the first chunk that carries content or a tool call.',
      ['kind'],
      LATENCY_BUCKETS,
      registry,
    );
    this.overhead = new RequestHistogram(
      'llm_router_overhead_seconds',
      'Time the router added to a request: its duration minus the time spent waiting on the backend.',
      ['kind'],
      OVERHEAD_BUCKETS,
      registry,
    );
    this.tokens = new RequestCounter(
      'llm_router_tokens_total',
      'Tokens reported by backends, by type (prompt or completion).',
      ['kind', 'model', 'type'],
      registry,
    );
    this.attemptFailures = new RequestCounter(
      'llm_router_attempt_failures_total',
      'Backend attempts that failed, by reason (connect, timeout, upstream, client_closed).',
      ['reason'],
      registry,
    );
    this.failovers = new RequestCounter(
      'llm_router_failovers_total',
      'Requests moved on to another node after an attempt failed, by the failed attempt reason.',
      ['reason'],
      registry,
    );
    const { fleet, history, modelCache } = sources;
    this.registerGauge({
      name: 'llm_router_nodes',
      help: 'Known nodes by state.',
      labelNames: ['state'],
      collect: () => {
        const counts = new Map<string, number>();
        for (const node of fleet.all()) counts.set(node.status, (counts.get(node.status) ?? 0) + 1);
        return [...counts].map(([state, value]) => ({ value, labels: { state } }));
      },
    });
    this.registerGauge({
      name: 'llm_router_node_in_flight_requests',
      help: 'Requests the router has sent to each node and not yet finished.',
      labelNames: ['node'],
      collect: () => fleet.all().map((n) => ({ value: n.stats.inFlight, labels: { node: n.id } })),
    });
    this.registerGauge({
      name: 'llm_router_node_heartbeat_age_seconds',
      help: 'Seconds since each node was last heard from.',
      labelNames: ['node'],
      collect: () => {
        const now = Date.now();
        return fleet.all().map((n) => ({ value: (now - n.lastSeen) / 1000, labels: { node: n.id } }));
      },
    });
    if (history) {
      this.registerGauge({
        name: 'llm_router_history_queue_rows',
        help: 'Request history rows waiting to be written.',
        collect: () => [{ value: history.queued() }],
      });
      const dropped = new Counter({
        name: 'llm_router_history_dropped_rows_total',
        help: 'Request history rows dropped (queue full or refused by the database).',
        registers,
        collect() {
          this.reset();
          this.inc(history.droppedRows());
        },
      });
      void dropped;
    }
    if (modelCache) {
      this.registerGauge({
        name: 'llm_router_model_cache_progress_ratio',
        help: 'Download progress (0..1) of each registered model the router is caching.',
        labelNames: ['model', 'status'],
        collect: () =>
          modelCache().map((m) => ({ value: m.progress, labels: { model: m.id, status: m.status } })),
      });
    }
  }

  /** Adds a gauge whose values are read at every scrape (for queues, caches, pools elsewhere). */
  registerGauge(spec: GaugeSpec): void {
    this.registerCollected(Gauge, spec);
  }

  /** A counter kept by another module (its running total is read at every scrape). */
  registerCounter(spec: GaugeSpec): void {
    this.registerCollected(Counter, spec);
  }

  /** Both kinds start from zero at each scrape, so `inc` by the value sets it. */
  private registerCollected(Metric: typeof Gauge | typeof Counter, spec: GaugeSpec): void {
    new (Metric as typeof Counter)({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames ?? [],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { value, labels } of spec.collect()) {
          if (labels) this.inc(labels, value);
          else this.inc(value);
        }
      },
    });
  }

  private modelLabel(finished: FinishedRequest): string {
    if (!finished.nodeId && !finished.cloudProvider) return 'none';
    if (this.models.has(finished.model)) return finished.model;
    if (this.models.size >= MAX_MODEL_LABELS) return 'other';
    this.models.add(finished.model);
    return finished.model;
  }

  /** Counts one finished `/v1` inference request. */
  observe(finished: FinishedRequest): void {
    const { kind } = finished;
    const model = this.modelLabel(finished);
    const backend = finished.cloudProvider ?? finished.nodeId ?? 'none';
    this.requests.inc([kind, model, statusClass(finished.status), backend]);
    this.duration.observe([kind, String(finished.streamed)], finished.durationMs / 1000);
    if (finished.timeToFirstTokenMs !== undefined)
      this.ttft.observe([kind], finished.timeToFirstTokenMs / 1000);
    if (finished.upstreamMs !== undefined)
      this.overhead.observe([kind], Math.max(0, finished.durationMs - finished.upstreamMs) / 1000);
    if (finished.promptTokens) this.tokens.inc([kind, model, 'prompt'], finished.promptTokens);
    if (finished.completionTokens) this.tokens.inc([kind, model, 'completion'], finished.completionTokens);
    finished.failedAttempts.forEach((attempt, i) => {
      this.attemptFailures.inc([attempt.kind]);
      // Every failed attempt but a final one that ended the request moved it to another node.
      const last = i === finished.failedAttempts.length - 1;
      if (!last || finished.success) this.failovers.inc([attempt.kind]);
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
