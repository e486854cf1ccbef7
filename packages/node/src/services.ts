/** What the HTTP routes and the agent share: one object built by `startNode`. */
import type { OtlpTraceExporter } from '@llm-router/protocol/otlp';
import type { Logger } from 'pino';
import type { NodeConfig } from './config/config.js';
import type { GpuSampler } from './llama/gpu-stats.js';
import type { GpuInfo } from './llama/runtime.js';
import type { ModelManager } from './models/model-manager.js';
import type { NodeLogging } from './observability/logger.js';
import type { NodeMetrics } from './observability/metrics.js';

export interface NodeServices {
  config: NodeConfig;
  version: string;
  log: Logger;
  logging: NodeLogging;
  metrics: NodeMetrics;
  models: ModelManager;
  gpu: GpuInfo;
  gpuSampler: GpuSampler;
  /** One controller per in-flight inference request, so shutdown can stop generation. */
  inflight: Set<AbortController>;
  /** Set when OpenTelemetry export is on: each generation becomes a span (see http/openai/generation.ts). */
  traces?: OtlpTraceExporter | null;
}
