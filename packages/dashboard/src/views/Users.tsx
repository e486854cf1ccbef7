/** Users: create, edit (name, role, password) and delete; the last-admin rule's error is shown. */
import { type FormEvent, useState } from 'react';
import { queryKeys, useApiMutation, useUsers } from '../api/hooks';
import type { Role, User } from '../api/types';
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
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
import { relativeTime } from '../lib/format';

function UserDialog({ user, open, onClose }: { user: User | null; open: boolean; onClose: () => void }) {
  const [username, setUsername] = useState(user?.username ?? '');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>(user?.role ?? 'viewer');
  const save = useApiMutation(
    () =>
      user
        ? {
            path: `/v0/users/${user.id}`,
            method: 'PUT',
            body: {
              ...(username !== user.username ? { username } : {}),
              ...(role !== user.role ? { role } : {}),
              ...(password ? { password } : {}),
            },
          }
        : { path: '/v0/users', method: 'POST', body: { username, password, role } },
    [queryKeys.users],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(undefined, { onSuccess: onClose });
  };
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={user ? `Edit ${user.username}` : 'Create user'}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" form="user-form" variant="primary" disabled={save.isPending}>
            {user ? 'Save' : 'Create user'}
          </Button>
        </>
      }
    >
      <form id="user-form" onSubmit={submit} className="space-y-4">
        <Field label="Username">
          {(id) => (
            <TextInput id={id} required value={username} onChange={(e) => setUsername(e.target.value)} />
          )}
        </Field>
        <Field
          label="Password"
          hint={user ? 'Leave empty to keep the current password' : 'At least 8 characters'}
        >
          {(id, hint) => (
            <TextInput
              id={id}
              aria-describedby={hint}
              type="password"
              autoComplete="new-password"
              required={!user}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <Field label="Role">
          {(id) => (
            <Select id={id} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <option value="viewer">Viewer (read-only)</option>
              <option value="admin">Admin</option>
            </Select>
          )}
        </Field>
        <ErrorMessage error={save.error} />
      </form>
    </Dialog>
  );
}

export default function Users() {
  const { data, error, isLoading } = useUsers();
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);
  const remove = useApiMutation(
    () => ({ path: `/v0/users/${deleting?.id}`, method: 'DELETE' }),
    [queryKeys.users],
  );
  return (
    <div>
      <PageHeader title="Users" description="People who can sign in to this dashboard.">
        <Button variant="primary" onClick={() => setEditing('new')}>
          Create user
        </Button>
      </PageHeader>
      <ErrorMessage error={error} title="Could not load users" />
      <Card>
        {isLoading ? (
          <Spinner />
        ) : !data?.length ? (
          <Empty>No users.</Empty>
        ) : (
          <table className="w-full">
            <thead className="bg-zinc-50 dark:bg-zinc-900/60">
              <tr>
                <th className={th}>Username</th>
                <th className={th}>Role</th>
                <th className={cx(th, 'hidden sm:table-cell')}>Last login</th>
                <th className={th}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {data.map((u) => (
                <tr key={u.id}>
                  <td className={cx(td, 'font-medium')}>{u.username}</td>
                  <td className={td}>
                    <Badge tone={u.role === 'admin' ? 'indigo' : 'gray'}>{u.role}</Badge>
                  </td>
                  <td className={cx(td, 'hidden sm:table-cell')}>{relativeTime(u.last_login)}</td>
                  <td className={cx(td, 'text-right')}>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Edit ${u.username}`}
                      onClick={() => setEditing(u)}
                    >
                      Edit
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      className="text-red-600"
                      aria-label={`Delete ${u.username}`}
                      onClick={() => {
                        remove.reset();
                        setDeleting(u);
                      }}
                    >
                      Delete
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {editing ? (
        <UserDialog
          key={editing === 'new' ? 'new' : editing.id}
          user={editing === 'new' ? null : editing}
          open
          onClose={() => setEditing(null)}
        />
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete user?"
        message={
          <>
            <strong>{deleting?.username}</strong> can no longer sign in.
          </>
        }
        confirmLabel="Delete user"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate(undefined, { onSuccess: () => setDeleting(null) })}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}
