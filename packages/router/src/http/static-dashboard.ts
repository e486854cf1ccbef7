/**
 * Serves the dashboard SPA (built by packages/dashboard into packages/router/public):
 * `/dashboard` and `/playground` with every deep link under them answer index.html
 * (`no-cache`), hashed files under `/dashboard/assets/` are immutable for a year, everything
 * is compressed, and every answer carries a strict CSP, nosniff and no framing. A router
 * started without a build answers these pages with a clear 503 instead of crashing.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { routerPackageRoot } from '../package-info.js';
import { describeRoutes } from './openapi.js';

/** Where `vite build` writes the SPA: packages/router/public (beside src/ and dist/). */
export const DEFAULT_DASHBOARD_DIR = join(routerPackageRoot, 'public');

export const DASHBOARD_CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>Dashboard not built</title>
<h1>The dashboard is not built</h1>
<p>This router has no dashboard files. Run <code>make build</code> (or
<code>npm run build -w @llm-router/dashboard</code>) and reload this page.
The API under <code>/v0</code> and <code>/v1</code> works without it.</p>`;

/** `..` or a backslash in the raw path (encoded or not) never reaches the file system. */
export function isTraversal(rawUrl: string): boolean {
  const path = rawUrl.split('?')[0];
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return /(^|\/)\.\.(\/|$)/.test(decoded) || decoded.includes('\\') || decoded.includes('\0');
}

export function registerDashboard(app: FastifyInstance, options: { dir?: string; log: Logger }): void {
  const page = (summary: string) => ({
    summary,
    tags: ['dashboard'],
    responses: {
      200: { description: 'The single-page app (HTML)', contentType: 'text/html' },
      503: 'Not built',
    },
  });
  describeRoutes(app, {
    'GET /dashboard': page('The web dashboard'),
    'GET /dashboard/*': page('Any dashboard view (deep link; the app routes it)'),
    'GET /playground': page('The playground'),
    'GET /playground/*': page('A playground deep link'),
    'GET /dashboard/assets/*': {
      summary: "The dashboard's hashed, immutable assets",
      tags: ['dashboard'],
      wildcard: 'file',
      responses: { 200: 'The file', 404: 'No such file' },
    },
  });
  const dir = options.dir ?? DEFAULT_DASHBOARD_DIR;
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) {
    options.log.warn({ dir }, 'dashboard is not built: /dashboard answers 503 until `make build` has run');
  }

  app.register(async (scope) => {
    // Loaded here, not at the top: the two plugins (and their MIME database) are a noticeable
    // part of a cold start, and the production bundle keeps them in a chunk of their own.
    const [{ default: fastifyCompress }, { default: fastifyStatic }] = await Promise.all([
      import('@fastify/compress'),
      import('@fastify/static'),
    ]);
    await scope.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });
    scope.addHook('onRequest', async (request, reply) => {
      reply.headers(SECURITY_HEADERS);
      if (isTraversal(request.raw.url ?? '')) {
        return reply.code(404).send({ error: { message: 'Not found', code: 'not_found' } });
      }
    });

    await scope.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/dashboard/assets/',
      decorateReply: false,
      index: false,
      immutable: true,
      maxAge: '365d',
    });

    const page = async (_request: FastifyRequest, reply: FastifyReply) => {
      let html: string;
      try {
        html = await readFile(indexFile, 'utf8');
      } catch {
        return reply
          .code(503)
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(NOT_BUILT_PAGE);
      }
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    };
    for (const url of ['/dashboard', '/dashboard/*', '/playground', '/playground/*']) scope.get(url, page);
  });
}
