/**
 * Prometheus metrics for cloud requests, in a registry of their own so `/v0/metrics/cloud`
 * shows exactly these series (and tests can create as many gateways as they like).
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { CloudProviderName } from './types.js';

export class CloudMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'cloud_requests_total',
    help: 'Requests sent to cloud providers, by the HTTP status the client got (499: client went away)',
    labelNames: ['provider', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'cloud_request_latency_seconds',
    help: 'Time from receiving a cloud request to the end of its complete response (streams: the last event)',
    labelNames: ['provider'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly firstToken = new Histogram({
    name: 'cloud_time_to_first_token_seconds',
    help: 'Streams only: time from receiving the request to the first generated content sent to the client',
    labelNames: ['provider'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });

  get contentType(): string {
    return this.registry.contentType;
  }

  /** `seconds` is left out for requests refused before any upstream call (missing key, unsupported). */
  recordRequest(provider: CloudProviderName, status: number, seconds?: number): void {
    this.requests.inc({ provider, status: String(status) });
    if (seconds !== undefined) this.latency.observe({ provider }, seconds);
  }

  recordFirstToken(provider: CloudProviderName, seconds: number): void {
    this.firstToken.observe({ provider }, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
