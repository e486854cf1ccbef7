/** Overview: fleet and traffic at a glance, the last hour's requests per minute, cloud keys. */
import { useOverview } from '../api/hooks';
import type { Stats } from '../api/types';
import { TimeChart } from '../components/Chart';
import { Link } from '../components/Link';
import {
  Badge,
  Card,
  CardHeader,
  ErrorMessage,
  Meter,
  PageHeader,
  Spinner,
  Stat,
  StatusBadge,
} from '../components/ui';
import { formatDuration, formatNumber, formatPercent, formatRate, successRate } from '../lib/format';

function NodeCounts({ stats }: { stats: Stats }) {
  return (
    <span className="flex flex-wrap gap-x-2.5 gap-y-1">
      <span>
        <span className="font-medium text-emerald-600 dark:text-emerald-400">{stats.online_nodes}</span>{' '}
        online
      </span>
      <span>
        <span className="font-medium text-amber-600 dark:text-amber-400">{stats.pending_nodes}</span> pending
      </span>
      <span>
        <span className="font-medium text-sky-600 dark:text-sky-400">{stats.registering_nodes}</span>{' '}
        registering
      </span>
      <span>
        <span className="font-medium">{stats.offline_nodes}</span> offline
      </span>
    </span>
  );
}

export default function Overview() {
  const { data, error, isLoading } = useOverview();
  if (isLoading) return <Spinner />;
  if (!data) return <ErrorMessage error={error} title="Could not load the overview" />;
  const { stats } = data;
  const x = data.history.map((p) => Math.floor(Date.parse(p.minute) / 1000));
  return (
    <div className="space-y-5">
      <PageHeader title="Overview" description="Your fleet and its traffic, live." />
      {error ? <ErrorMessage error={error} title="Refresh failed" /> : null}
      <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat label="Nodes" value={formatNumber(stats.total_nodes)} detail={<NodeCounts stats={stats} />} />
        <Stat
          label="Total requests"
          value={formatNumber(stats.total_requests)}
          detail={`${formatNumber(stats.total_active_requests)} in flight`}
        />
        <Stat
          label="Success rate"
          value={successRate(stats.successful_requests, stats.total_requests)}
          detail={`${formatNumber(stats.failed_requests)} failed`}
        />
        <Stat
          label="Average latency"
          value={formatDuration(stats.average_response_time_ms)}
          detail="per request"
        />
        <Stat
          label="Tokens per second"
          value={formatRate(stats.tokens_per_second, 'tok/s')}
          detail="last hour"
        />
        <Stat
          label="Average GPU use"
          value={formatPercent(stats.average_gpu_usage)}
          detail={<Meter value={stats.average_gpu_usage} label="Average GPU use" />}
        />
        <Stat
          label="Average GPU memory"
          value={formatPercent(stats.average_gpu_memory_usage)}
          detail={<Meter value={stats.average_gpu_memory_usage} label="Average GPU memory" />}
        />
        <Card className="p-4">
          <div className="text-xs font-medium text-zinc-500 dark:text-zinc-400">Cloud keys</div>
          <ul className="mt-2 flex flex-wrap gap-1.5">
            {(['openai', 'anthropic', 'google'] as const).map((p) => (
              <li key={p}>
                <Badge tone={stats[`${p}_key_present`] ? 'green' : 'gray'}>
                  {p} {stats[`${p}_key_present`] ? '✓' : '—'}
                </Badge>
              </li>
            ))}
          </ul>
        </Card>
      </div>

      <Card>
        <CardHeader title="Requests per minute (last hour)" />
        <div className="p-3">
          <TimeChart
            label="Requests per minute over the last hour, successes and errors"
            x={x}
            height={220}
            series={[
              { label: 'Success', color: '#10b981', values: data.history.map((p) => p.success), bars: true },
              { label: 'Error', color: '#ef4444', values: data.history.map((p) => p.error), bars: true },
            ]}
          />
        </div>
      </Card>

      <Card>
        <CardHeader title="Nodes">
          <Link
            href="/dashboard/nodes"
            className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400"
          >
            All nodes →
          </Link>
        </CardHeader>
        {data.nodes.length === 0 ? (
          <p className="px-4 py-8 text-center text-sm text-zinc-500">
            No node has registered yet. Start one with <code>LLM_ROUTER_URL=… llm-node</code>.
          </p>
        ) : (
          <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {data.nodes.slice(0, 8).map((n) => (
              <li key={n.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
                <Link
                  href={`/dashboard/nodes/${encodeURIComponent(n.id)}`}
                  className="min-w-0 flex-1 truncate font-medium hover:text-indigo-600 dark:hover:text-indigo-400"
                >
                  {n.custom_name || n.machine_name}
                </Link>
                <StatusBadge status={n.status} />
                <span className="w-28 text-xs text-zinc-500">
                  CPU {formatPercent(n.metrics.cpu_usage)}
                  <Meter value={n.metrics.cpu_usage} label={`CPU of ${n.machine_name}`} />
                </span>
                <span className="hidden w-40 truncate text-xs text-zinc-500 sm:inline">
                  {n.models.map((m) => m.id).join(', ') || 'no models'}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
