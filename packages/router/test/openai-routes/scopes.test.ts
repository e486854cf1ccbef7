/** Every `/v1` route runs the `api:inference` scope guard before doing anything else. */
import type { ApiKeyScope } from '@llm-router/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequireScope } from '../../src/http/auth-context.js';
import { HttpError } from '../../src/http/errors.js';
import { FakeFleet, makeFleetNode } from '../proxy/helpers/fake-fleet.js';
import { type FakeNode, startFakeNode } from '../proxy/helpers/fake-node.js';
import { startTestRouter, type TestRouter } from '../proxy/helpers/test-router.js';

describe('/v1 scope guard', () => {
  const requested: ApiKeyScope[] = [];
  let node: FakeNode;
  let router: TestRouter;

  beforeAll(async () => {
    node = await startFakeNode('guarded');
    const requireScope: RequireScope = (scope) => {
      requested.push(scope);
      return async (request) => {
        if (request.headers.authorization !== 'Bearer good-key')
          throw new HttpError(401, 'Invalid API key', 'invalid_api_key');
      };
    };
    router = await startTestRouter({
      fleet: new FakeFleet([makeFleetNode({ id: 'g', baseUrl: node.url, models: ['m1'] })]),
      requireScope,
    });
  });

  afterAll(async () => {
    await router.close();
    await node.close();
  });

  it('asks for api:inference only', () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(new Set(requested)).toEqual(new Set(['api:inference']));
  });

  it.each([
    ['POST', '/v1/chat/completions'],
    ['POST', '/v1/completions'],
    ['POST', '/v1/embeddings'],
    ['GET', '/v1/models'],
    ['GET', '/v1/models/m1'],
  ])('%s %s rejects a bad key with an OpenAI-shaped 401 and never reaches a node', async (method, path) => {
    const body =
      method === 'POST'
        ? JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x' }], prompt: 'x', input: 'x' })
        : undefined;
    const res = await fetch(`${router.url}${path}`, {
      method,
      headers: { authorization: 'Bearer wrong', ...(body ? { 'content-type': 'application/json' } : {}) },
      body,
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({
      type: 'authentication_error',
      code: 'invalid_api_key',
    });
    expect(node.requests).toHaveLength(0);
  });

  it('lets a good key through', async () => {
    const res = await fetch(`${router.url}/v1/models/m1`, { headers: { authorization: 'Bearer good-key' } });
    expect(res.status).toBe(200);
  });
});
