/**
 * The router's one typed configuration object, built from the environment variables that the
 * README documents. Invalid values fail at start with a message naming the variable.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createEnvReader, type Env, parseBoolean, parseNumber } from './env.js';

export const BALANCER_MODES = ['auto', 'metrics', 'round_robin', 'least_loaded'] as const;
export type BalancerMode = (typeof BALANCER_MODES)[number];

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
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** How many nodes one request may try before giving up (failover). */
  maxAttempts: number;
  warnings: string[];
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
    connectTimeoutMs: seconds('LLM_ROUTER_CONNECT_TIMEOUT', 5),
    firstByteTimeoutMs: seconds('LLM_ROUTER_FIRST_BYTE_TIMEOUT', 120),
    idleTimeoutMs: seconds('LLM_ROUTER_IDLE_TIMEOUT', 60),
    maxAttempts: parseNumber('LLM_ROUTER_MAX_ATTEMPTS', read.string('LLM_ROUTER_MAX_ATTEMPTS'), 3, 1),
    warnings: read.warnings,
  };
  return config;
}

/** Accepts `sqlite:path`, `sqlite://path`, `file:path`, a bare path, or a postgres URL. */
export function normaliseDatabaseUrl(url: string): string {
  if (/^postgres(ql)?:\/\//.test(url)) return url;
  const path = url.replace(/^sqlite:(\/\/)?/, '').replace(/^file:/, '');
  return `sqlite:${expandHome(path)}`;
}
