/**
 * Starts a real router in-process on 127.0.0.1 with a fresh SQLite file, for API tests.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadRouterConfig } from '../../src/config/config.js';
import { type RunningRouter, startRouter } from '../../src/main.js';
import { createRouterLogging } from '../../src/observability/logger.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies field by field.
type Json = any;

export interface TestRouter extends RunningRouter {
  dataDir: string;
  databaseUrl: string;
  /** fetch() against the router with JSON in and out. */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Json; headers: Headers }>;
  adminToken(): Promise<string>;
  createKey(scopes: string[], expiresAt?: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * With LLM_ROUTER_TEST_DATABASE=postgres (the suite's second run) each router gets a fresh
 * database on the test PostgreSQL server; otherwise a fresh SQLite file.
 */
export async function freshDatabaseUrl(dataDir: string): Promise<{ url: string; drop(): Promise<void> }> {
  const server = process.env.LLM_ROUTER_TEST_POSTGRES_URL;
  if (process.env.LLM_ROUTER_TEST_DATABASE !== 'postgres' || !server) {
    return { url: `sqlite:${join(dataDir, 'router.db')}`, drop: async () => {} };
  }
  const name = `router_test_${randomUUID().replace(/-/g, '')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: server.replace(/\/[^/]*$/, `/${name}`),
    async drop() {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Drops a database `freshDatabaseUrl` created, given its URL (for routers restarted on it). */
function dropperFor(url: string): () => Promise<void> {
  const server = process.env.LLM_ROUTER_TEST_POSTGRES_URL;
  if (!url.startsWith('postgres') || !server) return async () => {};
  const name = url.slice(url.lastIndexOf('/') + 1);
  return async () => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  };
}

export interface StartOptions {
  /** Start on an earlier router's data dir and database (close that one first): a restart. */
  reuse?: { dataDir: string; databaseUrl: string };
}

export async function startTestRouter(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<TestRouter> {
  const dataDir = options.reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'llm-router-test-'));
  const database = options.reuse
    ? { url: options.reuse.databaseUrl, drop: dropperFor(options.reuse.databaseUrl) }
    : await freshDatabaseUrl(dataDir);
  const config = loadRouterConfig({
    LLM_ROUTER_DATABASE_URL: database.url,
    LLM_ROUTER_HOST: '127.0.0.1',
    LLM_ROUTER_PORT: '0',
    LLM_ROUTER_DATA_DIR: dataDir,
    LLM_ROUTER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...env,
  });
  const router = await startRouter(
    config,
    createRouterLogging({ level: 'info', dir: join(dataDir, 'logs'), retentionDays: 7, console: null }),
  );
  const call: TestRouter['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${router.url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: response.status, body: parsed, headers: response.headers };
  };
  let token: string | undefined;
  const adminToken = async () => {
    if (!token) {
      const res = await call('POST', '/v0/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
      });
      token = res.body.token as string;
    }
    return token;
  };
  let closed = false;
  return {
    ...router,
    async close() {
      closed = true;
      await router.close();
    },
    dataDir,
    databaseUrl: database.url,
    call,
    adminToken,
    async createKey(scopes, expiresAt) {
      const res = await call('POST', '/v0/api-keys', {
        body: { name: `test ${scopes.join(',')}`, scopes, ...(expiresAt ? { expires_at: expiresAt } : {}) },
        headers: { authorization: `Bearer ${await adminToken()}` },
      });
      if (res.status !== 201)
        throw new Error(`key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.key as string;
    },
    async stop() {
      if (!closed) await router.close();
      closed = true;
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A registration body for a node with one GPU, as a real GPU node would send it. */
export function gpuNodeRegistration(overrides: Record<string, unknown> = {}) {
  return {
    machine_name: 'gpu-host',
    ip_address: '127.0.0.1',
    runtime_version: '1.0.0',
    runtime_port: 11435,
    node_api_port: 11435,
    gpu_available: true,
    gpu_devices: [{ model: 'NVIDIA RTX 4090', count: 1, memory: 24 * 1024 ** 3 }],
    supported_runtimes: ['llama_cpp'],
    models: [{ id: 'stories260K', ready: true }],
    ...overrides,
  };
}

export function heartbeat(nodeId: string, overrides: Record<string, unknown> = {}) {
  return {
    node_id: nodeId,
    cpu_usage: 12.5,
    memory_usage: 40,
    active_requests: 0,
    loaded_models: ['stories260K'],
    initializing: false,
    ...overrides,
  };
}
