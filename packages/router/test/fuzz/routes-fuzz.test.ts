/**
 * Property-based fuzzing of every route the router registers (the route table is read from
 * the running server, so a new route is fuzzed without anyone listing it): hostile bodies,
 * query strings, headers and path ids, with and without valid credentials.
 * Invariants: no 5xx except genuine upstream unavailability (a deliberate 502/503/504: no node,
 * Hugging Face unreachable), every
 * JSON error in the documented shape of its route family, and the router alive afterwards.
 * Fixed seed in CI; `LLM_ROUTER_FUZZ_SEED` and `LLM_ROUTER_FUZZ_RUNS` change it by hand.
 */
import { inferenceEndpointFor } from '@llm-router/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../../src/http/server.js';
import { type FakeNode, startFakeNode } from '../proxy/helpers/fake-node.js';
import { gpuNodeRegistration, startTestRouter, type TestRouter } from '../support/router-harness.js';

const SEED = Number(process.env.LLM_ROUTER_FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.LLM_ROUTER_FUZZ_RUNS ?? 2500);

/** Path ids that have hurt routers before: encodings, traversal, huge, unicode, NUL. */
const hostileId = fc.oneof(
  fc.constantFrom(
    '%00',
    '%E0%A4%A',
    '%zz',
    '..%2F..%2Fetc%2Fpasswd',
    '%2e%2e',
    'a'.repeat(1100),
    '00000000-0000-0000-0000-000000000000',
    'stories260K',
    '%F0%9F%92%A9',
    "'; DROP TABLE users; --",
    '-1',
    'null',
    '%25',
  ),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s) || 'x'),
  fc.uuid(),
);

const hostileJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      model: fc.oneof(fc.string(), fc.constant('m1'), fc.integer(), fc.constant(null)),
      messages: fc.oneof(
        fc.array(
          fc.record({ role: fc.constantFrom('user', 'system', 'tool', 'x'), content: fc.jsonValue() }),
        ),
        fc.jsonValue(),
      ),
      max_tokens: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(1e308)),
      stream: fc.oneof(fc.boolean(), fc.string()),
      prompt: fc.jsonValue(),
      input: fc.jsonValue(),
      name: fc.string(),
      scopes: fc.jsonValue(),
      limits: fc.jsonValue(),
      username: fc.string(),
      password: fc.string(),
      role: fc.string(),
      repo: fc.string(),
      machine_name: fc.string(),
      node_id: fc.oneof(fc.uuid(), fc.string(), fc.constant(null)),
      gpu_model: fc.oneof(fc.string(), fc.constant(null)),
      runtime_port: fc.oneof(fc.integer(), fc.string()),
      gpu_available: fc.jsonValue(),
      expires_at: fc.oneof(
        fc.string(),
        fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
      ),
    },
    { requiredKeys: [] },
  ),
);

const hostileBody = fc.oneof(
  hostileJson.map((value) => ({ raw: JSON.stringify(value) ?? 'null', type: 'application/json' })),
  fc.string({ maxLength: 200 }).map((raw) => ({ raw, type: 'application/json' })),
  fc
    .constantFrom(
      '{"a":',
      '[',
      '\u0000',
      '{"model":"m1","messages":[{"role":"user","content":"\\u0000"}]}',
      '',
    )
    .map((raw) => ({ raw, type: 'application/json' })),
  fc.string({ maxLength: 100 }).map((raw) => ({ raw, type: 'text/plain' })),
  fc.constant({ raw: undefined as string | undefined, type: undefined as string | undefined }),
);

const hostileQuery = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?limit=-1',
    '?limit=abc',
    '?limit=1e9',
    '?page=%zz',
    '?tail=99999999',
    '?a[b]=1',
    '?since=x&until=y',
  ),
  fc
    .dictionary(
      fc.constantFrom('limit', 'offset', 'page', 'tail', 'model', 'status', 'since', 'until', 'q', 'format'),
      fc.string(),
      {
        maxKeys: 4,
      },
    )
    .map((d) => `?${new URLSearchParams(d).toString()}`),
);

const credentialKinds = ['none', 'garbage', 'admin', 'inference', 'node'] as const;
type Credential = (typeof credentialKinds)[number];

function isOpenAIShape(body: unknown): boolean {
  const error = (body as { error?: Record<string, unknown> })?.error;
  return (
    !!error &&
    typeof error.message === 'string' &&
    typeof error.type === 'string' &&
    'param' in error &&
    'code' in error
  );
}

function isAnthropicShape(body: unknown): boolean {
  const error = (body as { type?: string; error?: Record<string, unknown> })?.error;
  return (
    (body as { type?: string }).type === 'error' &&
    !!error &&
    typeof error.message === 'string' &&
    typeof error.type === 'string'
  );
}

function isManagementShape(body: unknown): boolean {
  const error = (body as { error?: Record<string, unknown> })?.error;
  return !!error && typeof error.message === 'string' && typeof error.code === 'string';
}

describe('route fuzzing', () => {
  let router: TestRouter;
  let node: FakeNode;
  const creds: Record<Credential, Record<string, string>> = {
    none: {},
    garbage: { authorization: 'Bearer sk_garbage' },
    admin: {},
    inference: {},
    node: {},
  };

  beforeAll(async () => {
    router = await startTestRouter({
      // Registration attempts must not reach the internet.
      HF_BASE_URL: 'http://127.0.0.1:9',
      LLM_ROUTER_MODEL_DOWNLOAD_RETRIES: '0',
      LLM_ROUTER_FIRST_BYTE_TIMEOUT: '2',
      LLM_ROUTER_BODY_READ_TIMEOUT: '2',
    });
    node = await startFakeNode('fuzz-node');
    creds.admin = { authorization: `Bearer ${await router.createKey(['admin:*'])}` };
    creds.inference = { authorization: `Bearer ${await router.createKey(['api:inference'])}` };
    creds.node = { authorization: `Bearer ${await router.createKey(['node:register'])}` };
    const reg = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: node.url, models: [{ id: 'm1', ready: true }] }),
      headers: creds.node,
    });
    expect(reg.status).toBe(201);
  });
  afterAll(async () => {
    await router.stop();
    await node.close();
  });

  it(`keeps every route within its contract for ${RUNS} hostile requests (seed ${SEED})`, async () => {
    const routes = (registeredRoutes.get(router.app) ?? []).filter(
      // Logging out would only end a session the fuzzer does not use; it is fuzzed all the same.
      (route) => route.method !== 'OPTIONS',
    );
    expect(routes.length).toBeGreaterThan(30);
    const failures: string[] = [];
    await fc
      .assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.array(hostileId, { minLength: 3, maxLength: 3 }),
          hostileBody,
          hostileQuery,
          fc.constantFrom(...credentialKinds),
          fc.dictionary(
            fc.constantFrom(
              'x-node-token',
              'content-encoding',
              'accept',
              'x-forwarded-for',
              'range',
              'if-none-match',
            ),
            fc.constantFrom('', 'nt_bogus', 'gzip', 'bytes=5-1', '*/*', '999.999.999.999', '\t'),
            { maxKeys: 2 },
          ),
          async (route, ids, body, query, credential, extraHeaders) => {
            let i = 0;
            const path = route.url.replace(/:[A-Za-z_]+|\*/g, () => ids[i++ % ids.length] as string);
            const headers: Record<string, string> = { ...extraHeaders, ...creds[credential] };
            if (body.type) headers['content-type'] = body.type;
            const withBody = route.method !== 'GET' && route.method !== 'HEAD' && body.raw !== undefined;
            let response: Response;
            try {
              response = await fetch(`${router.url}${path}${query}`, {
                method: route.method,
                headers,
                body: withBody ? body.raw : undefined,
                signal: AbortSignal.timeout(20_000),
              });
            } catch (error) {
              failures.push(`${route.method} ${path}${query}: request failed: ${(error as Error).message}`);
              return false;
            }
            const text = await response.text();
            const family = path.startsWith('/v1/messages')
              ? 'anthropic'
              : path.startsWith('/v1/')
                ? 'openai'
                : 'management';
            // A deliberate 502/503/504 (no node, Hugging Face unreachable) is upstream
            // unavailability; a 500 or an undocumented 5xx never is.
            const upstream =
              [502, 503, 504].includes(response.status) &&
              (inferenceEndpointFor(path) !== undefined || !text.includes('"internal_error"'));
            if (response.status >= 500 && !upstream) {
              failures.push(`${route.method} ${path}${query} → ${response.status} ${text.slice(0, 200)}`);
              return false;
            }
            const isJson = (response.headers.get('content-type') ?? '').includes('application/json');
            if (response.status >= 400 && isJson) {
              const parsed = JSON.parse(text);
              const ok =
                family === 'openai'
                  ? isOpenAIShape(parsed)
                  : family === 'anthropic'
                    ? isAnthropicShape(parsed)
                    : isManagementShape(parsed);
              if (!ok) {
                failures.push(
                  `${route.method} ${path}${query} → ${response.status} wrong shape: ${text.slice(0, 200)}`,
                );
                return false;
              }
            }
            if (response.status >= 400 && !isJson && response.status !== 404) {
              failures.push(
                `${route.method} ${path}${query} → ${response.status} non-JSON error: ${text.slice(0, 100)}`,
              );
              return false;
            }
            return true;
          },
        ),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      )
      .catch((error) => {
        throw new Error(`${failures.slice(-3).join('\n')}\n${(error as Error).message.slice(0, 2000)}`);
      });
    expect((await router.call('GET', '/health')).status).toBe(200);
    // Still serving real traffic afterwards.
    const chat = await router.call('POST', '/v1/chat/completions', {
      body: { model: 'm1', messages: [{ role: 'user', content: 'still there?' }] },
      headers: creds.inference,
    });
    expect(chat.status).toBe(200);
  }, 600_000);
});
