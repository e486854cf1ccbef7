// @vitest-environment happy-dom
/** Table helpers, CSV export, the SSE reader and the playground's conversation store. */
import { describe, expect, it } from 'vitest';
import { filterByLevel } from '../src/components/LogView';
import { curlFor, loadConversations, saveConversations, toRequestMessages } from '../src/lib/conversations';
import { toCsv } from '../src/lib/export';
import { matchRoute } from '../src/lib/route';
import { queueMeanWaitMs, routingTotals } from '../src/lib/routing';
import { readChatStream, splitEvents } from '../src/lib/sse';
import { matchesSearch, pageOf, sortRows } from '../src/lib/table';

function streamOf(...parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const p of parts) controller.enqueue(encoder.encode(p));
      controller.close();
    },
  });
}

describe('tables', () => {
  const rows = [
    { name: 'node-10', cpu: 5 },
    { name: 'node-2', cpu: null },
    { name: 'Alpha', cpu: 80 },
  ];
  it('sorts naturally, nulls last, both directions', () => {
    expect(sortRows(rows, (r) => r.name, 'asc').map((r) => r.name)).toEqual(['Alpha', 'node-2', 'node-10']);
    expect(sortRows(rows, (r) => r.cpu, 'asc').map((r) => r.cpu)).toEqual([5, 80, null]);
    expect(sortRows(rows, (r) => r.cpu, 'desc').map((r) => r.cpu)).toEqual([null, 80, 5]);
  });
  it('pages and clamps the page number', () => {
    expect(pageOf([1, 2, 3, 4, 5], 2, 2)).toEqual({ rows: [3, 4], pages: 3, page: 2 });
    expect(pageOf([1, 2, 3], 9, 2)).toEqual({ rows: [3], pages: 2, page: 2 });
    expect(pageOf([], 1, 10)).toEqual({ rows: [], pages: 1, page: 1 });
  });
  it('searches any field, case-insensitively', () => {
    expect(matchesSearch('GPU', ['box', 'gpu-rack'])).toBe(true);
    expect(matchesSearch('zzz', ['box', null])).toBe(false);
    expect(matchesSearch('  ', ['x'])).toBe(true);
  });
});

describe('CSV export', () => {
  it('quotes separators and quotes, and neutralises spreadsheet formulas', () => {
    const csv = toCsv(
      [{ id: 1, name: 'a,b', note: 'say "hi"', formula: '=SUM(A1)', tags: ['x', 'y'], none: null }],
      ['id', 'name', 'note', 'formula', 'tags', 'none'],
    );
    expect(csv).toBe('id,name,note,formula,tags,none\n1,"a,b","say ""hi""",\'=SUM(A1),"[""x"",""y""]",\n');
  });
});

describe('SSE reader', () => {
  it('splits events across chunk boundaries and CRLF', () => {
    const { events, rest } = splitEvents(
      'data: {"a":1}\r\n\r\n: comment\n\nevent: error\ndata: {"b":2}\n\ndata: par',
    );
    expect(events).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'error', data: '{"b":2}' },
    ]);
    expect(rest).toBe('data: par');
  });

  it('yields chunks until [DONE]', async () => {
    const body = streamOf(
      'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"delta":',
      '{"content":"lo"}}]}\n\ndata: [DONE]\n\ndata: {"choices":[{"delta":{"content":"ignored"}}]}\n\n',
    );
    const text: string[] = [];
    for await (const c of readChatStream(body)) text.push(c.choices?.[0]?.delta?.content ?? '');
    expect(text.join('')).toBe('Hello');
  });

  it("throws the router's mid-stream error", async () => {
    const body = streamOf(
      'data: {"choices":[{"delta":{"content":"x"}}]}\n\nevent: error\ndata: {"error":{"message":"node died"}}\n\n',
    );
    await expect(async () => {
      for await (const _ of readChatStream(body)) {
      }
    }).rejects.toThrow('node died');
  });
});

describe('playground conversations', () => {
  it('round-trips through storage, newest first, and survives garbage', () => {
    saveConversations([
      { id: 'a', title: 'old', model: 'm', system: '', messages: [], updatedAt: 1 },
      { id: 'b', title: 'new', model: 'm', system: '', messages: [], updatedAt: 2 },
    ]);
    expect(loadConversations().map((c) => c.id)).toEqual(['b', 'a']);
    localStorage.setItem('llm-router.playground.conversations', '{not json');
    expect(loadConversations()).toEqual([]);
  });

  it('builds request messages with the system prompt and image parts, skipping failed replies', () => {
    const messages = toRequestMessages('Be brief', [
      { role: 'user', content: 'What is this?', images: ['data:image/png;base64,AAAA'] },
      {
        role: 'assistant',
        content: '',
        stats: { ttftMs: null, tokensPerSecond: null, tokens: null, error: 'boom' },
      },
      { role: 'user', content: 'Again' },
    ]);
    expect(messages).toEqual([
      { role: 'system', content: 'Be brief' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      { role: 'user', content: 'Again' },
    ]);
  });

  it('writes a curl command that a shell reads back as the same JSON', () => {
    const curl = curlFor('http://router:8080', { model: 'm', messages: [{ role: 'user', content: "it's" }] });
    expect(curl).toContain('curl http://router:8080/v1/chat/completions');
    expect(curl).toContain('Authorization: Bearer $LLM_ROUTER_API_KEY');
    expect(curl).toContain(`-d '{"model":"m","messages":[{"role":"user","content":"it'\\''s"}]}'`);
  });
});

describe('routing and logs', () => {
  it('maps URLs to pages, deep links included', () => {
    expect(matchRoute('/dashboard')).toEqual({ page: 'overview' });
    expect(matchRoute('/dashboard/')).toEqual({ page: 'overview' });
    expect(matchRoute('/dashboard/nodes/abc%2Fdef')).toEqual({ page: 'nodes', param: 'abc/def' });
    expect(matchRoute('/dashboard/login.html')).toEqual({ page: 'login' });
    expect(matchRoute('/playground/anything')).toEqual({ page: 'playground' });
  });

  it('filters log lines by minimum level', () => {
    const entries = [{ level: 'debug' }, { level: 'info' }, { level: 'WARN' }, { level: 'error' }, {}];
    expect(filterByLevel(entries, 'warn').map((e) => e.level)).toEqual(['WARN', 'error']);
    expect(filterByLevel(entries, 'info')).toHaveLength(4);
  });
});

describe('routing figures', () => {
  const figures = (hits: number, reported: number, prompt: number, cached: number) => ({
    requests: reported,
    reported,
    hits,
    hit_rate: null,
    prompt_tokens: prompt,
    cached_tokens: cached,
    cached_token_ratio: null,
    avg_prefix_match_chars: null,
    queued: 0,
    avg_queue_wait_ms: null,
  });

  it('adds hit rate and cached-token share over every model', () => {
    const totals = routingTotals({
      models: [
        { model: 'a', totals: figures(3, 4, 400, 300), nodes: [] },
        { model: 'b', totals: figures(1, 4, 600, 0), nodes: [] },
      ],
    });
    expect(totals).toEqual({
      hits: 4,
      reported: 8,
      prompt_tokens: 1000,
      cached_tokens: 300,
      hit_rate: 0.5,
      cached_token_ratio: 0.3,
    });
    expect(routingTotals({ models: [] })).toMatchObject({ hit_rate: null, cached_token_ratio: null });
  });

  it('gives the mean wait of the requests that waited, or null', () => {
    expect(queueMeanWaitMs({ wait_seconds_sum: 3, queued_total: 4 })).toBe(750);
    expect(queueMeanWaitMs({ wait_seconds_sum: 0, queued_total: 0 })).toBeNull();
  });
});
