/**
 * The gateway's own rules: which model names are cloud models, which base-URL forms are
 * accepted, the cached `/v1/models` listing, and the two small parsers the relay relies on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicProvider } from '../../src/cloud/anthropic/index.js';
import { anthropicApiRoot, googleApiRoot, loadCloudConfig, openAIApiRoot } from '../../src/cloud/config.js';
import { googleProvider } from '../../src/cloud/google/index.js';
import { parseCloudModel } from '../../src/cloud/index.js';
import { CloudModelCatalog } from '../../src/cloud/models.js';
import { openAIProvider } from '../../src/cloud/openai/index.js';
import { replaceTopLevelModel } from '../../src/cloud/openai/raw-model.js';
import { UpstreamClient } from '../../src/cloud/upstream.js';
import { SseParser } from '../../src/transport/sse.js';
import { FakeUpstream } from './support/fake-upstream.js';
import { startRouter, type TestRouter } from './support/router-app.js';

describe('model prefixes', () => {
  it.each([
    ['openai:gpt-4o', { provider: 'openai', model: 'gpt-4o' }],
    ['google:gemini-2.5-flash', { provider: 'google', model: 'gemini-2.5-flash' }],
    ['anthropic:claude-sonnet-4-6', { provider: 'anthropic', model: 'claude-sonnet-4-6' }],
    ['ahtnorpic:claude-sonnet-4-6', { provider: 'anthropic', model: 'claude-sonnet-4-6' }],
    ['openai:ft:gpt-4o-mini:acme::abc123', { provider: 'openai', model: 'ft:gpt-4o-mini:acme::abc123' }],
  ])('%s goes to the cloud', (model, ref) => {
    expect(parseCloudModel(model)).toEqual(ref);
  });

  it.each(['openai:', 'anthropic: ', 'gpt-oss:20b', 'llama3', ':gpt-4o', 'azure:gpt-4o', 'OpenAI:gpt-4o'])(
    '%s stays local',
    (model) => {
      expect(parseCloudModel(model)).toBeNull();
    },
  );
});

describe('base URLs, with or without their version segment', () => {
  it.each([
    ['https://api.openai.com', 'https://api.openai.com/v1'],
    ['https://api.openai.com/v1', 'https://api.openai.com/v1'],
    ['https://api.openai.com/v1/', 'https://api.openai.com/v1'],
    ['https://openrouter.ai/api/v1', 'https://openrouter.ai/api/v1'],
    [
      'https://generativelanguage.googleapis.com/v1beta/openai/',
      'https://generativelanguage.googleapis.com/v1beta/openai',
    ],
  ])('OpenAI %s → %s', (input, root) => {
    expect(openAIApiRoot(input)).toBe(root);
  });

  it.each([
    ['https://api.anthropic.com', 'https://api.anthropic.com/v1'],
    ['https://api.anthropic.com/', 'https://api.anthropic.com/v1'],
    ['https://api.anthropic.com/v1', 'https://api.anthropic.com/v1'],
  ])('Anthropic %s → %s', (input, root) => {
    expect(anthropicApiRoot(input)).toBe(root);
  });

  it.each([
    ['https://generativelanguage.googleapis.com', 'https://generativelanguage.googleapis.com/v1beta'],
    ['https://generativelanguage.googleapis.com/v1beta/', 'https://generativelanguage.googleapis.com/v1beta'],
    ['https://generativelanguage.googleapis.com/v1', 'https://generativelanguage.googleapis.com/v1'],
  ])('Google %s → %s', (input, root) => {
    expect(googleApiRoot(input)).toBe(root);
  });

  it('uses the public endpoints and documented defaults when nothing is set', () => {
    const config = loadCloudConfig({});
    expect(config.providers.openai.apiRoot).toBe('https://api.openai.com/v1');
    expect(config.providers.anthropic.apiRoot).toBe('https://api.anthropic.com/v1');
    expect(config.providers.google.apiRoot).toBe('https://generativelanguage.googleapis.com/v1beta');
    expect(config).toMatchObject({
      connectTimeoutMs: 10_000,
      responseTimeoutMs: 300_000,
      idleTimeoutMs: 120_000,
      modelsCacheTtlMs: 300_000,
      anthropicDefaultMaxTokens: 4096,
      anthropicVersion: '2023-06-01',
    });
  });

  it('rejects a timeout that is not a positive number, naming the variable', () => {
    expect(() => loadCloudConfig({ LLM_ROUTER_CLOUD_TIMEOUT: 'soon' })).toThrow(/LLM_ROUTER_CLOUD_TIMEOUT/);
  });
});

describe('cloud models in /v1/models', () => {
  let fake: FakeUpstream;
  let router: TestRouter;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
    router = await startRouter({
      OPENAI_API_KEY: 'o',
      // An OpenAI-compatible service under a path of its own.
      OPENAI_BASE_URL: `${fake.url}/compatible/v1`,
      GOOGLE_API_KEY: 'g',
      GOOGLE_API_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'a',
      ANTHROPIC_API_BASE_URL: fake.url,
    });
    fake.on('/v1/models', {
      kind: 'json',
      body: {
        data: [
          {
            type: 'model',
            id: 'claude-sonnet-4-6',
            display_name: 'Claude Sonnet 4.6',
            created_at: '2026-02-17T00:00:00Z',
          },
        ],
        has_more: false,
        first_id: 'claude-sonnet-4-6',
        last_id: 'claude-sonnet-4-6',
      },
    });
    fake.on('/compatible/v1/models', {
      kind: 'json',
      body: {
        object: 'list',
        data: [{ id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' }],
      },
    });
    fake.on('/v1beta/models', {
      kind: 'json',
      body: {
        models: [
          { name: 'models/gemini-2.5-flash', supportedGenerationMethods: ['generateContent', 'countTokens'] },
          { name: 'models/gemini-embedding-001', supportedGenerationMethods: ['embedContent'] },
          { name: 'models/imagen-4.0-generate-001', supportedGenerationMethods: ['predict'] },
        ],
      },
    });
  });
  afterAll(async () => {
    await router?.close();
    await fake?.close();
  });

  it('lists each keyed provider with its prefix, Gemini names without models/', async () => {
    const models = await router.client.models.list();
    const ids = models.data.map((model) => model.id).sort();
    expect(ids).toEqual([
      'anthropic:claude-sonnet-4-6',
      'google:gemini-2.5-flash',
      'google:gemini-embedding-001',
      'openai:gpt-4o',
    ]);
    expect(fake.requests.map((request) => request.url).sort()).toEqual([
      '/compatible/v1/models',
      '/v1/models?limit=1000',
      '/v1beta/models?pageSize=1000',
    ]);
    const anthropicListing = fake.requests.find((request) => request.headers['x-api-key'] === 'a');
    expect(anthropicListing?.headers['anthropic-version']).toBe('2023-06-01');
    expect(
      fake.requests.find((request) => request.url.startsWith('/v1beta/models'))?.headers['x-goog-api-key'],
    ).toBe('g');
  });

  it('serves the list from cache for the next few minutes', async () => {
    const before = fake.requests.length;
    await router.client.models.list();
    expect(fake.requests.length).toBe(before);
  });
});

describe('the model list cache', () => {
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await FakeUpstream.start();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('asks again after the cache lifetime, and soon after a failed listing', async () => {
    let now = 0;
    const config = loadCloudConfig({
      OPENAI_API_KEY: 'o',
      OPENAI_BASE_URL: fake.url,
      LLM_ROUTER_CLOUD_MODELS_TTL: '60',
    });
    const client = new UpstreamClient(config);
    const warnings: string[] = [];
    const catalog = new CloudModelCatalog({
      config,
      providers: {
        openai: openAIProvider,
        google: googleProvider,
        anthropic: createAnthropicProvider({ version: '2023-06-01', defaultMaxTokens: 1 }),
      },
      client,
      warn: (message) => warnings.push(message),
      now: () => now,
    });
    try {
      fake.on('/v1/models', { kind: 'json', status: 500, body: { error: { message: 'boom' } } });
      expect(await catalog.list()).toEqual([]);
      expect(warnings[0]).toContain('openai');
      fake.on('/v1/models', { kind: 'json', body: { object: 'list', data: [{ id: 'gpt-4o' }] } });
      now = 10_000;
      expect(await catalog.list()).toEqual([]); // still within the pause after a failure
      now = 31_000;
      expect(await catalog.list()).toEqual([{ id: 'openai:gpt-4o', provider: 'openai' }]);
      now = 60_000;
      await catalog.list();
      expect(fake.requests).toHaveLength(2);
      now = 92_000;
      await catalog.list();
      expect(fake.requests).toHaveLength(3);
    } finally {
      await client.close();
    }
  });
});

describe('replaceTopLevelModel', () => {
  it('renames only the top-level model and keeps every other byte', () => {
    const raw = '{\n  "model": "openai:gpt-4o",\n  "tools": [{"model": "x"}], "n": 1.50 }';
    expect(replaceTopLevelModel(raw, 'gpt-4o')).toBe(
      '{\n  "model": "gpt-4o",\n  "tools": [{"model": "x"}], "n": 1.50 }',
    );
  });

  it('copes with escapes, nesting and a model that comes last', () => {
    const raw = '{"a":"}\\"model\\":","b":{"c":[1,{"d":"]"}]},"model":"google:g"}';
    expect(replaceTopLevelModel(raw, 'g')).toBe('{"a":"}\\"model\\":","b":{"c":[1,{"d":"]"}]},"model":"g"}');
  });

  it('gives up on anything that is not a JSON object with a model', () => {
    expect(replaceTopLevelModel('[1,2]', 'x')).toBeUndefined();
    expect(replaceTopLevelModel('{"messages":[]}', 'x')).toBeUndefined();
    expect(replaceTopLevelModel('{"model": "a"', 'x')).toBeUndefined();
  });
});

describe('SseParser', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('reassembles events split anywhere, including inside CRLF and multi-byte characters', () => {
    const text = 'event: a\r\ndata: {"x":"é"}\r\n\r\n: keep-alive\n\ndata: line1\ndata: line2\n\n';
    const encoded = bytes(text);
    const parser = new SseParser();
    const events = [];
    for (let i = 0; i < encoded.length; i += 3) events.push(...parser.push(encoded.slice(i, i + 3)));
    events.push(...parser.end());
    expect(events).toEqual([
      { event: 'a', data: '{"x":"é"}' },
      { event: null, data: 'line1\nline2' },
    ]);
  });

  it('delivers a last event that has no blank line after it', () => {
    const parser = new SseParser();
    expect(parser.push(bytes('data: [DONE]'))).toEqual([]);
    expect(parser.end()).toEqual([{ event: null, data: '[DONE]' }]);
  });

  it('accepts bare CR line endings', () => {
    const parser = new SseParser();
    expect(parser.push(bytes('data: one\r\rdata: two\r\r'))).toEqual([
      { event: null, data: 'one' },
      { event: null, data: 'two' },
    ]);
  });
});
