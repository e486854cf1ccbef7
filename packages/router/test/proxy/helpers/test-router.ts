/**
 * A Fastify app with the real server assembly (raw-body parser, OpenAI-shaped errors) and only
 * the `/v1` routes, listening on 127.0.0.1, with a permissive scope check.
 */
import OpenAI from 'openai';
import pino from 'pino';
import type { AdmissionController } from '../../../src/admission/controller.js';
import { type FinishedRequest, registerOpenAIRoutes } from '../../../src/api/openai.js';
import { createBalancer } from '../../../src/balancer/index.js';
import type { BalancerPolicy } from '../../../src/balancer/types.js';
import type { CloudGateway } from '../../../src/cloud/types.js';
import { loadRouterConfig, type RouterConfig } from '../../../src/config/config.js';
import type { FleetView } from '../../../src/fleet/types.js';
import type { Principal, RequireScope } from '../../../src/http/auth-context.js';
import { createHttpServer } from '../../../src/http/server.js';
import type { ResponseStore } from '../../../src/responses/store.js';

export interface TestRouter {
  url: string;
  finished: FinishedRequest[];
  client: OpenAI;
  close(): Promise<void>;
}

export interface TestRouterOptions {
  fleet: FleetView;
  config?: Partial<RouterConfig>;
  balancer?: BalancerPolicy;
  cloud?: CloudGateway;
  principal?: Principal;
  /** Defaults to a guard that lets every request through as `principal`. */
  requireScope?: RequireScope;
  admission?: AdmissionController;
  /** Offers `/v1/responses` with this store. */
  responses?: ResponseStore;
}

export const TEST_PRINCIPAL: Principal = {
  kind: 'api_key',
  apiKeyId: 'key-123',
  scopes: ['api:inference'],
  createdBy: null,
};

export async function startTestRouter(options: TestRouterOptions): Promise<TestRouter> {
  const config: RouterConfig = {
    ...loadRouterConfig({}),
    connectTimeoutMs: 2_000,
    firstByteTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    maxAttempts: 3,
    ...options.config,
  };
  const app = createHttpServer({
    bodyLimitBytes: config.bodyLimitBytes,
    bodyReadTimeoutMs: config.bodyReadTimeoutMs,
    log: pino({ level: 'silent' }),
  });
  const principal = options.principal ?? TEST_PRINCIPAL;
  const requireScope: RequireScope =
    options.requireScope ??
    (() => async (request) => {
      request.principal = principal;
    });
  const finished: FinishedRequest[] = [];
  registerOpenAIRoutes(app, {
    fleet: options.fleet,
    config,
    requireScope,
    cloud: options.cloud,
    balancer: options.balancer ?? createBalancer('round_robin'),
    onRequestFinished: (request) => finished.push(request),
    admission: options.admission,
    responses: options.responses,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('router did not bind a TCP port');
  const url = `http://127.0.0.1:${address.port}`;
  const client = new OpenAI({ apiKey: 'sk-test-key', baseURL: `${url}/v1`, maxRetries: 0, timeout: 30_000 });
  return {
    url,
    finished,
    client,
    close: async () => {
      const closing = app.close();
      // Test clients leave keep-alive sockets behind (some never send a request), which Node
      // would otherwise hold open until its headers timeout.
      app.server.closeAllConnections();
      await closing;
    },
  };
}

/** Polls until `check` holds (for things that complete after the client has its reply). */
export async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads a whole SSE body as text with fetch (no SDK), for byte-level checks. */
export async function postRaw(
  url: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client-secret', ...headers },
    body,
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}
