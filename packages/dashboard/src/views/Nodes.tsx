/** Nodes: the fleet table (filter, search, sort, page, export) and each node's detail panel. */
import { useState } from 'react';
import { useNodes } from '../api/hooks';
import type { DashboardNode, Role } from '../api/types';
import { Pager } from '../components/Pager';
import {
  Button,
  Card,
  cx,
  Empty,
  ErrorMessage,
  Meter,
  PageHeader,
  Spinner,
  StatusBadge,
  TextInput,
  td,
  th,
} from '../components/ui';
import { downloadText, stamp, toCsv } from '../lib/export';
import { formatPercent, formatUptime, relativeTime } from '../lib/format';
import { navigate } from '../lib/route';
import { matchesSearch, pageOf, type SortDir, sortRows } from '../lib/table';
import { NodeDetail } from './NodeDetail';

const STATUSES = ['all', 'online', 'pending', 'registering', 'offline'] as const;

const COLUMNS: Array<{
  key: string;
  label: string;
  value: (n: DashboardNode) => unknown;
  className?: string;
}> = [
  { key: 'name', label: 'Name', value: (n) => n.custom_name || n.machine_name },
  { key: 'status', label: 'Status', value: (n) => n.status },
  { key: 'address', label: 'Address', value: (n) => n.base_url, className: 'hidden md:table-cell' },
  { key: 'cpu', label: 'CPU', value: (n) => n.metrics.cpu_usage },
  { key: 'memory', label: 'Memory', value: (n) => n.metrics.memory_usage, className: 'hidden sm:table-cell' },
  {
    key: 'requests',
    label: 'Requests',
    value: (n) => n.router_stats.total_requests,
    className: 'hidden lg:table-cell',
  },
  { key: 'uptime', label: 'Uptime', value: (n) => n.uptime_seconds, className: 'hidden lg:table-cell' },
];

export const NODE_EXPORT_COLUMNS = [
  'id',
  'machine_name',
  'custom_name',
  'status',
  'base_url',
  'ip_address',
  'tags',
  'cpu_usage',
  'memory_usage',
  'gpu_usage',
  'total_requests',
  'last_seen',
];

export function nodeExportRow(n: DashboardNode): Record<string, unknown> {
  return {
    id: n.id,
    machine_name: n.machine_name,
    custom_name: n.custom_name,
    status: n.status,
    base_url: n.base_url,
    ip_address: n.ip_address,
    tags: n.tags.join(' '),
    cpu_usage: n.metrics.cpu_usage,
    memory_usage: n.metrics.memory_usage,
    gpu_usage: n.metrics.gpu_usage,
    total_requests: n.router_stats.total_requests,
    last_seen: n.last_seen,
  };
}

export default function Nodes({ param, role }: { param?: string; role: Role }) {
  const { nodes, error, isLoading } = useNodes();
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('all');
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ key: string; dir: SortDir }>({ key: 'name', dir: 'asc' });
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(10);

  if (isLoading) return <Spinner />;
  if (!nodes) return <ErrorMessage error={error} title="Could not load nodes" />;

  const filtered = nodes.filter(
    (n) =>
      (status === 'all' || n.status === status) &&
      matchesSearch(search, [
        n.machine_name,
        n.custom_name,
        n.base_url,
        n.id,
        ...n.tags,
        ...n.models.map((m) => m.id),
      ]),
  );
  const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0];
  const sorted = sortRows(filtered, column.value, sort.dir);
  const paged = pageOf(sorted, page, perPage);
  const selected = param ? nodes.find((n) => n.id === param) : undefined;

  const toggleSort = (key: string) =>
    setSort((s) => ({ key, dir: s.key === key && s.dir === 'asc' ? 'desc' : 'asc' }));

  return (
    <div>
      <PageHeader title="Nodes" description="Machines serving models for this router.">
        <Button
          onClick={() =>
            downloadText(
              `nodes-${stamp()}.csv`,
              toCsv(sorted.map(nodeExportRow), NODE_EXPORT_COLUMNS),
              'text/csv',
            )
          }
        >
          Export CSV
        </Button>
        <Button
          onClick={() =>
            downloadText(`nodes-${stamp()}.json`, JSON.stringify(sorted, null, 2), 'application/json')
          }
        >
          Export JSON
        </Button>
      </PageHeader>
      {error ? <ErrorMessage error={error} title="Refresh failed" /> : null}
      <Card>
        <div className="flex flex-wrap items-center gap-3 border-b border-zinc-200 p-3 dark:border-zinc-800">
          <fieldset className="flex flex-wrap gap-1">
            <legend className="sr-only">Status filter</legend>
            {STATUSES.map((s) => (
              <button
                key={s}
                type="button"
                aria-pressed={status === s}
                onClick={() => {
                  setStatus(s);
                  setPage(1);
                }}
                className={cx(
                  'rounded-md px-2.5 py-1 text-xs font-medium capitalize',
                  status === s
                    ? 'bg-zinc-900 text-white dark:bg-white dark:text-zinc-900'
                    : 'text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800',
                )}
              >
                {s} {s === 'all' ? nodes.length : nodes.filter((n) => n.status === s).length}
              </button>
            ))}
          </fieldset>
          <TextInput
            type="search"
            aria-label="Search"
            placeholder="Search name, address, tag, model…"
            className="sm:ml-auto sm:max-w-xs"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setPage(1);
            }}
          />
        </div>
        {filtered.length === 0 ? (
          <Empty>{nodes.length === 0 ? 'No node has registered yet.' : 'No node matches this filter.'}</Empty>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full">
              <thead className="bg-zinc-50 dark:bg-zinc-900/60">
                <tr>
                  {COLUMNS.map((c) => (
                    <th
                      key={c.key}
                      className={cx(th, c.className)}
                      aria-sort={
                        sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined
                      }
                    >
                      <button
                        type="button"
                        className="inline-flex items-center gap-1 uppercase"
                        onClick={() => toggleSort(c.key)}
                      >
                        {c.label}
                        <span aria-hidden="true">
                          {sort.key === c.key ? (sort.dir === 'asc' ? '↑' : '↓') : ''}
                        </span>
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                {paged.rows.map((n) => (
                  <tr
                    key={n.id}
                    className="cursor-pointer hover:bg-zinc-50 dark:hover:bg-zinc-800/40"
                    onClick={() => navigate(`/dashboard/nodes/${encodeURIComponent(n.id)}`)}
                  >
                    <td className={td}>
                      <button
                        type="button"
                        className="max-w-[14rem] truncate text-left font-medium text-zinc-900 hover:text-indigo-600 dark:text-white dark:hover:text-indigo-400"
                        onClick={(e) => {
                          e.stopPropagation();
                          navigate(`/dashboard/nodes/${encodeURIComponent(n.id)}`);
                        }}
                      >
                        {n.custom_name || n.machine_name}
                      </button>
                      {n.tags.length ? (
                        <div className="mt-0.5 truncate text-xs text-zinc-500">
                          {n.tags.map((t) => `#${t}`).join(' ')}
                        </div>
                      ) : null}
                    </td>
                    <td className={td}>
                      <StatusBadge status={n.status} />
                    </td>
                    <td className={cx(td, 'hidden font-mono text-xs md:table-cell')}>{n.base_url}</td>
                    <td className={cx(td, 'w-28')}>
                      <span className="text-xs tabular-nums">{formatPercent(n.metrics.cpu_usage)}</span>
                      <Meter value={n.metrics.cpu_usage} label={`CPU of ${n.machine_name}`} />
                    </td>
                    <td className={cx(td, 'hidden w-28 sm:table-cell')}>
                      <span className="text-xs tabular-nums">{formatPercent(n.metrics.memory_usage)}</span>
                      <Meter value={n.metrics.memory_usage} label={`Memory of ${n.machine_name}`} />
                    </td>
                    <td className={cx(td, 'hidden tabular-nums lg:table-cell')}>
                      {n.router_stats.total_requests}
                    </td>
                    <td
                      className={cx(td, 'hidden lg:table-cell')}
                      title={`last seen ${relativeTime(n.last_seen)}`}
                    >
                      {formatUptime(n.uptime_seconds)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager
          page={paged.page}
          pages={paged.pages}
          total={filtered.length}
          perPage={perPage}
          sizes={[10, 25, 50]}
          onPage={setPage}
          onPerPage={(s) => {
            setPerPage(s);
            setPage(1);
          }}
        />
      </Card>
      {param ? (
        <NodeDetail node={selected} nodeId={param} role={role} onClose={() => navigate('/dashboard/nodes')} />
      ) : null}
    </div>
  );
}
