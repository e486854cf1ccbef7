/**
 * Prefix-cache-aware routing end to end: a real router (`cache_aware`) and two real llama.cpp
 * nodes on stories260K. Interleaved conversations each return to the node that holds their
 * prefix, and that node reports `cached_tokens > 0` (JSON and stream); history and the dashboard
 * summary show the hits. (Under round_robin the third request below would move conversation A.)
 * A stream without `include_usage` stays exactly what the client asked for, yet the router learns
 * what the node reused (the node's usage trailer) for history and drift correction.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  modelsDir,
  type RouterProcess,
  type RunningProcess,
  routerCli,
  runCli,
  startNodeProcess,
  startRouterProcess,
  stopAll,
  waitUntil,
} from '../support/processes.js';

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

let router: RouterProcess;
let nodes: RunningProcess[];
let client: OpenAI;
let adminKey: string;
let inferenceKey: string;
/** Conversation C after its first turn, for the stream without include_usage. */
let conversationC: Message[] = [];

const system = (topic: string) =>
  `${topic}: you are a storyteller for children. Every story is short and happy, has a little girl ` +
  'called Lily and her dog, and ends at bedtime with everybody smiling.';

async function requestCounts(): Promise<number[]> {
  return Promise.all(
    nodes.map(
      async (n) =>
        ((await (await fetch(`${n.url}/metrics`)).json()) as { total_requests: number }).total_requests,
    ),
  );
}

/** Sends one chat and says which node served it (by the nodes' own request counters). */
async function chat(messages: Message[]) {
  const before = await requestCounts();
  const reply = await client.chat.completions.create({
    model: 'stories260K',
    messages,
    max_tokens: 10,
    temperature: 0,
  });
  const after = await requestCounts();
  const served = after.findIndex((count, i) => count === before[i]! + 1);
  return { reply, node: served, text: reply.choices[0]?.message.content ?? '' };
}

beforeAll(async () => {
  router = await startRouterProcess({
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    LLM_ROUTER_LOAD_BALANCER_MODE: 'cache_aware',
  });
  const nodeKey = await router.createKey('node:register');
  inferenceKey = await router.createKey('api:inference');
  adminKey = await router.createKey('admin:*');
  nodes = await Promise.all(
    [0, 1].map(() =>
      startNodeProcess({
        routerUrl: router.url,
        apiKey: nodeKey,
        models: modelsDir(['stories260K']),
        env: { LLM_NODE_PARALLEL: '2' },
      }),
    ),
  );
  client = new OpenAI({ apiKey: inferenceKey, baseURL: `${router.url}/v1`, maxRetries: 0 });
  await waitUntil(
    async () => {
      const res = await fetch(`${router.url}/v0/nodes`, { headers: { authorization: `Bearer ${adminKey}` } });
      const list = (await res.json()) as Array<{ status: string; models: Array<{ sequences?: number }> }>;
      return (
        list.filter((n) => n.status === 'online' && n.models.some((m) => m.sequences === 2)).length === 2
      );
    },
    60_000,
    'both nodes online, reporting their sequences',
  );
});

afterAll(() => stopAll());

describe('cache_aware routing on real nodes', () => {
  it('sends follow-up turns to the node holding the conversation, which reuses the prefix', async () => {
    const a: Message[] = [
      { role: 'system', content: system('Alpha') },
      { role: 'user', content: 'Tell me about the park.' },
    ];
    const b: Message[] = [
      { role: 'system', content: system('Bravo') },
      { role: 'user', content: 'Tell me about the sea.' },
    ];
    const c: Message[] = [
      { role: 'system', content: system('Charlie') },
      { role: 'user', content: 'Tell me about the snow.' },
    ];
    const a1 = await chat(a);
    const b1 = await chat(b);
    expect(a1.node).toBeGreaterThanOrEqual(0);
    // Nothing shared yet: the least-loaded rotation spreads the first turns.
    expect(b1.node).not.toBe(a1.node);
    const c1 = await chat(c);
    conversationC = [...c, { role: 'assistant', content: c1.text }, { role: 'user', content: 'And then?' }];

    const a2 = await chat([
      ...a,
      { role: 'assistant', content: a1.text },
      { role: 'user', content: 'And then?' },
    ]);
    expect(a2.node).toBe(a1.node);
    expect(a2.reply.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({
      model: 'stories260K',
      messages: [...b, { role: 'assistant', content: b1.text }, { role: 'user', content: 'And then?' }],
      max_tokens: 10,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let cached: number | undefined;
    for await (const chunk of stream)
      if (chunk.usage) cached = chunk.usage.prompt_tokens_details?.cached_tokens;
    expect(cached).toBeGreaterThan(0);
  });

  it('learns what the node reused on a stream without include_usage, which the client never sees', async () => {
    const headers = { authorization: `Bearer ${adminKey}` };
    const routing = async () =>
      (await (await fetch(`${router.url}/v0/dashboard/cache-routing`, { headers })).json()) as {
        prefix_index: { checks: number };
      };
    const checksBefore = (await routing()).prefix_index.checks;
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'stories260K', messages: conversationC, max_tokens: 10, temperature: 0, stream: true })
      .withResponse();
    const chunks: object[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    // What OpenAI sends without include_usage: no usage chunk, no usage field on any chunk.
    for (const chunk of chunks) expect(chunk).not.toHaveProperty('usage');
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toBeTruthy();

    // The raw bytes too: only data events, no comment, no trailer announced to the client.
    const raw = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${inferenceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', messages: conversationC, max_tokens: 4, stream: true }),
    });
    expect(raw.headers.get('trailer')).toBeNull();
    const events = (await raw.text()).split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    for (const event of events.slice(0, -1)) {
      expect(event.startsWith('data: {')).toBe(true);
      expect(event).not.toContain('"usage"');
    }

    // History got the node's figures, and the index compared them with its prediction.
    let record: Record<string, unknown> | undefined;
    await waitUntil(
      async () => {
        const history = (await (
          await fetch(`${router.url}/v0/dashboard/request-responses?per_page=100`, { headers })
        ).json()) as { records: Array<Record<string, unknown>> };
        record = history.records.find((r) => r.request_id === requestId);
        return record !== undefined;
      },
      10_000,
      'the stream in history',
    );
    expect(record!.stream).toBe(true);
    expect(record!.prompt_tokens).toBeGreaterThan(0);
    expect(record!.completion_tokens).toBeGreaterThan(0);
    expect(record!.cached_tokens).toBeGreaterThan(0);
    expect(record!.prefix_match_chars).toBeGreaterThan(0);
    expect((await routing()).prefix_index.checks).toBeGreaterThanOrEqual(checksBefore + 2);
  });

  it('records the decisions in history and summarises hit rates for dashboard viewers', async () => {
    const headers = { authorization: `Bearer ${adminKey}` };
    let summary: {
      policy: string;
      models: Array<{ model: string; totals: { hits: number; cached_tokens: number }; nodes: unknown[] }>;
    } = { policy: '', models: [] };
    await waitUntil(
      async () => {
        const res = await fetch(`${router.url}/v0/dashboard/cache-routing`, { headers });
        summary = (await res.json()) as typeof summary;
        return (summary.models[0]?.totals.hits ?? 0) >= 2;
      },
      10_000,
      'history rows with cache hits',
    );
    expect(summary.policy).toBe('cache_aware');
    expect(summary.models[0]!.model).toBe('stories260K');
    expect(summary.models[0]!.totals.cached_tokens).toBeGreaterThan(0);
    expect(summary.models[0]!.nodes).toHaveLength(2);

    const history = (await (
      await fetch(`${router.url}/v0/dashboard/request-responses?per_page=100`, { headers })
    ).json()) as { records: Array<Record<string, unknown>> };
    const hit = history.records.find((r) => typeof r.cached_tokens === 'number' && r.cached_tokens > 0);
    expect(hit).toBeDefined();
    expect(hit!.prefix_match_chars).toBeGreaterThan(0);
    expect(typeof hit!.node_load).toBe('number');

    // Viewers may read the summary; an inference-only API key may not.
    await runCli(
      routerCli,
      ['user', 'add', 'viewer1', '--password', 'viewer-password-1', '--role', 'viewer'],
      { LLM_ROUTER_DATA_DIR: router.dataDir },
    );
    const login = await fetch(`${router.url}/v0/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'viewer1', password: 'viewer-password-1' }),
    });
    const { token } = (await login.json()) as { token: string };
    const asViewer = await fetch(`${router.url}/v0/dashboard/cache-routing`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(asViewer.status).toBe(200);
    const asInferenceKey = await fetch(`${router.url}/v0/dashboard/cache-routing`, {
      headers: { authorization: `Bearer ${inferenceKey}` },
    });
    expect(asInferenceKey.status).toBe(403);
    const badWindow = await fetch(`${router.url}/v0/dashboard/cache-routing?window_minutes=abc`, { headers });
    expect(badWindow.status).toBe(400);
  });
});
