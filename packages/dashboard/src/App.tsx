/**
 * The app shell: decides between the login/sign-up pages and the signed-in layout, sends any
 * 401 back to login, and lazy-loads each view so the first load stays small.
 */
import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect } from 'react';
import { onUnauthorized } from './api/client';
import { useMe } from './api/hooks';
import { Layout } from './components/Layout';
import { ErrorMessage, Spinner } from './components/ui';
import { matchRoute, navigate, usePath } from './lib/route';
import { LoginPage } from './views/Login';

const loaders = {
  overview: () => import('./views/Overview'),
  nodes: () => import('./views/Nodes'),
  models: () => import('./views/Models'),
  routing: () => import('./views/Routing'),
  history: () => import('./views/History'),
  logs: () => import('./views/Logs'),
  'api-keys': () => import('./views/ApiKeys'),
  users: () => import('./views/Users'),
  invitations: () => import('./views/Invitations'),
  playground: () => import('./views/Playground'),
};
type Page = keyof typeof loaders;
const views = Object.fromEntries(Object.entries(loaders).map(([page, load]) => [page, lazy(load)])) as Record<
  Page,
  ReturnType<typeof lazy<(props: { param?: string; role: 'admin' | 'viewer' }) => React.ReactNode>>
>;

// Fetch the opening view's chunk at once, in parallel with the session check, not after it.
const opening = matchRoute(location.pathname).page;
if (opening in loaders) void loaders[opening as Page]().catch(() => {});
const RegisterPage = lazy(() => import('./views/Register'));

/** Pages only an admin can use; a viewer who opens one is shown the overview. */
export const ADMIN_PAGES = new Set(['history', 'logs', 'api-keys', 'users', 'invitations']);

export function App() {
  const path = usePath();
  const route = matchRoute(path);
  const me = useMe();
  const client = useQueryClient();

  useEffect(() => {
    onUnauthorized(() => {
      client.setQueryData(['me'], null);
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
      const here = location.pathname + location.search;
      // The sign-in and sign-up pages are where a stranger belongs already.
      if (!/^\/dashboard\/(login|register)/.test(here)) {
        navigate(`/dashboard/login?next=${encodeURIComponent(here)}`, { replace: true });
      }
    });
  }, [client]);

  if (route.page === 'register') {
    return (
      <Suspense fallback={<Spinner />}>
        <RegisterPage />
      </Suspense>
    );
  }
  if (me.isLoading) return <Spinner label="Connecting to the router" />;
  const user = me.data ?? null;
  if (!user || route.page === 'login') {
    if (user && route.page === 'login') {
      navigate('/dashboard', { replace: true });
      return null;
    }
    const status = (me.error as { status?: number } | null)?.status;
    return <LoginPage routerError={me.error && status !== 401 ? me.error : null} />;
  }

  const page = route.page in views ? route.page : 'not-found';
  const allowed = !(user.role !== 'admin' && ADMIN_PAGES.has(page));
  const View = allowed ? views[page as keyof typeof views] : undefined;
  return (
    <Layout user={user} page={page}>
      <Suspense fallback={<Spinner />}>
        {View ? (
          <View param={route.param} role={user.role} />
        ) : (
          <ErrorMessage
            error={new Error(allowed ? `No page at ${path}` : 'This page needs an admin account.')}
          />
        )}
      </Suspense>
    </Layout>
  );
}
