/** Sign-up with an invitation code (accounts created this way are viewers). */
import { type FormEvent, useState } from 'react';
import { api } from '../api/client';
import { AuthFrame } from '../components/AuthFrame';
import { Link } from '../components/Link';
import { Button, ErrorMessage, Field, TextInput } from '../components/ui';

export default function RegisterPage() {
  const [code, setCode] = useState(new URLSearchParams(location.search).get('code') ?? '');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('/v0/auth/register', {
        method: 'POST',
        body: { invitation_code: code.trim(), username, password },
      });
      setDone(username);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Create your account" subtitle="Use the invitation code an admin gave you">
      {done ? (
        <div className="space-y-4 text-sm">
          <p role="status">
            Account <strong>{done}</strong> created. You can sign in now.
          </p>
          <Link
            href="/dashboard/login"
            className="block rounded-lg bg-indigo-600 px-3.5 py-2 text-center font-medium text-white hover:bg-indigo-500"
          >
            Go to sign in
          </Link>
        </div>
      ) : (
        <form onSubmit={submit} className="space-y-4">
          <Field label="Invitation code">
            {(id) => (
              <TextInput
                id={id}
                required
                placeholder="inv_…"
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            )}
          </Field>
          <Field label="Username" hint="Letters, digits and . _ @ -">
            {(id, hint) => (
              <TextInput
                id={id}
                aria-describedby={hint}
                required
                autoComplete="username"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            )}
          </Field>
          <Field label="Password" hint="At least 8 characters">
            {(id, hint) => (
              <TextInput
                id={id}
                aria-describedby={hint}
                type="password"
                required
                minLength={8}
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          <ErrorMessage error={error} />
          <Button type="submit" variant="primary" className="w-full" disabled={busy}>
            Create account
          </Button>
          <p className="text-center text-xs text-zinc-500 dark:text-zinc-400">
            <Link
              href="/dashboard/login"
              className="font-medium text-indigo-600 hover:underline dark:text-indigo-400"
            >
              Back to sign in
            </Link>
          </p>
        </form>
      )}
    </AuthFrame>
  );
}
