/**
 * What the attacker/operator probe found at the HTTP edge: framework errors in our own shapes,
 * `null` for optional node-protocol fields, and a deadline on reading request bodies.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gpuNodeRegistration,
  heartbeat,
  startTestRouter,
  type TestRouter,
} from './support/router-harness.js';

describe('probe fixes at the HTTP edge', () => {
  let router: TestRouter;
  let admin: string;
  let inference: string;
  let nodeKey: string;

  beforeAll(async () => {
    router = await startTestRouter({ LLM_ROUTER_BODY_READ_TIMEOUT: '0.5' });
    admin = await router.createKey(['admin:*']);
    inference = await router.createKey(['api:inference']);
    nodeKey = await router.createKey(['node:register']);
  });
  afterAll(() => router.stop());

  it('answers malformed percent-encoding on /v0 with 400 in the management shape', async () => {
    const res = await router.call('DELETE', '/v0/api-keys/%E0%A4%A', {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { message: expect.stringContaining('percent-encoding'), code: 'invalid_url' },
    });
  });

  it('answers malformed percent-encoding on /v1 with 400 in the OpenAI shape', async () => {
    const res = await router.call('GET', '/v1/models/%zz', {
      headers: { authorization: `Bearer ${inference}` },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      message: expect.stringContaining('percent-encoding'),
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_url',
    });
  });

  it('answers an id over 1,024 characters with 414 "URI Too Long" in the management shape', async () => {
    const long = 'a'.repeat(1100);
    const v0 = await router.call('DELETE', `/v0/api-keys/${long}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(v0.status).toBe(414);
    expect(v0.body).toEqual({
      error: { message: expect.stringContaining('URI Too Long'), code: 'uri_too_long' },
    });
    expect(v0.body.error.message).not.toContain('Bad Request');
    // /v1/models/* is a wildcard (model ids hold slashes): a long id is simply an unknown model.
    const v1 = await router.call('GET', `/v1/models/${long}`, {
      headers: { authorization: `Bearer ${inference}` },
    });
    expect(v1.status).toBe(404);
    expect(v1.body.error).toMatchObject({ type: 'invalid_request_error', param: 'model' });
  });

  it('takes null for optional node-protocol fields: gpu_model null reaches the GPU rule (403)', async () => {
    const res = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({
        gpu_available: false,
        gpu_devices: null,
        gpu_model: null,
        gpu_count: null,
        node_id: null,
        base_url: null,
        models: null,
      }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('gpu_required');
  });

  it('registers and heartbeats a GPU node that sends null for every optional field', async () => {
    const reg = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({
        gpu_model: null,
        gpu_count: null,
        node_api_port: null,
        initializing: null,
      }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    expect(reg.status).toBe(201);
    const beat = await router.call('POST', '/v0/health', {
      body: heartbeat(reg.body.node_id, {
        gpu_usage: null,
        loaded_models: null,
        loaded_embedding_models: null,
        supported_runtimes: null,
        initializing: null,
        models: null,
        model_downloads: null,
      }),
      headers: { authorization: `Bearer ${nodeKey}`, 'x-node-token': reg.body.node_token },
    });
    expect(beat.status).toBe(200);
    expect(router.registry.get(reg.body.node_id)?.status).toBeDefined();
  });

  it('refuses chat and completions for an embeddings-only model up front with a clear 400', async () => {
    const reg = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({
        base_url: 'http://127.0.0.1:9',
        models: [
          { id: 'embedder', ready: true, capabilities: ['embeddings'] },
          { id: 'talker', ready: true, capabilities: ['chat', 'completion'] },
        ],
      }),
      headers: { authorization: `Bearer ${nodeKey}` },
    });
    expect(reg.status).toBe(201);
    const auth = { authorization: `Bearer ${inference}` };
    for (const [path, body] of [
      ['/v1/chat/completions', { model: 'embedder', messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/completions', { model: 'embedder', prompt: 'hi' }],
    ] as const) {
      const res = await router.call('POST', path, { body, headers: auth });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_chat_capable',
      });
      expect(res.body.error.message).toContain('/v1/embeddings');
    }
    // A chat model on the same node is not refused up front (its node is unreachable: 503).
    const talker = await router.call('POST', '/v1/chat/completions', {
      body: { model: 'talker', messages: [{ role: 'user', content: 'hi' }] },
      headers: auth,
    });
    expect(talker.body.error.code).not.toBe('model_not_chat_capable');
  });

  it('gives a client trickling its body 408 in the route shape, then closes; the router keeps serving', async () => {
    const port = Number(new URL(router.url).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      let sent = 0;
      const body = '{"model":"m","messages":[]}';
      let trickle: NodeJS.Timeout | undefined;
      socket.on('connect', () => {
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${inference}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        trickle = setInterval(() => {
          if (sent < body.length && !socket.destroyed) socket.write(body[sent++] as string);
        }, 100);
      });
      socket.on('data', (chunk) => {
        received += chunk.toString();
      });
      socket.on('close', () => {
        clearInterval(trickle);
        resolve(received);
      });
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        reject(new Error(`no close in time; got ${received}`));
      }, 8000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    const json = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    expect(json.error).toMatchObject({ code: 'request_timeout', type: 'invalid_request_error' });
    expect((await router.call('GET', '/health')).status).toBe(200);
  });

  it('still reads a body that arrives in pieces within the deadline', async () => {
    const res = await router.call('PUT', '/v0/api-keys/00000000-0000-0000-0000-000000000000', {
      body: { name: 'x' },
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.status).toBe(404);
  });
});
