/**
 * The node's one typed configuration object, built from the environment variables (and the
 * optional `LLM_NODE_CONFIG` JSON file) that the README documents. Invalid values fail at start
 * with a message naming the variable.
 */

import { readFileSync } from 'node:fs';
import { availableParallelism, homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { type OtlpConfig, otlpSetupFromEnv } from '@llm-router/protocol/otlp';
import {
  ConfigError,
  createSettingReader,
  type Env,
  parseBoolean,
  parseNumber,
  parseUrl,
  type SettingReader,
} from './env.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Model sync's downloader (`LLM_DL_*`, contract §4 and §10). */
export interface DownloadConfig {
  /** Files downloaded at once, over all models. */
  concurrency: number;
  /** Retries of one file after the first try (network, stall, 5xx, checksum). */
  maxRetries: number;
  /** First retry delay; doubles on each retry. */
  backoffMs: number;
  /** Bytes read, throttled and written at a time. */
  chunkBytes: number;
  /** Bandwidth cap over all downloads in bytes per second; 0 = unlimited. */
  maxBytesPerSec: number;
  /** A download that receives nothing for this long is cut and resumed. */
  stallTimeoutMs: number;
  /** Serve a model from the router's path when it is readable here (shared storage). */
  useSharedPath: boolean;
}

export interface NodeConfig {
  /** The first of `routerUrls` (model sync pulls files from it). */
  routerUrl: string;
  /** Every router replica (`LLM_ROUTER_URL=a,b`); registration and heartbeats fail over in order. */
  routerUrls: string[];
  /** Key with scope `node:register`; without one the node runs standalone (no registration). */
  apiKey: string | null;
  /** 0 picks a free port (tests). */
  port: number;
  bindAddress: string;
  /** The address reported to the router. */
  ip: string;
  /** The URL the router should call; null means `http://{ip}:{actual port}`. */
  publicUrl: string | null;
  modelsDir: string;
  heartbeatSecs: number;
  /** CPU threads for llama.cpp. */
  threads: number;
  /** Context sequences per model: how many requests one model serves at once. */
  parallel: number;
  /** Most models loaded at once (least recently used ones are unloaded); 0 = no limit. */
  maxLoadedModels: number;
  /** Requests that may wait for a free sequence; beyond that the node answers 503. */
  queueLimit: number;
  /** Tokens per sequence, capped to the model's training context. */
  contextSize: number;
  allowNoGpu: boolean;
  logLevel: LogLevel;
  logDir: string;
  /** Days of daily log files (`llm-node.jsonl.YYYY-MM-DD`) kept; older ones are deleted. */
  logRetentionDays: number;
  /** Also write log lines to stdout (the CLI does; embedded nodes in tests do not). */
  logToStdout: boolean;
  /** Where the stable node id is persisted. */
  stateDir: string;
  bodyLimitBytes: number;
  /** How often the models directory is rescanned for new files; 0 disables. */
  modelRescanSecs: number;
  /** Backoff while the router is unreachable or erroring. */
  retryInitialMs: number;
  retryMaxMs: number;
  download: DownloadConfig;
  configFile: string | null;
  /** OpenTelemetry export (OTLP/HTTP JSON) from the standard OTEL_* variables; null when off. */
  otlp?: OtlpConfig | null;
  warnings: string[];
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/**
 * llama.cpp's CPU threads spin while they work. Using every core starves the event loop that
 * streams tokens and answers health checks (on 2 cores the default stalled generation for
 * minutes), so one core is left free; on a 1-core machine there is no choice but 1.
 */
export function defaultThreadCount(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * The address the router should reach this node at: loopback when the router itself is on
 * loopback (a one-machine setup), else the first non-internal IPv4 address.
 */
export function detectNodeIp(routerUrl: string, interfaces = networkInterfaces()): string {
  if (isLoopbackHost(new URL(routerUrl).hostname)) return '127.0.0.1';
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

function readConfigFile(env: Env): { path: string | null; values: Record<string, unknown> } {
  const path = env.LLM_NODE_CONFIG?.trim() ? expandHome(env.LLM_NODE_CONFIG.trim()) : null;
  if (!path) return { path: null, values: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`LLM_NODE_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`LLM_NODE_CONFIG: ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`LLM_NODE_CONFIG: ${path} must hold a JSON object`);
  }
  return { path, values: parsed as Record<string, unknown> };
}

function readLogLevel(read: SettingReader): LogLevel {
  const setting = read.raw('LLM_NODE_LOG_LEVEL');
  const level = (setting?.value ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(
      `LLM_NODE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${setting?.value}'`,
    );
  }
  return level as LogLevel;
}

function readDownloadConfig(read: SettingReader): DownloadConfig {
  return {
    concurrency: parseNumber(read.raw('LLM_DL_CONCURRENCY'), 4, { min: 1, max: 64, integer: true }),
    maxRetries: parseNumber(read.raw('LLM_DL_MAX_RETRIES'), 2, { max: 100, integer: true }),
    backoffMs: parseNumber(read.raw('LLM_DL_BACKOFF_MS'), 200, { max: 3_600_000, integer: true }),
    // Upstream bounds a chunk to 1 MiB.
    chunkBytes: parseNumber(read.raw('LLM_DL_CHUNK'), 64 * 1024, { min: 1, max: 1024 * 1024, integer: true }),
    maxBytesPerSec: parseNumber(read.raw('LLM_DL_MAX_BPS'), 0, { integer: true }),
    stallTimeoutMs: parseNumber(read.raw('LLM_DL_TIMEOUT_MS'), 30_000, { min: 100, integer: true }),
    useSharedPath: parseBoolean(read.raw('LLM_DL_SHARED_PATH'), true),
  };
}

export function loadNodeConfig(env: Env = process.env): NodeConfig {
  const otlp = otlpSetupFromEnv(env, 'llm-node');
  const file = readConfigFile(env);
  const read = createSettingReader(env, file.values, file.path);
  const routerSetting = read.raw('LLM_ROUTER_URL', { fileKey: 'router_url' });
  const routerUrls = (routerSetting?.value ?? 'http://127.0.0.1:8080')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((value) => parseUrl({ value, source: routerSetting?.source ?? 'LLM_ROUTER_URL' }, value));
  if (routerUrls.length === 0) routerUrls.push('http://127.0.0.1:8080');
  const routerUrl = routerUrls[0] as string;
  const port = parseNumber(read.raw('LLM_NODE_PORT', { fileKey: 'node_port' }), 11435, {
    max: 65535,
    integer: true,
  });
  const publicUrlSetting = read.raw('LLM_NODE_PUBLIC_URL');
  const stateDir = expandHome(read.raw('LLM_NODE_STATE_DIR')?.value ?? '~/.llm-router');
  return {
    routerUrl,
    routerUrls,
    apiKey: read.raw('LLM_NODE_API_KEY', { fileKey: 'router_api_key' })?.value ?? null,
    port,
    bindAddress: read.raw('LLM_NODE_BIND_ADDRESS', { fileKey: 'bind_address' })?.value ?? '0.0.0.0',
    ip: read.raw('LLM_NODE_IP')?.value ?? detectNodeIp(routerUrl),
    publicUrl: publicUrlSetting ? parseUrl(publicUrlSetting, '') : null,
    modelsDir: expandHome(
      read.raw('LLM_NODE_MODELS_DIR', { legacy: ['LLM_MODELS_DIR'], fileKey: 'models_dir' })?.value ??
        '~/.llm-router/models',
    ),
    heartbeatSecs: parseNumber(
      read.raw('LLM_NODE_HEARTBEAT_SECS', { fileKey: 'heartbeat_interval_sec' }),
      10,
      {
        min: 0.05,
      },
    ),
    threads: parseNumber(read.raw('LLM_NODE_THREADS'), defaultThreadCount(), {
      min: 1,
      max: 1024,
      integer: true,
    }),
    parallel: parseNumber(read.raw('LLM_NODE_PARALLEL'), 2, { min: 1, max: 256, integer: true }),
    maxLoadedModels: parseNumber(read.raw('LLM_MAX_LOADED_MODELS'), 0, {
      min: 0,
      max: 10_000,
      integer: true,
    }),
    queueLimit: parseNumber(read.raw('LLM_NODE_QUEUE_LIMIT'), 64, { integer: true }),
    contextSize: parseNumber(read.raw('LLM_NODE_CONTEXT_SIZE'), 2048, { min: 64, integer: true }),
    allowNoGpu: parseBoolean(read.raw('LLM_ALLOW_NO_GPU', { legacy: ['LLM_NODE_ALLOW_NO_GPU'] }), false),
    logLevel: readLogLevel(read),
    logDir: expandHome(read.raw('LLM_NODE_LOG_DIR')?.value ?? join(stateDir, 'logs')),
    logRetentionDays: parseNumber(read.raw('LLM_NODE_LOG_RETENTION_DAYS'), 7, {
      min: 1,
      max: 3650,
      integer: true,
    }),
    logToStdout: true,
    stateDir,
    bodyLimitBytes: parseNumber(read.raw('LLM_NODE_BODY_LIMIT_BYTES'), 10 * 1024 * 1024, {
      min: 1024,
      integer: true,
    }),
    modelRescanSecs: parseNumber(read.raw('LLM_NODE_MODEL_RESCAN_SECS'), 10),
    retryInitialMs: 1000,
    retryMaxMs: 30_000,
    download: readDownloadConfig(read),
    configFile: file.path,
    otlp: otlp.config,
    warnings: [...read.warnings, ...otlp.warnings],
  };
}
