/**
 * Registered models on the `/v1` API: listed with their cache state before any node has them,
 * and requests for them answered with what is wrong (not ready yet, or not servable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuNodeRegistration } from '../support/router-harness.js';
import {
  isSettled,
  type ModelTestEnv,
  STORIES_REPO,
  startModelEnv,
  storiesRepo,
  waitForModel,
} from './support/setup.js';

describe('registered models on /v1', () => {
  let env: ModelTestEnv;
  let inference: Record<string, string>;

  beforeAll(async () => {
    env = await startModelEnv();
    env.hub.addRepo(storiesRepo());
    env.hub.addRepo({
      id: 'synth/only-safetensors',
      files: [
        { path: 'config.json', content: Buffer.from('{}') },
        { path: 'tokenizer.json', content: Buffer.from('{}') },
        { path: 'model.safetensors', content: Buffer.from('weights') },
      ],
    });
    inference = { authorization: `Bearer ${await env.router.createKey(['api:inference'])}` };
    expect(
      (await env.call('POST', '/v0/models/register', { repo: STORIES_REPO, gguf_policy: 'quality' })).status,
    ).toBe(201);
    expect((await env.call('POST', '/v0/models/register', { repo: 'synth/only-safetensors' })).status).toBe(
      201,
    );
    await waitForModel(env, STORIES_REPO, isSettled);
    await waitForModel(env, 'synth/only-safetensors', isSettled);
  });
  afterAll(async () => {
    await env.router.stop();
    await env.hub.close();
  });

  const chat = (model: string) =>
    env.call(
      'POST',
      '/v1/chat/completions',
      { model, messages: [{ role: 'user', content: 'hi' }] },
      inference,
    );

  it('lists a registered model with its lifecycle before any node has it', async () => {
    const list = await env.call('GET', '/v1/models', undefined, inference);
    const entry = list.body.data.find((m: { id: string }) => m.id === STORIES_REPO);
    expect(entry).toMatchObject({
      lifecycle_status: 'registered',
      ready: false,
      nodes: [],
      servable: true,
      download_progress: { percent: 1 },
    });
    const one = await env.call('GET', `/v1/models/${STORIES_REPO}`, undefined, inference);
    expect(one.status).toBe(200);
    expect(one.body.lifecycle_status).toBe('registered');
  });

  it('answers 503 model_not_ready while no node has the model, and routes once one has', async () => {
    const waiting = await chat(STORIES_REPO);
    expect(waiting.status).toBe(503);
    expect(waiting.body.error.code).toBe('model_not_ready');
    await env.call(
      'POST',
      '/v0/nodes',
      gpuNodeRegistration({ models: [{ id: STORIES_REPO, ready: false }] }),
      env.node,
    );
    const list = await env.call('GET', '/v1/models', undefined, inference);
    const entry = list.body.data.find((m: { id: string }) => m.id === STORIES_REPO);
    expect(entry.nodes).toHaveLength(1);
    expect(entry.lifecycle_status).toBe('registered');
  });

  it('answers 400 model_not_servable for a safetensors model, never routing it', async () => {
    const res = await chat('synth/only-safetensors');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('model_not_servable');
    expect(res.body.error.message).toContain('cannot be served');
  });

  it('still answers 404 for a model nobody registered', async () => {
    expect((await chat('synth/unknown')).status).toBe(404);
  });
});
