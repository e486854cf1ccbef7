import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gpuNodeRegistration,
  heartbeat,
  startTestRouter,
  type TestRouter,
} from './support/router-harness.js';

describe('node registration, heartbeats and the auth core', () => {
  let router: TestRouter;
  let nodeKey: string;
  let inferenceKey: string;

  beforeAll(async () => {
    router = await startTestRouter({
      LLM_ROUTER_NODE_TIMEOUT: '0.6',
      LLM_ROUTER_HEALTH_CHECK_INTERVAL: '0.1',
    });
    nodeKey = await router.createKey(['node:register']);
    inferenceKey = await router.createKey(['api:inference']);
  });
  afterAll(() => router.stop());

  const asNode = (key = nodeKey) => ({ authorization: `Bearer ${key}` });

  it('logs the admin in with the configured password and rejects a wrong one', async () => {
    const ok = await router.call('POST', '/v0/auth/login', {
      body: { username: 'admin', password: 'correct horse battery staple' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ username: 'admin', role: 'admin' });
    expect(ok.body.expires_in).toBe(86400);
    const bad = await router.call('POST', '/v0/auth/login', {
      body: { username: 'admin', password: 'nope' },
    });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('invalid_credentials');
  });

  it('returns a new key once and lists keys without their secret', async () => {
    const created = await router.call('POST', '/v0/api-keys', {
      body: { name: 'ci', scopes: ['api:inference'] },
      headers: { authorization: `Bearer ${await router.adminToken()}` },
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^sk_[A-Za-z0-9]{32}$/);
    const list = await router.call('GET', '/v0/api-keys', {
      headers: { 'x-api-key': await router.createKey(['admin:*']) },
    });
    expect(list.status).toBe(200);
    const listed = list.body.api_keys.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toMatchObject({
      name: 'ci',
      scopes: ['api:inference'],
      key_prefix: created.body.key.slice(0, 7),
    });
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
  });

  it('refuses a node without a GPU with 403 and a message naming the override', async () => {
    const res = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ gpu_available: false, gpu_devices: [] }),
      headers: asNode(),
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('gpu_required');
    expect(res.body.error.message).toContain('LLM_ROUTER_ALLOW_NO_GPU');
  });

  it('registers a node, keeps its id stable, and tells two hosts with one hostname apart', async () => {
    const first = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: asNode() });
    expect(first.status).toBe(201);
    expect(first.body.node_token).toMatch(/^nt_/);
    const again = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ node_id: first.body.node_id }),
      headers: { ...asNode(), 'x-node-token': first.body.node_token },
    });
    expect(again.status).toBe(200);
    expect(again.body.node_id).toBe(first.body.node_id);
    const twin = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: asNode() });
    expect(twin.status).toBe(201);
    expect(twin.body.node_id).not.toBe(first.body.node_id);
  });

  it('does not let another caller take over an online node by its id', async () => {
    const owner = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: asNode() });
    const id = owner.body.node_id;
    const hijack = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ node_id: id, base_url: 'http://127.0.0.1:6666' }),
      headers: asNode(),
    });
    expect(hijack.status).toBe(409);
    expect(hijack.body.error.code).toBe('node_id_in_use');
    const wrongToken = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ node_id: id, base_url: 'http://127.0.0.1:6666' }),
      headers: { ...asNode(), 'x-node-token': 'nt_guess' },
    });
    expect(wrongToken.status).toBe(409);
    expect(router.registry.get(id)?.baseUrl).toBe('http://127.0.0.1:11435');
    // The owner's token still works.
    const beat = await router.call('POST', '/v0/health', {
      body: heartbeat(id),
      headers: { ...asNode(), 'x-node-token': owner.body.node_token },
    });
    expect(beat.status).toBe(200);
  });

  it('uses the advertised base_url, else the address and node port', async () => {
    const advertised = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ base_url: 'http://10.1.2.3:9999/' }),
      headers: asNode(),
    });
    const fallback = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ ip_address: '10.9.9.9', node_api_port: 7000 }),
      headers: asNode(),
    });
    expect(router.registry.get(advertised.body.node_id)?.baseUrl).toBe('http://10.1.2.3:9999');
    expect(router.registry.get(fallback.body.node_id)?.baseUrl).toBe('http://10.9.9.9:7000');
  });

  it('moves a node registering → online on a ready heartbeat, offline when silent, and back', async () => {
    const reg = await router.call('POST', '/v0/nodes', {
      body: gpuNodeRegistration({ models: [{ id: 'm1', ready: false }], initializing: true }),
      headers: asNode(),
    });
    const id = reg.body.node_id;
    const token = reg.body.node_token;
    expect(router.registry.get(id)?.status).toBe('registering');
    const beat = () =>
      router.call('POST', '/v0/health', {
        body: heartbeat(id, { models: [{ id: 'm1', ready: true }], loaded_models: ['m1'] }),
        headers: { ...asNode(), 'x-node-token': token },
      });
    const res = await beat();
    expect(res.status).toBe(200);
    expect(res.body.node_status).toBe('online');
    expect(router.registry.candidatesFor('m1').map((n) => n.id)).toContain(id);
    await waitFor(() => router.registry.get(id)?.status === 'offline');
    expect(router.registry.candidatesFor('m1').map((n) => n.id)).not.toContain(id);
    expect((await beat()).body.node_status).toBe('online');
  });

  it('keeps per-model sequence load from heartbeats, persisting only when more than the load changes', async () => {
    const reg = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: asNode() });
    const id = reg.body.node_id;
    const model = (busy: number | null, loadedAt: number) => ({
      id: 'stories260K',
      ready: true,
      sequences: 2,
      busy_sequences: busy,
      queued_requests: busy === null ? null : 0,
      queue_limit: 64,
      loaded_at: loadedAt,
    });
    const beat = (busy: number | null, loadedAt: number) =>
      router.call('POST', '/v0/health', {
        body: heartbeat(id, { models: [model(busy, loadedAt)] }),
        headers: { ...asNode(), 'x-node-token': reg.body.node_token },
      });
    const stored = async () => {
      const row = await router.db
        .selectFrom('nodes')
        .select('models')
        .where('id', '=', id)
        .executeTakeFirst();
      return JSON.parse(row!.models) as Array<Record<string, unknown>>;
    };
    expect((await beat(0, 1000)).status).toBe(200);
    expect(router.registry.get(id)?.models[0]).toMatchObject({
      sequences: 2,
      busy_sequences: 0,
      loaded_at: 1000,
    });
    await waitFor(async () => (await stored())[0]?.loaded_at === 1000);
    // Null is accepted (a node that cannot tell); a busy count alone is not worth a write.
    expect((await beat(null, 1000)).status).toBe(200);
    expect((await beat(2, 1000)).status).toBe(200);
    expect(router.registry.get(id)?.models[0]?.busy_sequences).toBe(2);
    // Writes are asynchronous: give one the time it would take, then check none happened.
    await new Promise((r) => setTimeout(r, 300));
    expect((await stored())[0]?.busy_sequences).toBe(0);
    // A reload (new loaded_at) is.
    expect((await beat(1, 2000)).status).toBe(200);
    await waitFor(async () => (await stored())[0]?.loaded_at === 2000);
  });

  it('records real heartbeat metrics on the node', async () => {
    const reg = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: asNode() });
    await router.call('POST', '/v0/health', {
      body: heartbeat(reg.body.node_id, { cpu_usage: 55.5, gpu_usage: 33, active_requests: 2 }),
      headers: { ...asNode(), 'x-node-token': reg.body.node_token },
    });
    const node = router.registry.get(reg.body.node_id);
    expect(node?.metrics).toMatchObject({ cpuUsage: 55.5, gpuUsage: 33, activeRequests: 2 });
  });

  it('lets a registered node list the fleet models with its X-Node-Token alone', async () => {
    const reg = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: asNode() });
    const ok = await router.call('GET', '/v1/models', { headers: { 'x-node-token': reg.body.node_token } });
    expect(ok.status).toBe(200);
    expect(ok.body.data.map((m: { id: string }) => m.id)).toContain('stories260K');
    const bad = await router.call('GET', '/v1/models', { headers: { 'x-node-token': 'nt_bogus' } });
    expect(bad.status).toBe(401);
    expect(bad.body.error.type).toBe('authentication_error');
  });

  describe('auth matrix for registration and heartbeats', () => {
    let nodeA: { id: string; token: string };
    let nodeB: { id: string; token: string };
    let expiredKey: string;

    beforeAll(async () => {
      const a = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: asNode() });
      const b = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: asNode() });
      nodeA = { id: a.body.node_id, token: a.body.node_token };
      nodeB = { id: b.body.node_id, token: b.body.node_token };
      expiredKey = await router.createKey(['node:register'], new Date(Date.now() + 300).toISOString());
      await new Promise((r) => setTimeout(r, 400));
    });

    const cases: Array<[string, () => Record<string, string>, number, string]> = [
      ['no key', () => ({}), 401, 'missing_api_key'],
      [
        'an unknown key',
        () => ({ authorization: 'Bearer sk_notarealkeynotarealkeynotareal00' }),
        401,
        'invalid_api_key',
      ],
      [
        'a key without node:register',
        () => ({ authorization: `Bearer ${inferenceKey}` }),
        403,
        'insufficient_scope',
      ],
      ['an expired key', () => ({ 'x-api-key': expiredKey }), 401, 'expired'],
    ];

    it.each(cases)('registration with %s is refused', async (_name, headers, status, code) => {
      const res = await router.call('POST', '/v0/nodes', { body: gpuNodeRegistration(), headers: headers() });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
    });

    it.each(cases)('a heartbeat with %s is refused', async (_name, headers, status, code) => {
      const res = await router.call('POST', '/v0/health', {
        body: heartbeat(nodeA.id),
        headers: { ...headers(), 'x-node-token': nodeA.token },
      });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
    });

    it('refuses a heartbeat carrying another node’s token', async () => {
      const res = await router.call('POST', '/v0/health', {
        body: heartbeat(nodeA.id),
        headers: { ...asNode(), 'x-node-token': nodeB.token },
      });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('invalid_node_token');
    });

    it('refuses a heartbeat without a node token', async () => {
      const res = await router.call('POST', '/v0/health', { body: heartbeat(nodeA.id), headers: asNode() });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('missing_node_token');
    });

    it('answers 404 to a heartbeat from a node the router does not know, so it re-registers', async () => {
      const res = await router.call('POST', '/v0/health', {
        body: heartbeat('00000000-0000-4000-8000-000000000000'),
        headers: { ...asNode(), 'x-node-token': nodeA.token },
      });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('node_not_found');
    });

    it('accepts an admin:* key for node registration (superset scope)', async () => {
      const admin = await router.createKey(['admin:*']);
      const res = await router.call('POST', '/v0/nodes', {
        body: gpuNodeRegistration(),
        headers: asNode(admin),
      });
      expect(res.status).toBe(201);
    });
  });

  describe('bad input never crashes the router', () => {
    const endpoints = ['/v0/nodes', '/v0/health', '/v0/auth/login', '/v0/api-keys'];

    it.each(endpoints)('%s answers malformed JSON with 400 in the management shape', async (path) => {
      const admin = await router.adminToken();
      const res = await router.call('POST', path, {
        raw: '{"machine_name": ',
        headers: {
          authorization: `Bearer ${path === '/v0/api-keys' ? admin : nodeKey}`,
          'x-node-token': 'nt_x',
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_json');
    });

    it('rejects wrong types with 400 naming the field', async () => {
      const res = await router.call('POST', '/v0/nodes', {
        body: gpuNodeRegistration({ runtime_port: 'eleven' }),
        headers: asNode(),
      });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('runtime_port');
    });

    it('rejects a body over the limit with 413 and keeps serving', async () => {
      const small = await startTestRouter({ LLM_ROUTER_MAX_BODY_BYTES: '2048' });
      try {
        const key = await small.createKey(['node:register']);
        const res = await small.call('POST', '/v0/nodes', {
          body: gpuNodeRegistration({ machine_name: 'x'.repeat(5000) }),
          headers: { authorization: `Bearer ${key}` },
        });
        expect(res.status).toBe(413);
        expect((await small.call('GET', '/health')).status).toBe(200);
      } finally {
        await small.stop();
      }
    });

    it('refuses a chunked body (no Content-Length) that grows over the limit with 413 in the route shape', async () => {
      const small = await startTestRouter({ LLM_ROUTER_MAX_BODY_BYTES: '2048' });
      try {
        const key = await small.createKey(['api:inference']);
        const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest(`${small.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          });
          req.on('response', (res) => {
            let text = '';
            res.on('data', (chunk) => {
              text += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          });
          req.on('error', reject);
          req.write('{"model":"m","messages":[{"role":"user","content":"');
          req.write('x'.repeat(4096));
          req.end('"}]}');
        });
        expect(status).toBe(413);
        expect(JSON.parse(body).error).toMatchObject({
          code: 'request_too_large',
          type: 'invalid_request_error',
        });
        expect((await small.call('GET', '/health')).status).toBe(200);
      } finally {
        await small.stop();
      }
    });

    it('keeps stored nodes after bad input', async () => {
      const before = router.registry.all().length;
      await router.call('POST', '/v0/nodes', { raw: '[1,2,3]', headers: asNode() });
      await router.call('POST', '/v0/nodes', { body: { machine_name: 5 }, headers: asNode() });
      expect(router.registry.all().length).toBe(before);
      const listed = await router.call('GET', '/v0/nodes', {
        headers: { authorization: `Bearer ${await router.adminToken()}` },
      });
      expect(listed.body.length).toBe(before);
    });
  });
});

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
