/** Registration and heartbeats against a fake router that records what the node sends. */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { HeartbeatRequestSchema, RegisterNodeRequestSchema } from '@llm-router/protocol';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { startNode } from '../src/main.js';
import { FakeRouter, freePort } from './fake-router.js';
import { modelsDirWithStories, removeTempDirs, tempDir, testConfig, waitFor } from './support.js';

const API_KEY = 'sk-node-test-key';
const running: RunningNode[] = [];
const routers: FakeRouter[] = [];

function agentConfig(routerUrl: string, env: Record<string, string> = {}) {
  return testConfig(
    {
      LLM_ROUTER_URL: routerUrl,
      LLM_NODE_API_KEY: API_KEY,
      LLM_NODE_HEARTBEAT_SECS: '0.2',
      LLM_NODE_MODELS_DIR: modelsDirWithStories(),
      ...env,
    },
    { retryInitialMs: 50, retryMaxMs: 200 },
  );
}

async function start(config: ReturnType<typeof agentConfig>) {
  const node = await startNode(config);
  running.push(node);
  return node;
}

async function fakeRouter(port = 0) {
  const router = new FakeRouter();
  routers.push(router);
  return { router, url: await router.start(port) };
}

afterEach(async () => {
  for (const node of running.splice(0)) await node.close();
  for (const router of routers.splice(0)) await router.stop();
});

afterAll(() => removeTempDirs());

describe('registration and heartbeats', () => {
  it('registers with a valid body, then heartbeats with the token and real metrics', async () => {
    const { router, url } = await fakeRouter();
    const node = await start(agentConfig(url));
    const ready = await waitFor(
      () => router.heartbeats.find((h) => h.body.ready_models?.[0] === 1 && h.body.initializing === false),
      'a heartbeat reporting the model ready',
    );

    const registration = router.registrations[0];
    expect(registration.headers.authorization).toBe(`Bearer ${API_KEY}`);
    const body = RegisterNodeRequestSchema.parse(registration.body);
    expect(body).toMatchObject({
      machine_name: hostname(),
      ip_address: '127.0.0.1',
      runtime_port: node.port,
      node_api_port: node.port,
      base_url: node.publicUrl,
      gpu_available: false,
      gpu_devices: [],
      supported_runtimes: ['llama_cpp'],
    });
    expect(body.models?.map((m) => m.id)).toEqual(['stories260K']);

    expect(ready.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(ready.headers['x-node-token']).toBe(router.lastToken());
    const heartbeat = HeartbeatRequestSchema.parse(ready.body);
    expect(heartbeat.node_id).toBe(body.node_id);
    expect(heartbeat.cpu_usage).toBeGreaterThanOrEqual(0);
    expect(heartbeat.cpu_usage).toBeLessThanOrEqual(100);
    // Some host memory is always in use, so a real reading is never 0.
    expect(heartbeat.memory_usage).toBeGreaterThan(0);
    expect(heartbeat.gpu_usage ?? null).toBeNull();
    expect(heartbeat.loaded_models).toEqual(['stories260K']);
    expect(heartbeat.ready_models).toEqual([1, 1]);
    expect(heartbeat.models).toEqual([
      {
        id: 'stories260K',
        ready: true,
        capabilities: ['chat', 'completion', 'embeddings'],
        sequences: 2,
        busy_sequences: 0,
        queued_requests: 0,
        queue_limit: 64,
        loaded_at: expect.any(Number),
      },
    ]);
    expect(node.agent?.modelsVersion).toBe(3);
  });

  it('reports the load of requests in flight', async () => {
    const { router, url } = await fakeRouter();
    const node = await start(agentConfig(url));
    await waitFor(() => router.heartbeats.find((h) => h.body.ready_models?.[0] === 1), 'model ready');
    const response = await fetch(`${node.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'stories260K',
        prompt: 'Once upon a time',
        max_tokens: 5,
        temperature: 0,
      }),
    });
    expect(response.status).toBe(200);
    const after = await waitFor(
      () => router.heartbeats.find((h) => typeof h.body.average_response_time_ms === 'number'),
      'a heartbeat with a response time',
    );
    expect(after.body.average_response_time_ms).toBeGreaterThan(0);
  });

  it('registers again after a 404 heartbeat, then uses the new token', async () => {
    const { router, url } = await fakeRouter();
    await start(agentConfig(url));
    await waitFor(() => router.heartbeats.length >= 1, 'first heartbeat');
    router.forgetNodes();
    await waitFor(() => router.registrations.length >= 2, 'a second registration');
    const newToken = router.lastToken();
    await waitFor(
      () => router.heartbeats.some((h) => h.headers['x-node-token'] === newToken),
      'a heartbeat with the new token',
    );
  });

  it('registers again after 401 invalid_node_token', async () => {
    const { router, url } = await fakeRouter();
    await start(agentConfig(url));
    await waitFor(() => router.heartbeats.length >= 1, 'first heartbeat');
    router.heartbeatFaults.push({ status: 401, code: 'invalid_node_token' });
    await waitFor(() => router.registrations.length >= 2, 'a second registration');
  });

  it('keeps retrying while the router is down or erroring, logging the outage once', async () => {
    const port = await freePort();
    const node = await start(agentConfig(`http://127.0.0.1:${port}`));
    const outageLines = () =>
      node.services.logging.ring.tail(1000).filter((e) => e.message.startsWith('cannot reach the router'));
    await waitFor(() => outageLines().length === 1, 'the outage to be logged');
    // Several backoff periods (50..200 ms) pass with the router still down.
    await new Promise((r) => setTimeout(r, 800));
    expect(outageLines()).toHaveLength(1);

    const router = new FakeRouter();
    routers.push(router);
    router.failRegistrations = 2;
    await router.start(port);
    await waitFor(() => router.heartbeats.length >= 1, 'a heartbeat once the router is up');
    expect(router.registrations.length).toBe(3);
    const refusals = node.services.logging.ring
      .tail(1000)
      .filter((e) => e.message.startsWith('the router refused'));
    expect(refusals).toHaveLength(1);
  });

  it('keeps its node id across restarts, per port', async () => {
    const { router, url } = await fakeRouter();
    const stateDir = tempDir('llm-node-identity-');
    const port = await freePort();
    const env = { LLM_NODE_STATE_DIR: stateDir, LLM_NODE_PORT: String(port) };
    const first = await start(agentConfig(url, env));
    await waitFor(() => router.registrations.length >= 1, 'first registration');
    await first.close();
    expect(existsSync(join(stateDir, `node-${port}.json`))).toBe(true);

    await start(agentConfig(url, env));
    await waitFor(() => router.registrations.length >= 2, 'registration after restart');
    expect(router.registrations[1].body.node_id).toBe(router.registrations[0].body.node_id);

    await start(agentConfig(url, { LLM_NODE_STATE_DIR: stateDir }));
    await waitFor(() => router.registrations.length >= 3, 'registration of a node on another port');
    expect(router.registrations[2].body.node_id).not.toBe(router.registrations[0].body.node_id);
  });

  it('runs standalone without an API key', async () => {
    const node = await start(testConfig({ LLM_NODE_MODELS_DIR: modelsDirWithStories() }));
    expect(node.agent).toBeNull();
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
  });
});
