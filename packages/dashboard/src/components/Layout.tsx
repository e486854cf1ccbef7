/**
 * The signed-in frame: brand, navigation, connection status with the last refresh, theme
 * toggle and the user menu (with Logout). Admin-only destinations are hidden from viewers.
 */
import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import { useOverview } from '../api/hooks';
import type { Me } from '../api/types';
import { relativeTime } from '../lib/format';
import { navigate } from '../lib/route';
import { saveTheme, storedTheme, type Theme } from '../lib/theme';
import { Link } from './Link';
import { Badge, cx } from './ui';

const NAV: Array<{ page: string; label: string; href: string; admin?: boolean }> = [
  { page: 'overview', label: 'Overview', href: '/dashboard' },
  { page: 'nodes', label: 'Nodes', href: '/dashboard/nodes' },
  { page: 'models', label: 'Models', href: '/dashboard/models' },
  { page: 'routing', label: 'Routing', href: '/dashboard/routing' },
  { page: 'history', label: 'History', href: '/dashboard/history', admin: true },
  { page: 'logs', label: 'Logs', href: '/dashboard/logs', admin: true },
  { page: 'api-keys', label: 'API keys', href: '/dashboard/api-keys', admin: true },
  { page: 'users', label: 'Users', href: '/dashboard/users', admin: true },
  { page: 'invitations', label: 'Invitations', href: '/dashboard/invitations', admin: true },
  { page: 'playground', label: 'Playground', href: '/playground' },
];

function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

function ConnectionStatus() {
  const overview = useOverview();
  const now = useNow();
  const connected = overview.isSuccess && !overview.isError;
  const label = overview.isError ? 'Disconnected' : connected ? 'Live' : 'Connecting';
  return (
    <output
      aria-live="polite"
      className="flex items-center gap-2 text-xs text-zinc-500 dark:text-zinc-400"
      title={overview.dataUpdatedAt ? new Date(overview.dataUpdatedAt).toLocaleString() : undefined}
    >
      <span
        aria-hidden="true"
        className={cx(
          'size-2 rounded-full',
          overview.isError
            ? 'bg-red-500'
            : connected
              ? 'bg-emerald-500 shadow-[0_0_0_3px] shadow-emerald-500/20'
              : 'bg-amber-400',
        )}
      />
      <span className="font-medium text-zinc-700 dark:text-zinc-200">{label}</span>
      <span className="hidden sm:inline">
        {overview.dataUpdatedAt ? `updated ${relativeTime(overview.dataUpdatedAt, now)}` : ''}
      </span>
    </output>
  );
}

function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(storedTheme());
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      className="rounded-lg p-2 text-zinc-500 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-white"
      onClick={() => {
        saveTheme(next);
        setTheme(next);
      }}
    >
      {theme === 'dark' ? (
        <svg aria-hidden="true" viewBox="0 0 20 20" className="size-5" fill="currentColor">
          <path d="M10 2a1 1 0 011 1v1a1 1 0 11-2 0V3a1 1 0 011-1zm4 8a4 4 0 11-8 0 4 4 0 018 0zm-.46 4.95l.7.7a1 1 0 001.42-1.4l-.71-.71a1 1 0 00-1.41 1.41zm2.12-10.6a1 1 0 010 1.4l-.7.71a1 1 0 11-1.42-1.41l.71-.7a1 1 0 011.41 0zM17 11a1 1 0 100-2h-1a1 1 0 100 2h1zm-7 4a1 1 0 011 1v1a1 1 0 11-2 0v-1a1 1 0 011-1zM5.05 6.46a1 1 0 001.41-1.41l-.7-.71a1 1 0 00-1.42 1.41l.71.71zm1.41 8.49l-.7.7a1 1 0 01-1.42-1.4l.71-.71a1 1 0 011.41 1.41zM4 11a1 1 0 100-2H3a1 1 0 000 2h1z" />
        </svg>
      ) : (
        <svg aria-hidden="true" viewBox="0 0 20 20" className="size-5" fill="currentColor">
          <path d="M17.29 13.29A8 8 0 016.71 2.71a8 8 0 1010.58 10.58z" />
        </svg>
      )}
    </button>
  );
}

function UserMenu({ user }: { user: Me }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const client = useQueryClient();
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    const onClick = (e: MouseEvent) => !ref.current?.contains(e.target as Node) && setOpen(false);
    document.addEventListener('keydown', onKey);
    document.addEventListener('mousedown', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('mousedown', onClick);
    };
  }, [open]);
  const logout = async () => {
    try {
      await api('/v0/auth/logout', { method: 'POST' });
    } catch {
      // Already signed out on the router: the page still returns to login.
    }
    client.setQueryData(['me'], null);
    client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
    navigate('/dashboard/login', { replace: true });
  };
  return (
    <div ref={ref} className="relative">
      <button
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={`User menu for ${user.username}`}
        onClick={() => setOpen(!open)}
        className="flex items-center gap-2 rounded-lg px-2 py-1.5 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800"
      >
        <span className="flex size-7 items-center justify-center rounded-full bg-indigo-600 text-xs font-semibold uppercase text-white">
          {user.username.slice(0, 1)}
        </span>
        <span className="hidden max-w-32 truncate font-medium sm:inline">{user.username}</span>
      </button>
      {open ? (
        <div
          role="menu"
          className="absolute right-0 z-20 mt-2 w-56 rounded-xl border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-800 dark:bg-zinc-900"
        >
          <div className="px-3 py-2 text-sm">
            <div className="font-medium">{user.username}</div>
            <div className="mt-1">
              <Badge tone={user.role === 'admin' ? 'indigo' : 'gray'}>{user.role}</Badge>
            </div>
          </div>
          <div className="my-1 h-px bg-zinc-200 dark:bg-zinc-800" />
          <button
            type="button"
            role="menuitem"
            onClick={logout}
            className="w-full rounded-lg px-3 py-2 text-left text-sm text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
          >
            Log out
          </button>
        </div>
      ) : null}
    </div>
  );
}

export function Layout({ user, page, children }: { user: Me; page: string; children: ReactNode }) {
  const items = NAV.filter((n) => !n.admin || user.role === 'admin');
  return (
    <div className="min-h-screen">
      <header className="sticky top-0 z-10 border-b border-zinc-200 bg-white/85 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/85">
        <div className="mx-auto flex max-w-7xl items-center gap-3 px-4 py-2.5">
          <Link href="/dashboard" className="flex items-center gap-2 font-semibold tracking-tight">
            <span className="flex size-7 items-center justify-center rounded-lg bg-indigo-600 text-sm font-bold text-white">
              L
            </span>
            <span className="hidden sm:inline">LLM Router</span>
          </Link>
          <div className="ml-auto flex items-center gap-1 sm:gap-3">
            <ConnectionStatus />
            <ThemeToggle />
            <UserMenu user={user} />
          </div>
        </div>
        <nav aria-label="Main" className="mx-auto max-w-7xl px-2 sm:px-4">
          <ul className="flex flex-wrap gap-x-1 pb-1">
            {items.map((item) => (
              <li key={item.page}>
                <Link
                  href={item.href}
                  aria-current={page === item.page ? 'page' : undefined}
                  className={cx(
                    'block rounded-md px-2.5 py-1.5 text-sm font-medium transition-colors',
                    page === item.page
                      ? 'bg-indigo-50 text-indigo-700 dark:bg-indigo-500/15 dark:text-indigo-300'
                      : 'text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-white',
                  )}
                >
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </div>
  );
}
