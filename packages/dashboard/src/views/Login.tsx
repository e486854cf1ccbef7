/** Sign in: the router sets the session cookie; the page then loads the dashboard. */
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api } from '../api/client';
import type { Me } from '../api/types';
import { AuthFrame } from '../components/AuthFrame';
import { Link } from '../components/Link';
import { Button, ErrorMessage, Field, TextInput } from '../components/ui';
import { navigate } from '../lib/route';

interface LoginReply {
  user: { id: string; username: string; role: Me['role'] };
}

export function LoginPage({ routerError }: { routerError?: unknown }) {
  const client = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const reply = await api<LoginReply>('/v0/auth/login', { method: 'POST', body: { username, password } });
      client.setQueryData<Me>(['me'], {
        user_id: reply.user.id,
        username: reply.user.username,
        role: reply.user.role,
      });
      const next = new URLSearchParams(location.search).get('next');
      navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/dashboard', { replace: true });
    } catch (err) {
      setError(err);
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Sign in to LLM Router" subtitle="Manage your nodes, models and keys">
      <form onSubmit={submit} className="space-y-4">
        {routerError ? <ErrorMessage error={routerError} /> : null}
        <Field label="Username">
          {(id) => (
            <TextInput
              id={id}
              name="username"
              autoComplete="username"
              required
              autoFocus
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password">
          {(id) => (
            <TextInput
              id={id}
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <ErrorMessage error={error} />
        <Button type="submit" variant="primary" className="w-full" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </Button>
        <p className="text-center text-xs text-zinc-500 dark:text-zinc-400">
          Have an invitation code?{' '}
          <Link
            href="/dashboard/register"
            className="font-medium text-indigo-600 hover:underline dark:text-indigo-400"
          >
            Create an account
          </Link>
        </p>
      </form>
    </AuthFrame>
  );
}
