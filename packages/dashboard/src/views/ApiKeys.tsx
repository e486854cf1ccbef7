/** API keys: create (name, scopes, expiry) with the secret shown once; list, rename, revoke. */
import { type FormEvent, useState } from 'react';
import { queryKeys, useApiKeys, useApiMutation } from '../api/hooks';
import type { ApiKey } from '../api/types';
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  CopyButton,
  cx,
  Dialog,
  Empty,
  ErrorMessage,
  Field,
  PageHeader,
  Select,
  Spinner,
  TextInput,
  td,
  th,
} from '../components/ui';
import { formatDateTime, relativeTime } from '../lib/format';

const SCOPES = [
  { id: 'api:inference', label: 'Inference (/v1)' },
  { id: 'node:register', label: 'Node registration' },
  { id: 'metrics:read', label: 'Metrics scrape (/metrics)' },
  { id: 'admin:*', label: 'Admin (everything)' },
];
const EXPIRY_DAYS = [0, 3, 7, 21, 70];

export function expiryFromDays(days: number, now = Date.now()): string | null {
  return days > 0 ? new Date(now + days * 86_400_000).toISOString() : null;
}

function CreateKeyDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['api:inference']);
  const [days, setDays] = useState(0);
  const create = useApiMutation<void, ApiKey & { key: string }>(
    () => ({
      path: '/v0/api-keys',
      method: 'POST',
      body: { name, scopes, expires_at: expiryFromDays(days) },
    }),
    [queryKeys.apiKeys],
  );
  const close = () => {
    create.reset();
    setName('');
    setScopes(['api:inference']);
    setDays(0);
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(undefined);
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      title={create.data ? 'Your new API key' : 'Create API key'}
      footer={
        create.data ? (
          <Button variant="primary" onClick={close}>
            Done
          </Button>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button
              type="submit"
              form="create-key"
              variant="primary"
              disabled={create.isPending || scopes.length === 0}
            >
              Create key
            </Button>
          </>
        )
      }
    >
      {create.data ? (
        <div className="space-y-3 text-sm">
          <p>Copy this key now: it is shown only once.</p>
          <div className="flex items-center gap-2">
            <code
              data-testid="new-api-key"
              className="min-w-0 flex-1 break-all rounded-lg bg-zinc-100 px-3 py-2 font-mono text-xs dark:bg-zinc-800"
            >
              {create.data.key}
            </code>
            <CopyButton text={create.data.key} label="Copy key" />
          </div>
        </div>
      ) : (
        <form id="create-key" onSubmit={submit} className="space-y-4">
          <Field label="Name">
            {(id) => (
              <TextInput
                id={id}
                required
                value={name}
                onChange={(e) => setName(e.target.value)}
                placeholder="my-app"
              />
            )}
          </Field>
          <fieldset className="space-y-2">
            <legend className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Scopes</legend>
            {SCOPES.map((s) => (
              <label key={s.id} className="flex items-center gap-2 text-sm">
                <input
                  type="checkbox"
                  className="size-4 accent-indigo-600"
                  checked={scopes.includes(s.id)}
                  onChange={(e) =>
                    setScopes(e.target.checked ? [...scopes, s.id] : scopes.filter((x) => x !== s.id))
                  }
                />
                <code className="text-xs">{s.id}</code>
                <span className="text-zinc-500">{s.label}</span>
              </label>
            ))}
          </fieldset>
          <Field label="Expires">
            {(id) => (
              <Select id={id} value={days} onChange={(e) => setDays(Number(e.target.value))}>
                {EXPIRY_DAYS.map((d) => (
                  <option key={d} value={d}>
                    {d === 0 ? 'Never' : `In ${d} days`}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <ErrorMessage error={create.error} />
        </form>
      )}
    </Dialog>
  );
}

function KeyRow({ k }: { k: ApiKey }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(k.name);
  const [revoking, setRevoking] = useState(false);
  const rename = useApiMutation(
    () => ({ path: `/v0/api-keys/${k.id}`, method: 'PUT', body: { name } }),
    [queryKeys.apiKeys],
  );
  const revoke = useApiMutation(
    () => ({ path: `/v0/api-keys/${k.id}`, method: 'DELETE' }),
    [queryKeys.apiKeys],
  );
  return (
    <tr>
      <td className={td}>
        {editing ? (
          <form
            className="flex gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              rename.mutate(undefined, { onSuccess: () => setEditing(false) });
            }}
          >
            <TextInput
              aria-label="Key name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              className="py-1"
            />
            <Button type="submit" size="sm" variant="primary">
              Save
            </Button>
          </form>
        ) : (
          <span className="font-medium">{k.name}</span>
        )}
        <ErrorMessage error={rename.error} />
        <div className="font-mono text-xs text-zinc-500">{k.key_prefix}…</div>
      </td>
      <td className={td}>
        <div className="flex flex-wrap gap-1">
          {k.scopes.map((s) => (
            <Badge key={s} tone={s === 'admin:*' ? 'red' : 'indigo'}>
              {s}
            </Badge>
          ))}
        </div>
      </td>
      <td className={cx(td, 'hidden md:table-cell')}>{relativeTime(k.last_used_at)}</td>
      <td className={cx(td, 'hidden sm:table-cell')}>
        {k.expires_at ? formatDateTime(k.expires_at) : <Badge tone="yellow">never expires</Badge>}
      </td>
      <td className={cx(td, 'text-right')}>
        <div className="flex justify-end gap-1">
          <Button
            size="sm"
            variant="ghost"
            onClick={() => setEditing(!editing)}
            aria-label={`Rename ${k.name}`}
          >
            Rename
          </Button>
          <Button
            size="sm"
            variant="ghost"
            className="text-red-600"
            onClick={() => setRevoking(true)}
            aria-label={`Revoke ${k.name}`}
          >
            Revoke
          </Button>
        </div>
        <ConfirmDialog
          open={revoking}
          title="Revoke API key?"
          message={
            <>
              Clients using <strong>{k.name}</strong> stop working at once.
            </>
          }
          confirmLabel="Revoke key"
          busy={revoke.isPending}
          error={revoke.error}
          onConfirm={() => revoke.mutate(undefined, { onSuccess: () => setRevoking(false) })}
          onClose={() => setRevoking(false)}
        />
      </td>
    </tr>
  );
}

export default function ApiKeys() {
  const { data, error, isLoading } = useApiKeys();
  const [creating, setCreating] = useState(false);
  return (
    <div>
      <PageHeader title="API keys" description="Keys for applications, nodes and automation.">
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create API key
        </Button>
      </PageHeader>
      <ErrorMessage error={error} title="Could not load API keys" />
      <Card>
        {isLoading ? (
          <Spinner />
        ) : !data?.length ? (
          <Empty>No API keys yet.</Empty>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full">
              <thead className="bg-zinc-50 dark:bg-zinc-900/60">
                <tr>
                  <th className={th}>Name</th>
                  <th className={th}>Scopes</th>
                  <th className={cx(th, 'hidden md:table-cell')}>Last used</th>
                  <th className={cx(th, 'hidden sm:table-cell')}>Expires</th>
                  <th className={th}>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                {data.map((k) => (
                  <KeyRow key={k.id} k={k} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <CreateKeyDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}
