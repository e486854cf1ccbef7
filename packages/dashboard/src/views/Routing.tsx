/**
 * Routing: where prompts find their KV cache. Prefix-cache hit rates per model and node, prompt
 * tokens evaluated vs served from cache over time, the latest routing decisions (matched
 * prefix, cached tokens the node reported, the chosen node's load) and the admission queue,
 * all from `GET /v0/dashboard/cache-routing`. Read-only: viewers see it as admins do.
 */
import { useState } from 'react';
import { useCacheRouting } from '../api/hooks';
import type { AdmissionQueueStats, CacheHitFigures, CacheRouting } from '../api/types';
import { TimeChart } from '../components/Chart';
import {
  Badge,
  Card,
  CardHeader,
  cx,
  Empty,
  ErrorMessage,
  PageHeader,
  Progress,
  Select,
  Spinner,
  Stat,
  StatusBadge,
  td,
  th,
} from '../components/ui';
import { formatDuration, formatNumber, formatPercent, relativeTime } from '../lib/format';
import { queueMeanWaitMs, routingTotals } from '../lib/routing';

const WINDOWS = [
  { minutes: 15, label: 'Last 15 minutes' },
  { minutes: 60, label: 'Last hour' },
  { minutes: 360, label: 'Last 6 hours' },
  { minutes: 1440, label: 'Last 24 hours' },
];

/** A label and its value in the small definition grids. */
function Figure({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="mt-0.5 text-sm font-medium tabular-nums text-zinc-900 dark:text-zinc-100">{children}</dd>
    </div>
  );
}

const chars = (value: number | null) => (value === null ? '—' : `${formatNumber(Math.round(value))} chars`);

function ShareCell({ figures, label }: { figures: CacheHitFigures; label: string }) {
  return (
    <div className="w-28 sm:w-36">
      <div className="tabular-nums">{formatPercent(figures.cached_token_ratio, true)}</div>
      <Progress value={figures.cached_token_ratio ?? 0} label={label} />
      <div className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400">
        {formatNumber(figures.cached_tokens)} / {formatNumber(figures.prompt_tokens)}
      </div>
    </div>
  );
}

function HitRates({ data }: { data: CacheRouting }) {
  if (data.models.length === 0) {
    return <Empty>No node served a generation request in this window.</Empty>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full">
        <thead className="bg-zinc-50 dark:bg-zinc-900/60">
          <tr>
            <th className={th}>Node</th>
            <th className={cx(th, 'text-right')}>Requests</th>
            <th className={cx(th, 'text-right')}>Hit rate</th>
            <th className={th}>Cached tokens</th>
            <th className={cx(th, 'hidden md:table-cell')}>Expected prefix</th>
            <th className={cx(th, 'hidden lg:table-cell')}>Queued</th>
          </tr>
        </thead>
        {data.models.map((model) => (
          <tbody key={model.model} className="divide-y divide-zinc-100 dark:divide-zinc-800">
            <tr className="bg-zinc-50/60 dark:bg-zinc-800/30">
              <th scope="rowgroup" colSpan={6} className="px-3 py-2 text-left text-sm font-semibold">
                {model.model}{' '}
                <span className="font-normal text-zinc-500 dark:text-zinc-400">
                  · {formatPercent(model.totals.hit_rate, true)} hits ·{' '}
                  {formatPercent(model.totals.cached_token_ratio, true)} of prompt tokens cached
                </span>
              </th>
            </tr>
            {model.nodes.map((node) => (
              <tr key={node.node_id}>
                <td className={cx(td, 'max-w-40 truncate font-medium')}>
                  {node.node_machine_name ?? node.node_id}
                </td>
                <td className={cx(td, 'text-right tabular-nums')}>
                  {formatNumber(node.requests)}
                  {node.reported < node.requests ? (
                    <div className="text-xs text-zinc-500 dark:text-zinc-400">
                      {formatNumber(node.reported)} reported
                    </div>
                  ) : null}
                </td>
                <td className={cx(td, 'text-right tabular-nums')}>
                  {formatPercent(node.hit_rate, true)}
                  <div className="text-xs text-zinc-500 dark:text-zinc-400">
                    {formatNumber(node.hits)} hits
                  </div>
                </td>
                <td className={td}>
                  <ShareCell
                    figures={node}
                    label={`Cached prompt tokens on ${node.node_machine_name ?? node.node_id}`}
                  />
                </td>
                <td className={cx(td, 'hidden tabular-nums md:table-cell')}>
                  {chars(node.avg_prefix_match_chars)}
                </td>
                <td className={cx(td, 'hidden tabular-nums lg:table-cell')}>
                  {formatNumber(node.queued)}
                  {node.avg_queue_wait_ms !== null ? (
                    <span className="text-zinc-500 dark:text-zinc-400">
                      {' '}
                      · {formatDuration(node.avg_queue_wait_ms)} mean wait
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        ))}
      </table>
    </div>
  );
}

function Decisions({ data }: { data: CacheRouting }) {
  if (data.recent.length === 0) return <Empty>No routing decisions in this window yet.</Empty>;
  const now = Date.now();
  return (
    <div className="overflow-x-auto">
      <table className="w-full">
        <thead className="bg-zinc-50 dark:bg-zinc-900/60">
          <tr>
            <th className={th}>When</th>
            <th className={cx(th, 'hidden sm:table-cell')}>Model</th>
            <th className={th}>Node</th>
            <th className={cx(th, 'text-right')}>Matched prefix</th>
            <th className={cx(th, 'text-right')}>Cached / prompt</th>
            <th className={cx(th, 'hidden text-right sm:table-cell')}>Node load</th>
            <th className={cx(th, 'hidden text-right md:table-cell')}>Queue wait</th>
            <th className={cx(th, 'hidden text-right lg:table-cell')}>First token</th>
            <th className={cx(th, 'hidden lg:table-cell')}>Status</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {data.recent.map((d) => (
            <tr key={d.id}>
              <td className={cx(td, 'whitespace-nowrap')} title={d.at}>
                {relativeTime(d.at, now)}
              </td>
              <td className={cx(td, 'hidden max-w-40 truncate sm:table-cell')}>{d.model}</td>
              <td className={cx(td, 'max-w-32 truncate')}>{d.node_machine_name ?? d.node_id}</td>
              <td className={cx(td, 'text-right tabular-nums')}>
                {d.prefix_match_chars === null ? '—' : formatNumber(d.prefix_match_chars)}
              </td>
              <td className={cx(td, 'whitespace-nowrap text-right tabular-nums')}>
                {d.cached_tokens === null ? '—' : formatNumber(d.cached_tokens)} /{' '}
                {formatNumber(d.prompt_tokens)}
              </td>
              <td className={cx(td, 'hidden text-right tabular-nums sm:table-cell')}>
                {formatNumber(d.node_load)}
              </td>
              <td className={cx(td, 'hidden text-right tabular-nums md:table-cell')}>
                {d.queue_wait_ms === null ? '—' : formatDuration(d.queue_wait_ms)}
              </td>
              <td className={cx(td, 'hidden text-right tabular-nums lg:table-cell')}>
                {formatDuration(d.time_to_first_token_ms)}
              </td>
              <td className={cx(td, 'hidden lg:table-cell')}>
                <StatusBadge status={d.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Queue({ queue }: { queue: AdmissionQueueStats }) {
  return (
    <dl className="grid grid-cols-2 gap-4 p-4 sm:grid-cols-3">
      <Figure label="Waiting now">
        {formatNumber(queue.queue_depth)} of {formatNumber(queue.queue_max)}
      </Figure>
      <Figure label="By priority">
        {queue.queue_depth_by_priority.high} high · {queue.queue_depth_by_priority.normal} normal ·{' '}
        {queue.queue_depth_by_priority.low} low
      </Figure>
      <Figure label="Timeout">{formatDuration(queue.queue_timeout_seconds * 1000)}</Figure>
      <Figure label="Admitted">{formatNumber(queue.admitted_total)}</Figure>
      <Figure label="Had to wait">{formatNumber(queue.queued_total)}</Figure>
      <Figure label="Mean / longest wait">
        {formatDuration(queueMeanWaitMs(queue))} / {formatDuration(queue.wait_seconds_max * 1000)}
      </Figure>
      <Figure label="Rejected: queue full">{formatNumber(queue.rejected_full_total)}</Figure>
      <Figure label="Rejected: timed out">{formatNumber(queue.rejected_timeout_total)}</Figure>
      <Figure label="Left while waiting">{formatNumber(queue.abandoned_total)}</Figure>
    </dl>
  );
}

function PrefixIndex({ index }: { index: NonNullable<CacheRouting['prefix_index']> }) {
  return (
    <dl className="grid grid-cols-2 gap-4 p-4 sm:grid-cols-3">
      <div className="col-span-2 sm:col-span-3">
        <Figure label="Entries (bounded)">
          {formatNumber(index.entries)} of {formatNumber(index.maxEntries)}
        </Figure>
        <div className="mt-1.5">
          <Progress value={index.entries / Math.max(1, index.maxEntries)} label="Prefix index fill" />
        </div>
      </div>
      <Figure label="Evicted">{formatNumber(index.evictions)}</Figure>
      <Figure label="Node drops">{formatNumber(index.drops)}</Figure>
      <Figure label="Drift checks / misses">
        {formatNumber(index.checks)} / {formatNumber(index.misses)}
      </Figure>
    </dl>
  );
}

export default function Routing() {
  const [minutes, setMinutes] = useState(60);
  const { data, error, isLoading } = useCacheRouting(minutes);
  if (isLoading) return <Spinner />;
  if (!data) return <ErrorMessage error={error} title="Could not load routing" />;
  const totals = routingTotals(data);
  const rejected = data.queue.rejected_full_total + data.queue.rejected_timeout_total;
  const x = data.tokens.buckets.map((b) => Math.floor(Date.parse(b.at) / 1000));
  return (
    <div className="space-y-5">
      <PageHeader
        title="Routing"
        description="Prefix-cache hits per model and node, the latest routing decisions and the admission queue, live."
      >
        <Badge tone={data.policy === 'cache_aware' ? 'green' : 'gray'}>policy: {data.policy}</Badge>
        <div className="w-44">
          <Select
            aria-label="Time window"
            value={minutes}
            onChange={(e) => setMinutes(Number(e.target.value))}
          >
            {WINDOWS.map((w) => (
              <option key={w.minutes} value={w.minutes}>
                {w.label}
              </option>
            ))}
          </Select>
        </div>
      </PageHeader>
      {error ? <ErrorMessage error={error} title="Refresh failed" /> : null}
      {data.policy !== 'cache_aware' ? (
        <p className="rounded-lg border border-zinc-200 bg-zinc-50 px-3 py-2 text-sm text-zinc-600 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300">
          The router routes with <code>{data.policy}</code>: hit rates show what nodes reuse on their own.
          Matched prefixes and the prefix index come with{' '}
          <code>LLM_ROUTER_LOAD_BALANCER_MODE=cache_aware</code>.
        </p>
      ) : null}
      <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat
          label="Cache hit rate"
          value={formatPercent(totals.hit_rate, true)}
          detail={`${formatNumber(totals.hits)} of ${formatNumber(totals.reported)} requests reused a prefix`}
        />
        <Stat
          label="Prompt tokens from cache"
          value={formatPercent(totals.cached_token_ratio, true)}
          detail={`${formatNumber(totals.cached_tokens)} of ${formatNumber(totals.prompt_tokens)}`}
        />
        <Stat
          label="Waiting in queue"
          value={formatNumber(data.queue.queue_depth)}
          detail={`of ${formatNumber(data.queue.queue_max)} · ${formatNumber(data.queue.queued_total)} waited so far`}
        />
        <Stat
          label="Rejected"
          value={formatNumber(rejected)}
          detail={`${formatNumber(data.queue.rejected_full_total)} queue full · ${formatNumber(data.queue.rejected_timeout_total)} timed out`}
        />
      </div>

      <Card aria-labelledby="routing-tokens">
        <CardHeader id="routing-tokens" title="Prompt tokens: evaluated vs from cache" />
        <div className="p-3">
          <TimeChart
            label="Prompt tokens the nodes evaluated and the ones they served from their KV cache, over the window"
            x={x}
            height={200}
            series={[
              {
                label: 'Evaluated',
                color: '#f59e0b',
                values: data.tokens.buckets.map((b) => b.evaluated_tokens),
              },
              {
                label: 'From cache',
                color: '#10b981',
                values: data.tokens.buckets.map((b) => b.cached_tokens),
              },
            ]}
          />
        </div>
      </Card>

      <Card aria-labelledby="routing-hits">
        <CardHeader id="routing-hits" title="Hit rate per model and node" />
        <HitRates data={data} />
      </Card>

      <div className="grid gap-5 lg:grid-cols-2">
        <Card aria-labelledby="routing-queue">
          <CardHeader id="routing-queue" title="Admission queue" />
          <Queue queue={data.queue} />
        </Card>
        <Card aria-labelledby="routing-index">
          <CardHeader id="routing-index" title="Prefix index" />
          {data.prefix_index ? (
            <PrefixIndex index={data.prefix_index} />
          ) : (
            <Empty>Only the cache_aware policy keeps a prefix index.</Empty>
          )}
        </Card>
      </div>

      <Card aria-labelledby="routing-decisions">
        <CardHeader id="routing-decisions" title="Latest routing decisions" />
        <Decisions data={data} />
      </Card>
    </div>
  );
}
