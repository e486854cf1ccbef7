/**
 * One node in a panel: CPU/memory/GPU charts, its models and download progress, its log tail,
 * settings (name, tags, notes) and the admin actions Approve, Disconnect and Delete.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { queryKeys, useApiMutation, useNodeLogs, useNodeMetrics } from '../api/hooks';
import type { DashboardNode, Role } from '../api/types';
import { TimeChart } from '../components/Chart';
import { LogView } from '../components/LogView';
import {
  Badge,
  Button,
  ConfirmDialog,
  Dialog,
  ErrorMessage,
  Field,
  inputClass,
  Progress,
  StatusBadge,
  TextInput,
} from '../components/ui';
import { formatBytes, formatDateTime, formatPercent, formatUptime, relativeTime } from '../lib/format';

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="space-y-2">
      <h3 className="text-xs font-semibold uppercase tracking-wide text-zinc-500 dark:text-zinc-400">
        {title}
      </h3>
      {children}
    </section>
  );
}

function Metrics({ nodeId }: { nodeId: string }) {
  const { data, error } = useNodeMetrics(nodeId);
  if (error) return <ErrorMessage error={error} />;
  const samples = data?.samples ?? [];
  if (samples.length === 0) return <p className="text-sm text-zinc-500">No metrics yet.</p>;
  const x = samples.map((s) => Math.floor(s.timestamp / 1000));
  const hasGpu = samples.some((s) => s.gpu_usage !== null);
  return (
    <TimeChart
      label="CPU, memory and GPU use of this node over time"
      x={x}
      yMax={100}
      unit="%"
      height={180}
      series={[
        { label: 'CPU', color: '#6366f1', values: samples.map((s) => s.cpu_usage) },
        { label: 'Memory', color: '#0ea5e9', values: samples.map((s) => s.memory_usage) },
        ...(hasGpu
          ? [
              { label: 'GPU', color: '#10b981', values: samples.map((s) => s.gpu_usage) },
              { label: 'GPU memory', color: '#f59e0b', values: samples.map((s) => s.gpu_memory_usage) },
            ]
          : []),
      ]}
    />
  );
}

function Settings({ node }: { node: DashboardNode }) {
  const [name, setName] = useState(node.custom_name ?? '');
  const [tags, setTags] = useState(node.tags.join(', '));
  const [notes, setNotes] = useState(node.notes ?? '');
  const save = useApiMutation(
    () => ({
      path: `/v0/nodes/${encodeURIComponent(node.id)}/settings`,
      method: 'PUT',
      body: {
        custom_name: name,
        tags: tags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        notes,
      },
    }),
    [queryKeys.overview],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(undefined);
  };
  return (
    <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2">
      <Field label="Display name">
        {(id) => (
          <TextInput
            id={id}
            value={name}
            placeholder={node.machine_name}
            onChange={(e) => setName(e.target.value)}
          />
        )}
      </Field>
      <Field label="Tags" hint="Comma-separated">
        {(id, hint) => (
          <TextInput
            id={id}
            aria-describedby={hint}
            value={tags}
            placeholder="gpu, rack-2"
            onChange={(e) => setTags(e.target.value)}
          />
        )}
      </Field>
      <div className="sm:col-span-2">
        <Field label="Notes">
          {(id) => (
            <textarea
              id={id}
              rows={2}
              className={inputClass}
              value={notes}
              onChange={(e) => setNotes(e.target.value)}
            />
          )}
        </Field>
      </div>
      <div className="flex items-center gap-3 sm:col-span-2">
        <Button type="submit" variant="primary" disabled={save.isPending}>
          Save
        </Button>
        {save.isSuccess ? (
          <span role="status" className="text-sm text-emerald-600 dark:text-emerald-400">
            Saved
          </span>
        ) : null}
        <ErrorMessage error={save.error} />
      </div>
    </form>
  );
}

export function NodeDetail({
  node,
  nodeId,
  role,
  onClose,
}: {
  node: DashboardNode | undefined;
  nodeId: string;
  role: Role;
  onClose: () => void;
}) {
  const admin = role === 'admin';
  const [confirmDelete, setConfirmDelete] = useState(false);
  const logs = useNodeLogs(nodeId, true, admin && node?.status !== 'offline');
  const path = `/v0/nodes/${encodeURIComponent(nodeId)}`;
  const approve = useApiMutation(() => ({ path: `${path}/approve`, method: 'POST' }), [queryKeys.overview]);
  const disconnect = useApiMutation(
    () => ({ path: `${path}/disconnect`, method: 'POST' }),
    [queryKeys.overview],
  );
  const remove = useApiMutation(() => ({ path, method: 'DELETE' }), [queryKeys.overview]);
  useEffect(() => {
    if (remove.isSuccess) onClose();
  }, [remove.isSuccess, onClose]);

  const title = node ? node.custom_name || node.machine_name : 'Node';
  return (
    <Dialog open onClose={onClose} title={title} wide>
      {!node ? (
        <ErrorMessage error={new Error('This node is not registered (it may have been deleted).')} />
      ) : (
        <div className="space-y-6">
          <div className="flex flex-wrap items-center gap-2 text-sm">
            <StatusBadge status={node.status} />
            <span className="font-mono text-xs text-zinc-500">{node.base_url}</span>
            <span className="text-xs text-zinc-500">· up {formatUptime(node.uptime_seconds)}</span>
            <span className="text-xs text-zinc-500">· seen {relativeTime(node.last_seen)}</span>
            {node.metrics_stale ? <Badge tone="yellow">metrics stale</Badge> : null}
          </div>
          {admin ? (
            <div className="flex flex-wrap gap-2">
              {node.status === 'pending' ? (
                <Button
                  variant="primary"
                  onClick={() => approve.mutate(undefined)}
                  disabled={approve.isPending}
                >
                  Approve
                </Button>
              ) : null}
              <Button
                onClick={() => disconnect.mutate(undefined)}
                disabled={disconnect.isPending || node.status === 'offline'}
              >
                Disconnect
              </Button>
              <Button variant="danger" onClick={() => setConfirmDelete(true)}>
                Delete
              </Button>
            </div>
          ) : null}
          <ErrorMessage error={approve.error ?? disconnect.error} />

          <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
            {[
              ['CPU', formatPercent(node.metrics.cpu_usage)],
              ['Memory', formatPercent(node.metrics.memory_usage)],
              ['GPU', node.gpu_available ? formatPercent(node.metrics.gpu_usage) : 'none'],
              ['In flight', String(node.router_stats.in_flight)],
              ['Requests', String(node.router_stats.total_requests)],
              ['Failures', String(node.router_stats.failed_requests)],
              ['Registered', formatDateTime(node.registered_at)],
              ['Runtime', node.runtime_version],
            ].map(([k, v]) => (
              <div key={k} className="rounded-lg bg-zinc-50 px-3 py-2 dark:bg-zinc-800/50">
                <dt className="text-xs text-zinc-500">{k}</dt>
                <dd className="truncate font-medium tabular-nums">{v}</dd>
              </div>
            ))}
          </dl>

          <Section title="Usage">
            <Metrics nodeId={node.id} />
          </Section>

          <Section title="Models">
            {node.models.length === 0 && node.model_downloads.length === 0 ? (
              <p className="text-sm text-zinc-500">No models on this node.</p>
            ) : (
              <ul className="space-y-2">
                {node.models.map((m) => (
                  <li key={m.id} className="flex items-center justify-between gap-2 text-sm">
                    <span className="truncate font-mono text-xs">{m.id}</span>
                    <Badge tone={m.ready ? 'green' : 'blue'}>{m.ready ? 'ready' : 'loading'}</Badge>
                  </li>
                ))}
                {node.model_downloads
                  .filter((d) => d.state !== 'done')
                  .map((d) => (
                    <li key={`dl-${d.model}`} className="space-y-1 text-sm">
                      <div className="flex justify-between gap-2 text-xs">
                        <span className="truncate font-mono">{d.model}</span>
                        <span className="text-zinc-500">
                          {d.state} · {formatBytes(d.bytes_downloaded)} / {formatBytes(d.bytes_total)}
                        </span>
                      </div>
                      <Progress
                        label={`Download of ${d.model}`}
                        value={d.bytes_total ? d.bytes_downloaded / d.bytes_total : 0}
                      />
                      {d.error ? <p className="text-xs text-red-600">{d.error}</p> : null}
                    </li>
                  ))}
              </ul>
            )}
          </Section>

          {admin ? (
            <Section title="Logs">
              {node.status === 'offline' ? (
                <p className="text-sm text-zinc-500">The node is offline; its logs cannot be read.</p>
              ) : logs.error ? (
                <ErrorMessage error={logs.error} />
              ) : (
                <LogView label={`Logs of ${title}`} entries={logs.data?.entries ?? []} follow />
              )}
            </Section>
          ) : null}

          {admin ? (
            <Section title="Settings">
              <Settings key={node.id} node={node} />
            </Section>
          ) : node.tags.length || node.notes ? (
            <Section title="Settings">
              <p className="text-sm">{node.tags.map((t) => `#${t}`).join(' ')}</p>
              {node.notes ? <p className="text-sm text-zinc-600 dark:text-zinc-400">{node.notes}</p> : null}
            </Section>
          ) : null}
        </div>
      )}
      <ConfirmDialog
        open={confirmDelete}
        title="Delete node?"
        message={
          <>
            <strong>{title}</strong> is removed from the fleet. If it is still running it registers again on
            its next start.
          </>
        }
        confirmLabel="Delete node"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate(undefined)}
        onClose={() => setConfirmDelete(false)}
      />
    </Dialog>
  );
}
