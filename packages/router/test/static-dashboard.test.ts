/**
 * Serving the built dashboard: SPA deep links, caching (immutable assets, no-cache index),
 * compression, security headers, no path traversal, and a clear 503 when it is not built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRouter, type TestRouter } from './support/router-harness.js';

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}) {
  const url = new URL(base);
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

const INDEX =
  '<!doctype html><title>LLM Router</title><script type="module" src="/dashboard/assets/app-Ab12Cd.js"></script>';
const APP_JS = `console.log(${JSON.stringify('x'.repeat(20_000))});`;

describe('dashboard static serving', () => {
  let router: TestRouter;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dashboard-build-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-Ab12Cd.js'), APP_JS);
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    router = await startTestRouter({ LLM_ROUTER_DASHBOARD_DIR: dir });
  });
  afterAll(async () => {
    await router.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    '/dashboard',
    '/dashboard/',
    '/dashboard/nodes/abc',
    '/dashboard/login',
    '/playground',
    '/playground/x',
  ])('%s answers the SPA index, not cached, with the security headers', async (path) => {
    const res = await rawGet(router.url, path);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(INDEX);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves hashed assets immutable for a year, brotli-compressed', async () => {
    const res = await rawGet(router.url, '/dashboard/assets/app-Ab12Cd.js', {
      'accept-encoding': 'br, gzip',
    });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body.length).toBeLessThan(APP_JS.length / 10);
    expect(brotliDecompressSync(res.body).toString()).toBe(APP_JS);
  });

  it('answers 404 for a missing asset instead of the index', async () => {
    expect((await rawGet(router.url, '/dashboard/assets/nope.js')).status).toBe(404);
  });

  it.each([
    '/dashboard/../v0/users',
    '/dashboard/assets/../index.html',
    '/dashboard/assets/..%2f..%2fsecret.txt',
    '/dashboard/assets/%2e%2e/secret.txt',
    '/dashboard/assets/..%5csecret.txt',
    '/playground/%2e%2e%2fsecret.txt',
  ])('refuses traversal: %s', async (path) => {
    const res = await rawGet(router.url, path);
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain('not for the web');
  });

  it('leaves the API untouched (no compression, no CSP on /v0)', async () => {
    const res = await rawGet(router.url, '/health', { 'accept-encoding': 'br' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-security-policy']).toBeUndefined();
  });
});

describe('dashboard not built', () => {
  let router: TestRouter;
  let empty: string;
  beforeAll(async () => {
    empty = mkdtempSync(join(tmpdir(), 'dashboard-missing-'));
    router = await startTestRouter({ LLM_ROUTER_DASHBOARD_DIR: join(empty, 'nothing-here') });
  });
  afterAll(async () => {
    await router.stop();
    rmSync(empty, { recursive: true, force: true });
  });

  it('answers /dashboard with a clear 503 page and keeps the API running', async () => {
    const res = await rawGet(router.url, '/dashboard');
    expect(res.status).toBe(503);
    expect(res.body.toString()).toContain('make build');
    expect((await rawGet(router.url, '/health')).status).toBe(200);
    expect((await rawGet(router.url, '/dashboard/assets/app.js')).status).toBe(404);
  });
});
