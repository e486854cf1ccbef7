/**
 * The MCP server end to end: the official SDK client spawns the built `llm-router-mcp` against
 * a real router and a real llama.cpp node (stories260K), lists the tools, calls each one's happy
 * path and an error path, reads the resources, and sees every failure come back as
 * `isError: true` — including a router that is not running.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  modelsDir,
  type RouterProcess,
  sharedModel,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  tempDir,
  waitUntil,
} from '../../../test/support/processes.js';
import { FakeUpstream } from '../../router/test/cloud/support/fake-upstream.js';
import { FakeHub } from '../../router/test/models/support/fake-hub.js';
import { connectMcp, type McpSession, resourceText, textOf } from './support/mcp-client.js';

// biome-ignore lint/suspicious/noExplicitAny: structured results are read field by field.
type Json = any;

const REPO = 'ggml-org/tiny-llamas';
let hub: FakeHub;
/** A fake Anthropic API, so a cloud-prefixed chat has an upstream to reach. */
let anthropic: FakeUpstream;
let router: RouterProcess;
let jwt: string;
let adminKey: string;
let mcp: McpSession;
/** Only an api:inference key: admin tools must refuse with a hint. */
let limited: McpSession;
/** Pointed at a port where nothing listens. */
let down: McpSession;
let nodeId: string;

const structured = (r: { structuredContent?: unknown }) => r.structuredContent as Json;

beforeAll(async () => {
  hub = await FakeHub.start();
  hub.addRepo({
    id: REPO,
    files: [{ path: 'stories260K.gguf', content: readFileSync(sharedModel) }],
  });
  anthropic = await FakeUpstream.start();
  router = await startRouterProcess({
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    HF_BASE_URL: hub.url,
    ANTHROPIC_API_KEY: 'test-anthropic-key',
    ANTHROPIC_API_BASE_URL: anthropic.url,
  });
  adminKey = await router.createKey('admin:*');
  const nodeKey = await router.createKey('node:register');
  const inferenceKey = await router.createKey('api:inference');
  const login = await fetch(`${router.url}/v0/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'e2e-admin-password' }),
  });
  jwt = ((await login.json()) as { token: string }).token;
  const node = await startNodeProcess({
    routerUrl: router.url,
    apiKey: nodeKey,
    models: modelsDir(['stories260K']),
  });
  await waitUntil(
    async () => {
      const res = await fetch(`${router.url}/v1/models`, { headers: { 'x-api-key': inferenceKey } });
      const { data } = (await res.json()) as { data: Array<{ id: string; ready: boolean }> };
      return data.some((m) => m.id === 'stories260K' && m.ready);
    },
    150_000,
    'the node online with stories260K',
  ).catch((error: Error) => {
    // On a loaded machine this is the slow step: say what the node was doing.
    throw new Error(`${error.message}\nnode output (tail):\n${node.output().slice(-3000)}`);
  });
  const cwd = tempDir('mcp');
  mcp = await connectMcp(
    { LLM_ROUTER_URL: router.url, LLM_ROUTER_API_KEY: adminKey, LLM_ROUTER_JWT_TOKEN: jwt },
    cwd,
  );
  limited = await connectMcp({ LLM_ROUTER_URL: router.url, LLM_ROUTER_API_KEY: inferenceKey }, cwd);
  down = await connectMcp({ LLM_ROUTER_URL: `http://127.0.0.1:${await freePort()}` }, cwd);
}, 240_000);

afterAll(async () => {
  await Promise.all([mcp?.close(), limited?.close(), down?.close()]);
  await stopAll();
  await hub?.close();
  await anthropic?.close();
});

describe('tool list', () => {
  it('offers every tool with a description and a JSON schema', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        'chat',
        'create_api_key',
        'delete_model',
        'embeddings',
        'execute_curl',
        'list_models',
        'list_nodes',
        'model_status',
        'node_details',
        'register_model',
        'request_history',
        'router_stats',
      ].sort(),
    );
    for (const tool of tools) {
      expect(tool.description?.length, tool.name).toBeGreaterThan(40);
      expect(tool.inputSchema.type).toBe('object');
    }
    const chat = tools.find((t) => t.name === 'chat');
    expect(Object.keys(chat?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['model', 'messages', 'prompt', 'max_tokens', 'temperature']),
    );
  });

  it('logs to stderr only (stdout is the protocol)', () => {
    expect(mcp.stderr()).toContain('llm-router-mcp: ready');
  });
});

describe('fleet tools', () => {
  it('list_nodes lists the node and filters by status', async () => {
    const result = await mcp.call('list_nodes', {});
    expect(result.isError).toBeFalsy();
    const { nodes } = structured(result);
    expect(nodes).toHaveLength(1);
    expect(nodes[0].status).toBe('online');
    nodeId = nodes[0].id;
    expect(textOf(result)).toContain(nodeId);
    expect(structured(await mcp.call('list_nodes', { status: 'offline' })).nodes).toEqual([]);
  });

  it('list_nodes without admin rights says which credential to set', async () => {
    const result = await limited.call('list_nodes', {});
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/403.*LLM_ROUTER_JWT_TOKEN.*admin:\*/s);
  });

  it('node_details returns the record, metric samples and the log tail', async () => {
    const result = await mcp.call('node_details', { id: nodeId, log_lines: 5 });
    expect(result.isError).toBeFalsy();
    const details = structured(result);
    expect(details.node.id).toBe(nodeId);
    expect(details.metric_samples.length).toBeGreaterThan(0);
    expect(details.logs_error).toBeNull();
    expect(details.logs.length).toBeGreaterThan(0);
  });

  it('node_details of an unknown id points to list_nodes', async () => {
    const result = await mcp.call('node_details', { id: 'no-such-node' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('list_nodes');
  });

  it('router_stats returns the dashboard totals; a non-admin gets an error', async () => {
    const result = await mcp.call('router_stats');
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toHaveProperty('openai_key_present', false);
    expect((await limited.call('router_stats')).isError).toBe(true);
  });
});

describe('inference tools', () => {
  it('chat answers with text and usage', async () => {
    const result = await mcp.call('chat', {
      model: 'stories260K',
      prompt: 'Once upon a time',
      max_tokens: 12,
      temperature: 0,
    });
    expect(result.isError).toBeFalsy();
    const reply = structured(result);
    expect(reply.content.length).toBeGreaterThan(0);
    expect(reply.usage.completion_tokens).toBeGreaterThan(0);
    expect(reply.usage.completion_tokens).toBeLessThanOrEqual(12);
    expect(textOf(result)).toContain(reply.content);
  });

  it('chat with a cloud prefix reaches the provider through the router', async () => {
    anthropic.on('/v1/messages', {
      kind: 'json',
      body: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-test',
        content: [{ type: 'text', text: 'Hello from Claude' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 11, output_tokens: 4 },
      },
    });
    const result = await mcp.call('chat', {
      model: 'anthropic:claude-test',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 20,
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(structured(result)).toMatchObject({ content: 'Hello from Claude', finish_reason: 'stop' });
    const sent = anthropic.requests.at(-1)?.json as Json;
    expect(sent).toMatchObject({ model: 'claude-test', system: 'Be brief.', max_tokens: 20 });
  });

  it('chat with an unknown model, a cloud model without its key, or no prompt is an error', async () => {
    const unknown = await mcp.call('chat', { model: 'no-such-model', prompt: 'hi' });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain('model_not_found');
    const cloud = await mcp.call('chat', { model: 'openai:gpt-4o-mini', prompt: 'hi' });
    expect(cloud.isError).toBe(true);
    expect(textOf(cloud)).toMatch(/401.*OPENAI_API_KEY/s);
    const empty = await mcp.call('chat', { model: 'stories260K' });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toContain('messages');
  });

  it('embeddings returns vectors; an unknown model is an error', async () => {
    const result = await mcp.call('embeddings', { model: 'stories260K', input: ['hello', 'world'] });
    expect(result.isError).toBeFalsy();
    const { embeddings } = structured(result);
    expect(embeddings).toHaveLength(2);
    expect(embeddings[0].length).toBeGreaterThan(0);
    expect(typeof embeddings[0][0]).toBe('number');
    expect((await mcp.call('embeddings', { model: 'nope', input: 'x' })).isError).toBe(true);
  });

  it('request_history pages the recorded requests and opens one record', async () => {
    await waitUntil(
      async () => structured(await mcp.call('request_history', { model: 'stories260K' })).total >= 2,
      10_000,
      'history rows written',
    );
    const page = structured(await mcp.call('request_history', { model: 'stories260K', per_page: 10 }));
    expect(page.per_page).toBe(10);
    expect(page.records.every((r: Json) => r.model === 'stories260K')).toBe(true);
    const one = await mcp.call('request_history', { id: page.records[0].id });
    expect(one.isError).toBeFalsy();
    expect(structured(one)).toHaveProperty('request_body');
    const bad = await mcp.call('request_history', { per_page: 7 });
    expect(bad.isError).toBe(true);
    const missing = await mcp.call('request_history', { id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain('404');
  });
});

describe('model tools', () => {
  it('list_models shows readiness', async () => {
    const result = await mcp.call('list_models', { ready_only: true });
    expect(result.isError).toBeFalsy();
    expect(structured(result).models.map((m: Json) => m.id)).toContain('stories260K');
    expect(textOf(result)).toMatch(/stories260K\s+ready/);
  });

  it('register_model, model_status until registered, delete_model', async () => {
    const registered = await mcp.call('register_model', { repo: REPO, gguf_policy: 'quality' });
    expect(registered.isError, textOf(registered)).toBeFalsy();
    const id = structured(registered).name;
    expect(id).toBe(REPO);
    await waitUntil(
      async () =>
        structured(await mcp.call('model_status', { id })).registered?.lifecycle_status === 'registered',
      60_000,
      'the model cached on the router',
    );
    const status = await mcp.call('model_status', { id });
    expect(textOf(status)).toContain(REPO);
    // The node syncs the new model and serves it; deleting it then is the case to get right.
    await waitUntil(
      async () => structured(await mcp.call('model_status', { id })).model?.ready === true,
      60_000,
      'the model served by the node',
    );
    const deleted = await mcp.call('delete_model', { id });
    expect(deleted.isError).toBeFalsy();
    // The registry record goes at once; the node serves the model until its next sync drops
    // it (models_version moves with its next heartbeat).
    const rightAfter = await mcp.call('model_status', { id });
    expect(rightAfter.isError || structured(rightAfter).registered === null).toBe(true);
    await waitUntil(
      async () => (await mcp.call('model_status', { id })).isError === true,
      60_000,
      'the model gone from the router and its node',
    );
    expect(textOf(await mcp.call('model_status', { id }))).toContain('list_models');
  });

  it('register_model of a repo the hub lacks, delete_model of an unknown id: errors', async () => {
    const missing = await mcp.call('register_model', { repo: 'nobody/nothing-here' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain('404');
    const unknown = await mcp.call('delete_model', { id: 'nobody/nothing-here' });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain('model_not_found');
  });
});

describe('create_api_key', () => {
  it('creates a working key, shown once', async () => {
    const result = await mcp.call('create_api_key', { name: 'from mcp', scopes: ['api:inference'] });
    expect(result.isError).toBeFalsy();
    const { key } = structured(result);
    expect(key).toMatch(/^sk_/);
    expect(textOf(result)).toContain(key);
    const res = await fetch(`${router.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
  });

  it('refuses a bad scope and a caller without admin rights', async () => {
    const bad = await mcp.call('create_api_key', { name: 'x', scopes: ['root'] });
    expect(bad.isError).toBe(true);
    const notAdmin = await limited.call('create_api_key', { name: 'x', scopes: ['api:inference'] });
    expect(notAdmin.isError).toBe(true);
    expect(textOf(notAdmin)).toContain('403');
  });
});

describe('resources', () => {
  it('lists the OpenAPI document and the five guides', async () => {
    const { resources } = await mcp.client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual(
      [
        'llm-router://api/openapi',
        'llm-router://guide/dashboard',
        'llm-router://guide/inference',
        'llm-router://guide/model-mgmt',
        'llm-router://guide/node-mgmt',
        'llm-router://guide/user-mgmt',
      ].sort(),
    );
  });

  it("serves the router's live OpenAPI document", async () => {
    const { contents } = await mcp.client.readResource({ uri: 'llm-router://api/openapi' });
    const doc = JSON.parse(resourceText(contents[0]));
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/v1/chat/completions'].post.summary).toBeTruthy();
  });

  it('serves every guide as markdown naming real routes', async () => {
    for (const [name, route] of [
      ['inference', '/v1/chat/completions'],
      ['node-mgmt', '/v0/nodes/{id}/approve'],
      ['model-mgmt', '/v0/models/register'],
      ['user-mgmt', '/v0/api-keys'],
      ['dashboard', '/v0/dashboard/request-responses'],
    ]) {
      const { contents } = await mcp.client.readResource({ uri: `llm-router://guide/${name}` });
      expect(contents[0].mimeType).toBe('text/markdown');
      expect(resourceText(contents[0])).toContain(route);
    }
  });
});

describe('router down', () => {
  it('every tool answers isError with a hint instead of crashing', async () => {
    for (const [name, args] of [
      ['list_nodes', {}],
      ['list_models', {}],
      ['chat', { model: 'm', prompt: 'hi' }],
      ['router_stats', {}],
    ] as const) {
      const result = await down.call(name, args);
      expect(result.isError, name).toBe(true);
      expect(textOf(result)).toMatch(/Could not reach the router.*LLM_ROUTER_URL/s);
    }
    const curl = await down.call('execute_curl', { command: `curl http://localhost:1/health` });
    expect(curl.isError).toBe(true);
    expect(structured(curl).status_code).toBeNull();
    await expect(down.client.readResource({ uri: 'llm-router://api/openapi' })).rejects.toThrow(
      /Is the router running/,
    );
    // With LLM_ROUTER_OPENAPI_PATH the document comes from that file, router or not.
    const file = join(tempDir('openapi'), 'openapi.json');
    writeFileSync(file, JSON.stringify({ openapi: '3.1.0', info: { title: 'from a file' } }));
    const offline = await connectMcp(
      { LLM_ROUTER_URL: 'http://127.0.0.1:1', LLM_ROUTER_OPENAPI_PATH: file },
      tempDir('mcp'),
    );
    const { contents } = await offline.client.readResource({ uri: 'llm-router://api/openapi' });
    expect(JSON.parse(resourceText(contents[0])).info.title).toBe('from a file');
    await offline.close();
    // The server is still alive and answering after all of that.
    expect((await down.client.listTools()).tools.length).toBe(12);
  });
});
