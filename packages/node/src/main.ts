/**
 * `startNode`: the whole inference node in one call. Order matters: GPU check first (refuse
 * early), then the HTTP server (the router probes it), then model loading in the background,
 * then model sync (background downloads) and registration and heartbeats.
 */

import { hostname } from 'node:os';
import { OtlpTraceExporter } from '@llm-router/protocol/otlp';
import { NodeAgent } from './agent/agent.js';
import type { NodeLoad } from './agent/payloads.js';
import { RouterClient } from './agent/router-client.js';
import type { NodeConfig } from './config/config.js';
import { buildServer } from './http/server.js';
import { GpuSampler } from './llama/gpu-stats.js';
import { startLlama } from './llama/runtime.js';
import { ModelManager } from './models/model-manager.js';
import { createNodeLogging } from './observability/logger.js';
import { NodeMetrics } from './observability/metrics.js';
import { CpuSampler, memoryUsagePercent } from './observability/system-stats.js';
import type { NodeServices } from './services.js';
import { ModelSync } from './sync/model-sync.js';
import { RouterModelsClient } from './sync/router-models-client.js';
import { NODE_VERSION } from './version.js';

/** How long shutdown waits for open connections before closing them. */
const SHUTDOWN_GRACE_MS = 500;

export interface RunningNode {
  /** Where this process can reach the node (loopback when bound to all interfaces). */
  url: string;
  /** What the router is told to call. */
  publicUrl: string;
  port: number;
  /** The registration agent, or null when no API key is configured (standalone). */
  agent: NodeAgent | null;
  /** Model sync from the router, or null when standalone. */
  sync: ModelSync | null;
  services: NodeServices;
  close(): Promise<void>;
}

function localUrl(bindAddress: string, port: number): string {
  if (bindAddress === '0.0.0.0' || bindAddress === '') return `http://127.0.0.1:${port}`;
  if (bindAddress === '::') return `http://[::1]:${port}`;
  return `http://${bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress}:${port}`;
}

export async function startNode(config: NodeConfig): Promise<RunningNode> {
  const logging = createNodeLogging({
    level: config.logLevel,
    logDir: config.logDir,
    retentionDays: config.logRetentionDays,
    toStdout: config.logToStdout,
  });
  const log = logging.logger;
  for (const warning of config.warnings) log.warn(warning);

  let llamaRuntime: Awaited<ReturnType<typeof startLlama>>;
  try {
    llamaRuntime = await startLlama({ threads: config.threads, allowNoGpu: config.allowNoGpu }, log);
  } catch (error) {
    logging.close();
    throw error;
  }
  const { llama, gpu } = llamaRuntime;
  const models = new ModelManager(
    llama,
    config.modelsDir,
    {
      contextSize: config.contextSize,
      parallel: config.parallel,
      queueLimit: config.queueLimit,
      threads: config.threads,
    },
    log,
    config.maxLoadedModels,
  );
  const services: NodeServices = {
    config,
    version: NODE_VERSION,
    log,
    logging,
    metrics: new NodeMetrics(),
    models,
    gpu,
    gpuSampler: new GpuSampler(llama, gpu),
    inflight: new Set(),
    traces: config.otlp
      ? new OtlpTraceExporter({
          config: config.otlp,
          resource: { 'service.version': NODE_VERSION },
          scope: { name: 'llm-node', version: NODE_VERSION },
          onExportError: (message) =>
            log.warn(`OpenTelemetry export: ${message} (spans are dropped until it recovers)`),
        })
      : null,
  };
  if (config.otlp)
    log.info({ url: config.otlp.url, service: config.otlp.serviceName }, 'OpenTelemetry trace export on');

  const app = buildServer(services);
  try {
    await app.listen({ port: config.port, host: config.bindAddress });
  } catch (error) {
    await llama.dispose();
    logging.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = localUrl(config.bindAddress, port);
  const publicUrl =
    config.publicUrl ?? `http://${config.ip.includes(':') ? `[${config.ip}]` : config.ip}:${port}`;
  log.info(
    {
      url,
      publicUrl,
      modelsDir: config.modelsDir,
      threads: config.threads,
      parallel: config.parallel,
      gpu: gpu.backend,
    },
    'llm-node listening',
  );

  void models.start(config.modelRescanSecs);

  let agent: NodeAgent | null = null;
  let sync: ModelSync | null = null;
  if (config.apiKey) {
    const modelSync = new ModelSync({
      modelsDir: config.modelsDir,
      client: new RouterModelsClient(config.routerUrl, config.apiKey),
      target: models,
      settings: config.download,
      retryInitialMs: config.retryInitialMs,
      retryMaxMs: config.retryMaxMs,
      log: log.child({ component: 'sync' }),
    });
    sync = modelSync;
    const cpu = new CpuSampler();
    const readLoad = async (): Promise<NodeLoad> => ({
      models: models.list(),
      initializing: models.initializing,
      activeRequests: services.metrics.activeRequests,
      averageResponseTimeMs: services.metrics.averageResponseTimeMs(),
      cpuUsage: cpu.sample(),
      memoryUsage: memoryUsagePercent(),
      gpu: await services.gpuSampler.sample(),
      modelDownloads: modelSync.downloads(),
    });
    agent = new NodeAgent(
      new RouterClient(config.routerUrls, config.apiKey),
      { machineName: hostname(), ip: config.ip, port, publicUrl, version: NODE_VERSION, gpu },
      readLoad,
      {
        stateDir: config.stateDir,
        heartbeatMs: config.heartbeatSecs * 1000,
        retryInitialMs: config.retryInitialMs,
        retryMaxMs: config.retryMaxMs,
        onModelsVersion: (version) => modelSync.notifyVersion(version),
      },
      log.child({ component: 'agent' }),
    );
    const nodeAgent = agent;
    models.onChange(() => nodeAgent.wake());
    modelSync.onChange(() => nodeAgent.wake());
    // Sync runs beside serving: downloads never hold up startup or requests.
    modelSync.start();
    agent.start();
  } else {
    log.info('LLM_NODE_API_KEY is not set: running standalone (not registering with a router)');
  }

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      const started = performance.now();
      const step = async (name: string, work: () => Promise<unknown> | unknown) => {
        await work();
        log.debug({ step: name, ms: Math.round(performance.now() - started) }, 'shutdown step done');
      };
      await step('agent', () => agent?.stop());
      await step('sync', () => sync?.stop());
      for (const controller of services.inflight) controller.abort(new Error('node shutting down'));
      // Connections that never finish on their own (a client's spare idle socket, a stream
      // that will not read) must not hold shutdown up for a keep-alive timeout.
      const forceClose = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await step('http', () => app.close());
      clearTimeout(forceClose);
      await step('traces', () => services.traces?.shutdown());
      await step('models', () => models.close());
      await step('llama', () => llama.dispose());
      log.info('llm-node stopped');
      logging.close();
    })();
    return closing;
  };
  return { url, publicUrl, port, agent, sync, services, close };
}
