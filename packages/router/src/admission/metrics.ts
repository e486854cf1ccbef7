/**
 * The admission queue's and prefix index's numbers as metric samples, for whichever metrics
 * registry the router exposes (`registerRoutingMetrics` puts them on the router's `/metrics`).
 */
import type { PrefixIndexStats } from '../balancer/prefix-index.js';
import type { AdmissionStats } from './controller.js';

export interface MetricSample {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  values: Array<{ value: number; labels?: Record<string, string> }>;
}

export function routingMetricSamples(
  admission: AdmissionStats,
  index: PrefixIndexStats | null,
): MetricSample[] {
  const samples: MetricSample[] = [
    {
      name: 'llm_router_queue_depth',
      type: 'gauge',
      help: 'Requests waiting in the router queue for a node with room, by priority.',
      values: Object.entries(admission.queue_depth_by_priority).map(([priority, value]) => ({
        value,
        labels: { priority },
      })),
    },
    {
      name: 'llm_router_queue_admitted_total',
      type: 'counter',
      help: 'Requests admitted to a node (at once or after waiting).',
      values: [{ value: admission.admitted_total }],
    },
    {
      name: 'llm_router_queue_waited_total',
      type: 'counter',
      help: 'Requests that found every node full and had to wait.',
      values: [{ value: admission.queued_total }],
    },
    {
      name: 'llm_router_queue_rejections_total',
      type: 'counter',
      help: 'Requests refused by admission control: queue full, wait timed out, client left while waiting.',
      values: [
        { value: admission.rejected_full_total, labels: { reason: 'full' } },
        { value: admission.rejected_timeout_total, labels: { reason: 'timeout' } },
        { value: admission.abandoned_total, labels: { reason: 'client_closed' } },
      ],
    },
    {
      name: 'llm_router_queue_wait_seconds_total',
      type: 'counter',
      help: 'Total time requests spent waiting in the router queue.',
      values: [{ value: admission.wait_seconds_sum }],
    },
  ];
  if (index) {
    samples.push(
      {
        name: 'llm_router_prefix_index_entries',
        type: 'gauge',
        help: 'Entries in the cache_aware prefix index (bounded).',
        values: [{ value: index.entries }],
      },
      {
        name: 'llm_router_prefix_index_evictions_total',
        type: 'counter',
        help: 'Prefix index entries evicted to stay within the bound.',
        values: [{ value: index.evictions }],
      },
      {
        name: 'llm_router_prefix_index_node_drops_total',
        type: 'counter',
        help: 'Times a node lost its prefix index entries (reload, back online, repeated misses).',
        values: [{ value: index.drops }],
      },
      {
        name: 'llm_router_prefix_index_checks_total',
        type: 'counter',
        help: 'Node cached_tokens reports compared with the prefix index prediction (drift correction).',
        values: [{ value: index.checks }],
      },
      {
        name: 'llm_router_prefix_index_misses_total',
        type: 'counter',
        help: 'Node cached_tokens reports below half the prefix index prediction.',
        values: [{ value: index.misses }],
      },
    );
  }
  return samples;
}

/**
 * Publishes the queue and prefix index figures on the router's Prometheus registry: one gauge or
 * counter per sample family, read afresh at every scrape.
 */
export function registerRoutingMetrics(
  metrics: { registerGauge(spec: CollectedSpec): void; registerCounter(spec: CollectedSpec): void },
  read: () => MetricSample[],
): void {
  for (const family of read()) {
    const spec: CollectedSpec = {
      name: family.name,
      help: family.help,
      labelNames: Object.keys(family.values[0]?.labels ?? {}),
      collect: () => read().find((s) => s.name === family.name)?.values ?? [],
    };
    if (family.type === 'counter') metrics.registerCounter(spec);
    else metrics.registerGauge(spec);
  }
}

interface CollectedSpec {
  name: string;
  help: string;
  labelNames?: string[];
  collect(): Array<{ value: number; labels?: Record<string, string> }>;
}
