/**
 * The router's one typed configuration object, built from the environment variables that the
 * README documents. Invalid values fail at start with a message naming the variable.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createEnvReader, type Env, parseBoolean, parseNumber } from './env.js';

export const BALANCER_MODES = ['auto', 'metrics', 'round_robin', 'least_loaded', 'cache_aware'] as const;
export type BalancerMode = (typeof BALANCER_MODES)[number];

/** Model registry and router cache settings (issue 4). */
export interface ModelsConfig {
  /** Router cache of registered models: `<dir>/<org>/<name>/…`. */
  dir: string;
  /** Cache tasks (downloads, quantization) that run at once. */
  concurrency: number;
  /** Hugging Face base URL, without a trailing slash. */
  hfBaseUrl: string;
  /** Sent as `Authorization: Bearer` to the hub; never logged. */
  hfToken: string | undefined;
  /** Path of llama.cpp's `llama-quantize`; unset means quantization is unavailable. */
  quantizeBin: string | undefined;
  /** Attempts per file after the first one fails with a transient error. */
  downloadRetries: number;
  /** First retry delay; it doubles per attempt (capped at 60 s). */
  retryBackoffMs: number;
  /**
   * Router replicas sharing the database: how long a replica's claim on a model's cache tasks
   * lasts without renewal (renewed every third of it); a dead replica's download is taken over
   * by another replica within about this long.
   */
  taskLeaseMs: number;
}

/** Admission control (router queue) and the `cache_aware` policy's prefix index. */
export interface RoutingConfig {
  /** Requests that may wait for a free node at once; beyond it 503 queue_full. */
  queueMax: number;
  /** How long a request may wait in the queue before 503 queue_timeout. */
  queueTimeoutMs: number;
  /** Requests in progress allowed per reported context sequence of a node. */
  requestsPerSequence: number;
  /** Hard bound on prefix index entries (cache_aware). */
  prefixIndexMaxEntries: number;
  /** Prefix index entries not refreshed for this long are dropped (cache_aware). */
  prefixIndexTtlMs: number;
}

export interface RouterConfig {
  host: string;
  port: number;
  /** `sqlite:/path/router.db` or `postgres://…`. */
  databaseUrl: string;
  dataDir: string;
  jwtSecret: string | undefined;
  adminUsername: string;
  adminPassword: string | undefined;
  logLevel: string;
  logDir: string;
  logRetentionDays: number;
  historyRetentionDays: number;
  healthCheckIntervalMs: number;
  nodeTimeoutMs: number;
  balancerMode: BalancerMode;
  allowNoGpu: boolean;
  /** New nodes wait in `pending` until an admin approves them. */
  requireNodeApproval: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  /** Longest a client may take to send its request body (slow uploads get 408). */
  bodyReadTimeoutMs: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** How many nodes one request may try before giving up (failover). */
  maxAttempts: number;
  /** Admission control and prefix-cache routing (issue 12). */
  routing: RoutingConfig;
  models: ModelsConfig;
  /**
   * `host:port` of a second listener that serves `/metrics` without auth (for a scraper on a
   * private network); null (the default) serves metrics only on the main port, behind auth.
   */
  metricsAddr: { host: string; port: number } | null;
  warnings: string[];
  /** The environment this config was read from; the cloud providers read their keys from it. */
  env: Env;
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

export function loadRouterConfig(env: Env = process.env): RouterConfig {
  const read = createEnvReader(env);
  const dataDir = expandHome(read.string('LLM_ROUTER_DATA_DIR') ?? '~/.llm-router');
  const databaseUrl = normaliseDatabaseUrl(
    read.string('LLM_ROUTER_DATABASE_URL', ['DATABASE_URL']) ?? `sqlite:${join(dataDir, 'router.db')}`,
  );
  const modeRaw = (
    read.string('LLM_ROUTER_LOAD_BALANCER_MODE', ['LOAD_BALANCER_MODE']) ?? 'auto'
  ).toLowerCase();
  if (!(BALANCER_MODES as readonly string[]).includes(modeRaw)) {
    throw new ConfigError(
      `LLM_ROUTER_LOAD_BALANCER_MODE must be one of ${BALANCER_MODES.join(', ')}, got '${modeRaw}'`,
    );
  }
  const seconds = (name: string, fallback: number, legacy: string[] = []) =>
    parseNumber(name, read.string(name, legacy), fallback, 0.001) * 1000;
  const config: RouterConfig = {
    host: read.string('LLM_ROUTER_HOST', ['ROUTER_HOST']) ?? '0.0.0.0',
    port: parseNumber('LLM_ROUTER_PORT', read.string('LLM_ROUTER_PORT', ['ROUTER_PORT']), 8080),
    databaseUrl,
    dataDir,
    jwtSecret: read.string('LLM_ROUTER_JWT_SECRET', ['JWT_SECRET']),
    adminUsername: read.string('LLM_ROUTER_ADMIN_USERNAME', ['ADMIN_USERNAME']) ?? 'admin',
    adminPassword: read.string('LLM_ROUTER_ADMIN_PASSWORD', ['ADMIN_PASSWORD']),
    logLevel: read.string('LLM_ROUTER_LOG_LEVEL', ['RUST_LOG']) ?? 'info',
    logDir: expandHome(read.string('LLM_ROUTER_LOG_DIR') ?? join(dataDir, 'logs')),
    logRetentionDays: parseNumber(
      'LLM_ROUTER_LOG_RETENTION_DAYS',
      read.string('LLM_ROUTER_LOG_RETENTION_DAYS'),
      7,
    ),
    historyRetentionDays: parseNumber(
      'LLM_ROUTER_HISTORY_RETENTION_DAYS',
      read.string('LLM_ROUTER_HISTORY_RETENTION_DAYS'),
      7,
      0.0001,
    ),
    healthCheckIntervalMs: seconds('LLM_ROUTER_HEALTH_CHECK_INTERVAL', 30, ['HEALTH_CHECK_INTERVAL']),
    nodeTimeoutMs: seconds('LLM_ROUTER_NODE_TIMEOUT', 60, ['NODE_TIMEOUT']),
    balancerMode: modeRaw as BalancerMode,
    allowNoGpu: parseBoolean('LLM_ROUTER_ALLOW_NO_GPU', read.string('LLM_ROUTER_ALLOW_NO_GPU'), false),
    requireNodeApproval: parseBoolean(
      'LLM_ROUTER_REQUIRE_NODE_APPROVAL',
      read.string('LLM_ROUTER_REQUIRE_NODE_APPROVAL'),
      false,
    ),
    bodyLimitBytes: parseNumber(
      'LLM_ROUTER_MAX_BODY_BYTES',
      read.string('LLM_ROUTER_MAX_BODY_BYTES'),
      10 * 1024 * 1024,
      1,
    ),
    bodyReadTimeoutMs: seconds('LLM_ROUTER_BODY_READ_TIMEOUT', 30),
    connectTimeoutMs: seconds('LLM_ROUTER_CONNECT_TIMEOUT', 5),
    firstByteTimeoutMs: seconds('LLM_ROUTER_FIRST_BYTE_TIMEOUT', 120),
    idleTimeoutMs: seconds('LLM_ROUTER_IDLE_TIMEOUT', 60),
    maxAttempts: parseNumber('LLM_ROUTER_MAX_ATTEMPTS', read.string('LLM_ROUTER_MAX_ATTEMPTS'), 3, 1),
    routing: {
      queueMax: Math.floor(parseNumber('LLM_ROUTER_QUEUE_MAX', read.string('LLM_ROUTER_QUEUE_MAX'), 100)),
      queueTimeoutMs: seconds('LLM_ROUTER_QUEUE_TIMEOUT', 60),
      requestsPerSequence: Math.floor(
        parseNumber(
          'LLM_ROUTER_REQUESTS_PER_SEQUENCE',
          read.string('LLM_ROUTER_REQUESTS_PER_SEQUENCE'),
          2,
          1,
        ),
      ),
      prefixIndexMaxEntries: Math.floor(
        parseNumber(
          'LLM_ROUTER_PREFIX_INDEX_MAX_ENTRIES',
          read.string('LLM_ROUTER_PREFIX_INDEX_MAX_ENTRIES'),
          100_000,
          1,
        ),
      ),
      prefixIndexTtlMs: seconds('LLM_ROUTER_PREFIX_INDEX_TTL', 600),
    },
    models: {
      dir: expandHome(read.string('LLM_ROUTER_MODELS_DIR') ?? join(dataDir, 'models')),
      concurrency: Math.floor(
        parseNumber('LLM_ROUTER_CONVERT_CONCURRENCY', read.string('LLM_ROUTER_CONVERT_CONCURRENCY'), 2, 1),
      ),
      hfBaseUrl: parseHttpUrl('HF_BASE_URL', read.string('HF_BASE_URL') ?? 'https://huggingface.co'),
      hfToken: read.string('HF_TOKEN', ['HUGGING_FACE_HUB_TOKEN']),
      quantizeBin: read.string('LLM_QUANTIZE_BIN'),
      downloadRetries: Math.floor(
        parseNumber('LLM_ROUTER_MODEL_DOWNLOAD_RETRIES', read.string('LLM_ROUTER_MODEL_DOWNLOAD_RETRIES'), 5),
      ),
      retryBackoffMs: parseNumber(
        'LLM_ROUTER_MODEL_RETRY_BACKOFF_MS',
        read.string('LLM_ROUTER_MODEL_RETRY_BACKOFF_MS'),
        1000,
      ),
      taskLeaseMs: seconds('LLM_ROUTER_MODEL_TASK_LEASE', 30),
    },
    metricsAddr: parseListenAddress('LLM_ROUTER_METRICS_ADDR', read.string('LLM_ROUTER_METRICS_ADDR')),
    warnings: read.warnings,
    env,
  };
  return config;
}

/** An http(s) base URL without a trailing slash; anything else fails at start. */
function parseHttpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http(s) URL, got '${raw}'`);
  }
  return raw.replace(/\/+$/, '');
}

/** Accepts `sqlite:path`, `sqlite://path`, `file:path`, a bare path, or a postgres URL. */
export function normaliseDatabaseUrl(url: string): string {
  if (/^postgres(ql)?:\/\//.test(url)) return url;
  const path = url.replace(/^sqlite:(\/\/)?/, '').replace(/^file:/, '');
  return `sqlite:${expandHome(path)}`;
}

/** `host:port` (`[::1]:9464` for IPv6); port 0 picks a free port. */
function parseListenAddress(name: string, raw: string | undefined): { host: string; port: number } | null {
  if (raw === undefined || raw === '') return null;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(raw.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535)
    throw new ConfigError(`${name} must be host:port (e.g. 127.0.0.1:9464), got '${raw}'`);
  return { host: match[1] ?? match[2], port };
}
