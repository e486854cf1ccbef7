/** Invitations: create a one-use `inv_` code (shown once, to copy) and revoke active ones. */
import { useState } from 'react';
import { queryKeys, useApiMutation, useInvitations } from '../api/hooks';
import type { Invitation } from '../api/types';
import {
  Button,
  Card,
  CopyButton,
  cx,
  Empty,
  ErrorMessage,
  Field,
  PageHeader,
  Select,
  Spinner,
  StatusBadge,
  td,
  th,
} from '../components/ui';
import { formatDateTime, relativeTime } from '../lib/format';

export default function Invitations() {
  const { data, error, isLoading } = useInvitations();
  const [hours, setHours] = useState(72);
  const create = useApiMutation<void, Invitation>(
    () => ({ path: '/v0/invitations', method: 'POST', body: { expires_in_hours: hours } }),
    [queryKeys.invitations],
  );
  const revoke = useApiMutation<string>(
    (id) => ({ path: `/v0/invitations/${id}`, method: 'DELETE' }),
    [queryKeys.invitations],
  );
  const signUpUrl = create.data?.code ? `${location.origin}/dashboard/register?code=${create.data.code}` : '';
  return (
    <div>
      <PageHeader title="Invitations" description="One-use codes that let someone create a viewer account." />
      <Card className="mb-4 p-4">
        <div className="flex flex-wrap items-end gap-3">
          <Field label="Valid for">
            {(id) => (
              <Select
                id={id}
                value={hours}
                onChange={(e) => setHours(Number(e.target.value))}
                className="w-40"
              >
                {[24, 72, 168, 720].map((h) => (
                  <option key={h} value={h}>
                    {h < 168 ? `${h} hours` : `${h / 24} days`}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Button variant="primary" onClick={() => create.mutate(undefined)} disabled={create.isPending}>
            Create invitation
          </Button>
        </div>
        <div className="mt-3">
          <ErrorMessage error={create.error} />
        </div>
        {create.data?.code ? (
          <div className="mt-3 space-y-2 rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm dark:border-emerald-900 dark:bg-emerald-950/30">
            <p>Share this code (shown once). It expires {relativeTime(create.data.expires_at)}.</p>
            <div className="flex flex-wrap items-center gap-2">
              <code
                data-testid="new-invitation-code"
                className="rounded bg-white px-2 py-1 font-mono text-sm dark:bg-zinc-900"
              >
                {create.data.code}
              </code>
              <CopyButton text={create.data.code} label="Copy code" />
              <CopyButton text={signUpUrl} label="Copy sign-up link" />
            </div>
          </div>
        ) : null}
      </Card>
      <ErrorMessage error={error ?? revoke.error} />
      <Card>
        {isLoading ? (
          <Spinner />
        ) : !data?.length ? (
          <Empty>No invitations yet.</Empty>
        ) : (
          <table className="w-full">
            <thead className="bg-zinc-50 dark:bg-zinc-900/60">
              <tr>
                <th className={th}>Created</th>
                <th className={th}>Status</th>
                <th className={cx(th, 'hidden sm:table-cell')}>Expires</th>
                <th className={th}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {data.map((inv) => (
                <tr key={inv.id}>
                  <td className={td}>{formatDateTime(inv.created_at)}</td>
                  <td className={td}>
                    <StatusBadge status={inv.status} />
                  </td>
                  <td className={cx(td, 'hidden sm:table-cell')}>{formatDateTime(inv.expires_at)}</td>
                  <td className={cx(td, 'text-right')}>
                    {inv.status === 'active' ? (
                      <Button
                        size="sm"
                        variant="ghost"
                        className="text-red-600"
                        onClick={() => revoke.mutate(inv.id)}
                      >
                        Revoke
                      </Button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
