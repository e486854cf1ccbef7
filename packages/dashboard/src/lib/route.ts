/** A tiny history-API router: the SPA has a dozen flat routes, not worth a routing library. */
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current path (without the query), re-rendering on navigation. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

export function useSearch(): URLSearchParams {
  const search = useSyncExternalStore(subscribe, () => location.search);
  return new URLSearchParams(search);
}

export interface Route {
  page: string;
  /** A path segment after the page, e.g. a node id in /dashboard/nodes/<id>. */
  param?: string;
}

/** Maps a URL path to a page name. */
export function matchRoute(path: string): Route {
  if (path === '/playground' || path.startsWith('/playground/')) return { page: 'playground' };
  const rest = path.replace(/^\/dashboard\/?/, '').replace(/\.html$/, '');
  const [page, ...more] = rest.split('/').filter(Boolean);
  if (!page) return { page: 'overview' };
  return { page, param: more.length ? decodeURIComponent(more.join('/')) : undefined };
}
