/**
 * Data hooks: one TanStack Query per router resource, polled so every view stays live, and
 * mutations that refresh what they change. Views never call fetch themselves.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type {
  ApiKey,
  ApiModel,
  CacheRouting,
  DashboardNode,
  HistoryPage,
  HistoryRecord,
  Invitation,
  LogTail,
  Me,
  MetricsSample,
  Overview,
  User,
} from './types';

/** How often live views refresh. */
export const LIVE_MS = 3000;

export const queryKeys = {
  me: ['me'] as const,
  overview: ['overview'] as const,
  models: ['models'] as const,
  metrics: (id: string) => ['metrics', id] as const,
  nodeLogs: (id: string) => ['node-logs', id] as const,
  routerLogs: ['router-logs'] as const,
  history: (query: string) => ['history', query] as const,
  record: (id: string) => ['history-record', id] as const,
  apiKeys: ['api-keys'] as const,
  users: ['users'] as const,
  invitations: ['invitations'] as const,
  cacheRouting: (minutes: number) => ['cache-routing', minutes] as const,
};

export function useMe() {
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: () => api<Me>('/v0/auth/me'),
    retry: false,
    staleTime: 60_000,
  });
}

export function useOverview() {
  return useQuery({
    queryKey: queryKeys.overview,
    queryFn: () => api<Overview>('/v0/dashboard/overview'),
    refetchInterval: LIVE_MS,
  });
}

/** The fleet, from the overview poll (one request feeds the header, overview and nodes). */
export function useNodes(): { nodes: DashboardNode[] | undefined; error: unknown; isLoading: boolean } {
  const q = useOverview();
  return { nodes: q.data?.nodes, error: q.error, isLoading: q.isLoading };
}

export function useNodeMetrics(id: string) {
  return useQuery({
    queryKey: queryKeys.metrics(id),
    queryFn: () =>
      api<{ node_id: string; samples: MetricsSample[] }>(`/v0/dashboard/metrics/${encodeURIComponent(id)}`),
    refetchInterval: LIVE_MS,
  });
}

export function useNodeLogs(id: string | null, follow: boolean, enabled = true) {
  return useQuery({
    queryKey: queryKeys.nodeLogs(id ?? ''),
    queryFn: () => api<LogTail>(`/v0/nodes/${encodeURIComponent(id!)}/logs?limit=200`),
    enabled: enabled && id !== null,
    refetchInterval: follow ? LIVE_MS : false,
    retry: false,
  });
}

export function useRouterLogs(follow: boolean, enabled = true) {
  return useQuery({
    queryKey: queryKeys.routerLogs,
    queryFn: () => api<LogTail>('/v0/dashboard/logs/router?limit=500'),
    enabled,
    refetchInterval: follow ? LIVE_MS : false,
  });
}

export function useModels() {
  return useQuery({
    queryKey: queryKeys.models,
    queryFn: async () => (await api<{ data: ApiModel[] }>('/v1/models')).data,
    // Faster while something is caching, so progress bars move smoothly.
    refetchInterval: (query) =>
      query.state.data?.some((m) => m.lifecycle_status === 'pending' || m.lifecycle_status === 'caching')
        ? 1000
        : LIVE_MS,
  });
}

export interface HistoryFilterValues {
  model?: string;
  node_id?: string;
  status?: string;
  api_key_id?: string;
  from?: string;
  to?: string;
}

/** The query string for a history filter (empty values left out). */
export function historyQuery(
  filters: HistoryFilterValues,
  extra: Record<string, string | number> = {},
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) {
    if (v === undefined || v === '') continue;
    params.set(
      k,
      (k === 'from' || k === 'to') && typeof v === 'string' ? new Date(v).toISOString() : String(v),
    );
  }
  return params.toString();
}

export function useHistory(filters: HistoryFilterValues, page: number, perPage: number) {
  const query = historyQuery(filters, { page, per_page: perPage });
  return useQuery({
    queryKey: queryKeys.history(query),
    queryFn: () => api<HistoryPage>(`/v0/dashboard/request-responses?${query}`),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
  });
}

export function useHistoryRecord(id: string | null) {
  return useQuery({
    queryKey: queryKeys.record(id ?? ''),
    queryFn: () => api<HistoryRecord>(`/v0/dashboard/request-responses/${encodeURIComponent(id!)}`),
    enabled: id !== null,
  });
}

/** Prefix-cache routing and the admission queue over the last `minutes` (viewers may read it). */
export function useCacheRouting(minutes: number) {
  return useQuery({
    queryKey: queryKeys.cacheRouting(minutes),
    queryFn: () => api<CacheRouting>(`/v0/dashboard/cache-routing?window_minutes=${minutes}`),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
  });
}

export function useApiKeys() {
  return useQuery({
    queryKey: queryKeys.apiKeys,
    queryFn: async () => (await api<{ api_keys: ApiKey[] }>('/v0/api-keys')).api_keys,
    refetchInterval: LIVE_MS * 2,
  });
}

export function useUsers() {
  return useQuery({
    queryKey: queryKeys.users,
    queryFn: async () => (await api<{ users: User[] }>('/v0/users')).users,
    refetchInterval: LIVE_MS * 2,
  });
}

export function useInvitations() {
  return useQuery({
    queryKey: queryKeys.invitations,
    queryFn: async () => (await api<{ invitations: Invitation[] }>('/v0/invitations')).invitations,
    refetchInterval: LIVE_MS * 2,
  });
}

/** A mutation against the router that refreshes the given queries when it succeeds. */
export function useApiMutation<Input, Output = unknown>(
  request: (input: Input) => { path: string; method: string; body?: unknown },
  invalidate: ReadonlyArray<readonly unknown[]>,
) {
  const client = useQueryClient();
  return useMutation<Output, Error, Input>({
    mutationFn: (input) => {
      const { path, method, body } = request(input);
      return api<Output>(path, { method, body });
    },
    onSuccess: async () => {
      await Promise.all(invalidate.map((key) => client.invalidateQueries({ queryKey: key })));
    },
  });
}
