/**
 * A minimal router for the cloud tests: the three `/v1` inference routes handing cloud models
 * to the gateway (as `api/openai.ts` does), `/v1/models`, and the admin metrics route, on
 * 127.0.0.1:0, plus an `openai` SDK client pointed at it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { registerCloudMetricsRoute } from '../../../src/api/cloud-metrics.js';
import { type CloudGatewayService, createCloudGateway } from '../../../src/cloud/index.js';
import type { CloudForwardResult, InferenceKind } from '../../../src/cloud/types.js';
import type { Env } from '../../../src/config/env.js';
import type { RequireScope } from '../../../src/http/auth-context.js';
import { registerJsonBodyParser } from '../../../src/http/raw-body.js';

export const ADMIN_HEADER = { 'x-test-admin': 'yes' };

/** Stands in for the real auth guard: admin when the test header is present, 403 otherwise. */
const requireScope: RequireScope = () => async (request, reply) => {
  if (request.headers['x-test-admin'] !== 'yes') {
    await reply.code(403).send({ error: { message: 'admin scope required', code: 'insufficient_scope' } });
  }
};

export interface TestRouter {
  url: string;
  app: FastifyInstance;
  gateway: CloudGatewayService;
  /** What `forward` reported for each request, in order. */
  results: CloudForwardResult[];
  /** An openai SDK client for this router (no retries, so every request is exactly one call). */
  client: OpenAI;
  close(): Promise<void>;
}

const ROUTES: Array<[string, InferenceKind]> = [
  ['/v1/chat/completions', 'chat'],
  ['/v1/completions', 'completions'],
  ['/v1/embeddings', 'embeddings'],
];

export async function startRouter(env: Env): Promise<TestRouter> {
  const gateway = createCloudGateway(env);
  const results: CloudForwardResult[] = [];
  // Test clients keep connections alive; closing must not wait for them to time out.
  const app = Fastify({ forceCloseConnections: true });
  registerJsonBodyParser(app, { bodyLimitBytes: 10 * 1024 * 1024, bodyReadTimeoutMs: 30_000 });
  for (const [path, kind] of ROUTES) {
    app.post(path, async (request, reply) => {
      const body = request.body as Record<string, unknown>;
      const ref = gateway.parseModel(String(body.model));
      if (!ref)
        return reply
          .code(404)
          .send({ error: { message: 'not a cloud model', type: 'invalid_request_error' } });
      results.push(
        await gateway.forward({
          kind,
          model: String(body.model),
          body,
          rawBody: request.rawBody,
          request,
          reply,
        }),
      );
      return reply;
    });
  }
  app.get('/v1/models', async () => ({
    object: 'list',
    data: (await gateway.listModels()).map((entry) => ({
      id: entry.id,
      object: 'model',
      created: 0,
      owned_by: entry.provider,
    })),
  }));
  registerCloudMetricsRoute(app, { cloud: gateway, requireScope });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const client = new OpenAI({ apiKey: 'router-key', baseURL: `${address}/v1`, maxRetries: 0 });
  return {
    url: address,
    app,
    gateway,
    results,
    client,
    async close() {
      await app.close();
      await gateway.close();
    },
  };
}
