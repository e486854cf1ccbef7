import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRouterConfig } from '../src/config/config.js';
import { ConfigError } from '../src/config/env.js';

describe('router configuration', () => {
  it('has the documented defaults', () => {
    const config = loadRouterConfig({});
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      databaseUrl: `sqlite:${join(homedir(), '.llm-router', 'router.db')}`,
      adminUsername: 'admin',
      healthCheckIntervalMs: 30_000,
      nodeTimeoutMs: 60_000,
      balancerMode: 'auto',
      allowNoGpu: false,
      historyRetentionDays: 7,
    });
    expect(config.warnings).toEqual([]);
  });

  it('reads LLM_ROUTER_METRICS_ADDR as host:port, off by default, and refuses anything else', () => {
    expect(loadRouterConfig({}).metricsAddr).toBeNull();
    expect(loadRouterConfig({ LLM_ROUTER_METRICS_ADDR: '127.0.0.1:9464' }).metricsAddr).toEqual({
      host: '127.0.0.1',
      port: 9464,
    });
    expect(loadRouterConfig({ LLM_ROUTER_METRICS_ADDR: '[::1]:0' }).metricsAddr).toEqual({
      host: '::1',
      port: 0,
    });
    for (const bad of ['9464', 'localhost', 'host:99999', 'http://x:1'])
      expect(() => loadRouterConfig({ LLM_ROUTER_METRICS_ADDR: bad })).toThrow(/LLM_ROUTER_METRICS_ADDR/);
  });

  it('reads legacy names as fallbacks and warns about each', () => {
    const config = loadRouterConfig({
      ROUTER_PORT: '9000',
      DATABASE_URL: 'sqlite:/tmp/x.db',
      JWT_SECRET: 's',
    });
    expect(config.port).toBe(9000);
    expect(config.databaseUrl).toBe('sqlite:/tmp/x.db');
    expect([...config.warnings].sort()).toEqual([
      'DATABASE_URL is deprecated; use LLM_ROUTER_DATABASE_URL instead',
      'JWT_SECRET is deprecated; use LLM_ROUTER_JWT_SECRET instead',
      'ROUTER_PORT is deprecated; use LLM_ROUTER_PORT instead',
    ]);
  });

  it('prefers the documented name over the legacy one', () => {
    expect(loadRouterConfig({ LLM_ROUTER_PORT: '1234', ROUTER_PORT: '9000' }).port).toBe(1234);
  });

  it('honours both balancer variable names', () => {
    expect(loadRouterConfig({ LLM_ROUTER_LOAD_BALANCER_MODE: 'round_robin' }).balancerMode).toBe(
      'round_robin',
    );
    const legacy = loadRouterConfig({ LOAD_BALANCER_MODE: 'metrics' });
    expect(legacy.balancerMode).toBe('metrics');
    expect(legacy.warnings[0]).toContain('LOAD_BALANCER_MODE');
  });

  it('reads the cache_aware mode and the admission queue settings', () => {
    const config = loadRouterConfig({
      LLM_ROUTER_LOAD_BALANCER_MODE: 'cache_aware',
      LLM_ROUTER_QUEUE_MAX: '5',
      LLM_ROUTER_QUEUE_TIMEOUT: '2.5',
      LLM_ROUTER_REQUESTS_PER_SEQUENCE: '3',
      LLM_ROUTER_PREFIX_INDEX_MAX_ENTRIES: '1000',
      LLM_ROUTER_PREFIX_INDEX_TTL: '30',
    });
    expect(config.balancerMode).toBe('cache_aware');
    expect(config.routing).toEqual({
      queueMax: 5,
      queueTimeoutMs: 2500,
      requestsPerSequence: 3,
      prefixIndexMaxEntries: 1000,
      prefixIndexTtlMs: 30_000,
    });
    expect(loadRouterConfig({}).routing).toMatchObject({ queueMax: 100, queueTimeoutMs: 60_000 });
    expect(() => loadRouterConfig({ LLM_ROUTER_QUEUE_MAX: '-1' })).toThrow(/LLM_ROUTER_QUEUE_MAX/);
    expect(() => loadRouterConfig({ LLM_ROUTER_QUEUE_TIMEOUT: 'soon' })).toThrow(/LLM_ROUTER_QUEUE_TIMEOUT/);
    expect(() => loadRouterConfig({ LLM_ROUTER_REQUESTS_PER_SEQUENCE: '0' })).toThrow(
      /LLM_ROUTER_REQUESTS_PER_SEQUENCE/,
    );
  });

  it('fails at start with a message naming the variable for bad values', () => {
    expect(() => loadRouterConfig({ LLM_ROUTER_LOAD_BALANCER_MODE: 'fastest' })).toThrow(
      /LLM_ROUTER_LOAD_BALANCER_MODE must be one of auto, metrics, round_robin, least_loaded, cache_aware/,
    );
    expect(() => loadRouterConfig({ LLM_ROUTER_PORT: 'http' })).toThrow(ConfigError);
    expect(() => loadRouterConfig({ LLM_ROUTER_NODE_TIMEOUT: '-5' })).toThrow(/LLM_ROUTER_NODE_TIMEOUT/);
    expect(() => loadRouterConfig({ LLM_ROUTER_ALLOW_NO_GPU: 'maybe' })).toThrow(/LLM_ROUTER_ALLOW_NO_GPU/);
  });

  it('accepts the database URL forms people write', () => {
    expect(loadRouterConfig({ LLM_ROUTER_DATABASE_URL: 'sqlite://~/r.db' }).databaseUrl).toBe(
      `sqlite:${join(homedir(), 'r.db')}`,
    );
    expect(loadRouterConfig({ LLM_ROUTER_DATABASE_URL: '/var/lib/r.db' }).databaseUrl).toBe(
      'sqlite:/var/lib/r.db',
    );
    expect(loadRouterConfig({ LLM_ROUTER_DATABASE_URL: 'postgres://u:p@h/db' }).databaseUrl).toBe(
      'postgres://u:p@h/db',
    );
  });

  it('takes timeouts in seconds, fractions allowed', () => {
    const config = loadRouterConfig({ LLM_ROUTER_NODE_TIMEOUT: '0.5', LLM_ROUTER_FIRST_BYTE_TIMEOUT: '2' });
    expect(config.nodeTimeoutMs).toBe(500);
    expect(config.firstByteTimeoutMs).toBe(2000);
  });
});
