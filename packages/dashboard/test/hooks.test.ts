// @vitest-environment happy-dom
/**
 * The data layer: the API client (CSRF header on writes, the router's error shapes, 401 to the
 * login handler) and the query hooks rendered in a real React tree (happy-dom), with the
 * router's HTTP answers played by a fetch double.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, createElement, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, errorFromResponse, onUnauthorized } from '../src/api/client';
import { historyQuery, useApiMutation, useModels, useOverview } from '../src/api/hooks';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

type Call = { url: string; init: RequestInit };
let calls: Call[];
let answer: (url: string, init: RequestInit) => Response;

beforeEach(() => {
  calls = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    calls.push({ url, init });
    return answer(url, init);
  });
  // biome-ignore lint/suspicious/noDocumentCookie: the client reads the CSRF cookie the router sets.
  document.cookie = 'llm_router_csrf=csrf-123';
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Renders a hook in a component and returns its latest value. */
async function renderHook<T>(hook: () => T) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const result: { current: T | undefined } = { current: undefined };
  // biome-ignore lint/correctness/noComponentHookFactories: a probe component per rendered hook.
  function Probe() {
    result.current = hook();
    return null;
  }
  const container = document.createElement('div');
  const root = createRoot(container);
  await act(async () => {
    root.render(createElement(QueryClientProvider, { client }, createElement(Probe) as ReactNode));
  });
  return {
    result,
    client,
    async settle(ms = 20) {
      await act(async () => {
        await new Promise((r) => setTimeout(r, ms));
      });
    },
    unmount: () => act(async () => root.unmount()),
  };
}

describe('api client', () => {
  it('sends the CSRF token on writes, not on reads, and rides on the cookie', async () => {
    answer = () => json(200, { ok: true });
    await api('/v0/nodes');
    await api('/v0/api-keys', { method: 'POST', body: { name: 'x' } });
    expect(calls[0].init.credentials).toBe('same-origin');
    expect((calls[0].init.headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
    expect((calls[1].init.headers as Record<string, string>)['x-csrf-token']).toBe('csrf-123');
    expect(calls[1].init.body).toBe('{"name":"x"}');
  });

  it("turns the router's error shapes into messages with code and field", async () => {
    const v0 = await errorFromResponse(
      json(400, { error: { message: 'repo is required', code: 'validation_error', param: 'repo' } }),
    );
    expect([v0.status, v0.message, v0.code, v0.param]).toEqual([
      400,
      'repo is required',
      'validation_error',
      'repo',
    ]);
    const legacy = await errorFromResponse(json(503, { error: 'No available nodes' }));
    expect(legacy.message).toBe('No available nodes');
    const text = await errorFromResponse(new Response('gateway down', { status: 502 }));
    expect(text.message).toBe('gateway down');
  });

  it('hands a 401 to the sign-in handler, but not a failed login', async () => {
    const handler = vi.fn();
    onUnauthorized(handler);
    answer = () =>
      json(401, { error: { message: 'Invalid or expired session token', code: 'invalid_token' } });
    await expect(api('/v0/dashboard/overview')).rejects.toBeInstanceOf(ApiError);
    expect(handler).toHaveBeenCalledTimes(1);
    await expect(api('/v0/auth/login', { method: 'POST', body: {} })).rejects.toThrow('Invalid or expired');
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('reports an unreachable router in words', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(api('/v0/nodes')).rejects.toThrow('Cannot reach the router');
  });
});

describe('query hooks', () => {
  it('useOverview loads and keeps polling the overview', async () => {
    let n = 0;
    answer = () => json(200, { nodes: [], stats: { total_nodes: ++n }, history: [], generated_at: '' });
    const hook = await renderHook(() => useOverview());
    await hook.settle();
    expect(hook.result.current?.data?.stats.total_nodes).toBe(1);
    await hook.settle(3200);
    expect(hook.result.current?.data?.stats.total_nodes).toBeGreaterThanOrEqual(2);
    expect(calls.every((c) => c.url === '/v0/dashboard/overview')).toBe(true);
    await hook.unmount();
  });

  it('useModels unwraps /v1/models and polls faster while a model is caching', async () => {
    answer = () =>
      json(200, { data: [{ id: 'org/m', owned_by: 'router', lifecycle_status: 'caching', ready: false }] });
    const hook = await renderHook(() => useModels());
    await hook.settle();
    expect(hook.result.current?.data?.[0].id).toBe('org/m');
    const before = calls.length;
    await hook.settle(1150);
    expect(calls.length).toBeGreaterThan(before);
    await hook.unmount();
  });

  it('useApiMutation writes and then refreshes what it changed', async () => {
    answer = (url) => (url === '/v0/api-keys' ? json(201, { id: 'k', key: 'sk_x' }) : json(200, {}));
    const hook = await renderHook(() =>
      useApiMutation<{ name: string }>(
        (input) => ({ path: '/v0/api-keys', method: 'POST', body: input }),
        [['api-keys']],
      ),
    );
    const invalidate = vi.spyOn(hook.client, 'invalidateQueries');
    await act(async () => {
      await hook.result.current?.mutateAsync({ name: 'app' });
    });
    expect(calls[0].init.method).toBe('POST');
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ['api-keys'] });
    await hook.unmount();
  });

  it('shows a write refused by the router as the mutation error', async () => {
    answer = () => json(400, { error: { message: 'Cannot delete the last admin', code: 'last_admin' } });
    const hook = await renderHook(() =>
      useApiMutation<void>(() => ({ path: '/v0/users/1', method: 'DELETE' }), []),
    );
    await act(async () => {
      await hook.result.current?.mutateAsync().catch(() => {});
    });
    await hook.settle();
    expect(hook.result.current?.error?.message).toBe('Cannot delete the last admin');
    await hook.unmount();
  });

  it('historyQuery drops empty filters and sends times as ISO-8601', () => {
    const q = new URLSearchParams(
      historyQuery({ model: 'm', status: '', from: '2026-12-01T10:00' }, { page: 2, per_page: 50 }),
    );
    expect(q.get('model')).toBe('m');
    expect(q.has('status')).toBe(false);
    expect(q.get('from')).toBe(new Date('2026-12-01T10:00').toISOString());
    expect(q.get('page')).toBe('2');
  });
});
