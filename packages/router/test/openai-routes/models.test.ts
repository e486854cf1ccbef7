/** `GET /v1/models` and `GET /v1/models/{id}`: the fleet's models plus cloud models. */
import { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudGateway, CloudModelEntry } from '../../src/cloud/types.js';
import { FakeFleet, makeFleetNode } from '../proxy/helpers/fake-fleet.js';
import { startTestRouter, type TestRouter } from '../proxy/helpers/test-router.js';

function cloudListing(list: () => Promise<CloudModelEntry[]>): CloudGateway {
  return {
    parseModel: (model) => {
      const [provider, ...rest] = model.split(':');
      const name = rest.join(':');
      return (provider === 'openai' || provider === 'google') && name ? { provider, model: name } : null;
    },
    forward: async () => ({
      nodeId: null,
      status: 500,
      success: false,
      errorMessage: 'not used by these tests',
      streamed: false,
      failedAttempts: [],
    }),
    forwardNative: () => Promise.reject(new Error('not used by these tests')),
    listModels: list,
    keyPresence: () => ({ openai_key_present: true, google_key_present: true, anthropic_key_present: false }),
  };
}

describe('/v1/models', () => {
  let router: TestRouter;
  let brokenCloudRouter: TestRouter;

  beforeAll(async () => {
    const fleet = new FakeFleet([
      makeFleetNode({
        id: 'n1',
        models: [
          { id: 'llama-3', ready: true, capabilities: ['chat'] },
          { id: 'org/embed', ready: false, capabilities: ['embeddings'] },
        ],
      }),
      makeFleetNode({ id: 'n2', models: [{ id: 'llama-3', ready: false }] }),
      makeFleetNode({ id: 'n3', status: 'offline', models: [{ id: 'org/embed', ready: true }] }),
    ]);
    router = await startTestRouter({
      fleet,
      cloud: cloudListing(async () => [
        { id: 'openai:gpt-4o', provider: 'openai' },
        { id: 'google:gemini-2.0-flash', provider: 'google' },
      ]),
    });
    brokenCloudRouter = await startTestRouter({
      fleet,
      cloud: cloudListing(async () => {
        throw new Error('provider down');
      }),
    });
  });

  afterAll(async () => {
    await router.close();
    await brokenCloudRouter.close();
  });

  it('lists every fleet model with its nodes and readiness, then the cloud models', async () => {
    const res = await fetch(`${router.url}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      object: string;
      data: Array<Record<string, unknown> & { id: string }>;
    };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual([
      'llama-3',
      'org/embed',
      'openai:gpt-4o',
      'google:gemini-2.0-flash',
    ]);
    const [llama, embed, gpt, gemini] = body.data;
    expect(llama).toMatchObject({
      object: 'model',
      owned_by: 'router',
      ready: true,
      capabilities: { chat_completion: true, completion: true, embeddings: false },
    });
    expect(llama.nodes).toEqual([
      { node_id: 'n1', machine_name: 'host-n1', status: 'online', ready: true },
      { node_id: 'n2', machine_name: 'host-n2', status: 'online', ready: false },
    ]);
    // Ready only on an offline node: not ready for traffic.
    expect(embed).toMatchObject({ ready: false, capabilities: { chat_completion: false, embeddings: true } });
    expect(gpt).toMatchObject({ owned_by: 'openai', ready: true, nodes: [] });
    expect(gemini).toMatchObject({ owned_by: 'google' });
  });

  it('works through the openai SDK (list and retrieve, including an id with a slash)', async () => {
    const ids: string[] = [];
    for await (const model of router.client.models.list()) ids.push(model.id);
    expect(ids).toContain('llama-3');
    const embed = await router.client.models.retrieve('org/embed');
    expect(embed.id).toBe('org/embed');
    const cloudModel = await router.client.models.retrieve('openai:gpt-4o');
    expect(cloudModel.owned_by).toBe('openai');
  });

  it('answers 404 model_not_found for an unknown id', async () => {
    const error = await router.client.models.retrieve('org/missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe('model_not_found');
    const res = await fetch(`${router.url}/v1/models/openai:not-listed`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'model',
    });
  });

  it('still lists the fleet when the cloud listing fails', async () => {
    const res = await fetch(`${brokenCloudRouter.url}/v1/models`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual([
      'llama-3',
      'org/embed',
    ]);
    const one = await fetch(`${brokenCloudRouter.url}/v1/models/llama-3`);
    expect(one.status).toBe(200);
  });
});
