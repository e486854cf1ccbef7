/**
 * Counters and histograms for the metrics updated on every request, kept without
 * prom-client's per-update cost: prom-client checks and hashes the label object on every call,
 * about 6 µs of main-thread time per request across the router's five updates, its largest
 * single cost in a CPU profile under load. Here a series is named by its label values in
 * order and found with one map lookup. prom-client's registry reads these metrics at scrape
 * time through the interface its own implement (`get`, `getForPromString`, `reset`), so the
 * exposition is the same as before, label order included.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;
interface Sample {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  metricName?: string;
}
interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: Sample[];
  aggregator: 'sum';
}

abstract class RequestSeries<Entry extends { labels: Labels }> {
  protected readonly series = new Map<string, Entry>();
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series for these label values (in `labelNames` order), made on first use. */
  protected entry(values: readonly string[], make: (labels: Labels) => Entry): Entry {
    const key = values.length === 1 ? (values[0] as string) : values.join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] as string;
      });
      entry = make(labels);
      this.series.set(key, entry);
    }
    return entry;
  }

  protected abstract samples(splay: boolean): Sample[];

  /** For the text exposition: a histogram's series labels as `sharedLabels`, as prom-client's. */
  async getForPromString(): Promise<MetricData> {
    return this.data(false);
  }

  /** For `getMetricsAsJSON`: every label on each sample. */
  async get(): Promise<MetricData> {
    return this.data(true);
  }

  private data(splay: boolean): MetricData {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.samples(splay),
      aggregator: 'sum',
    };
  }

  reset(): void {
    this.series.clear();
  }
}

export class RequestCounter extends RequestSeries<{ labels: Labels; value: number }> {
  readonly type = 'counter';

  inc(labelValues: readonly string[], by = 1): void {
    if (!Number.isFinite(by)) return; // prom-client threw here; one bad figure must not poison the total
    this.entry(labelValues, (labels) => ({ labels, value: 0 })).value += by;
  }

  protected samples(): Sample[] {
    return [...this.series.values()].map(({ labels, value }) => ({ labels: { ...labels }, value }));
  }
}

interface HistogramEntry {
  labels: Labels;
  /** Observations per bucket (not cumulative); the last one is past every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class RequestHistogram extends RequestSeries<HistogramEntry> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  observe(labelValues: readonly string[], value: number): void {
    if (!Number.isFinite(value)) return; // as in `inc`
    const entry = this.entry(labelValues, (labels) => ({
      labels,
      counts: new Float64Array(this.bounds.length + 1),
      sum: 0,
      count: 0,
    }));
    let bucket = 0;
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket++;
    (entry.counts[bucket] as number)++;
    entry.sum += value;
    entry.count++;
  }

  /** As prom-client's histogram: `le` first, then the series' labels (`sharedLabels`, or splayed in). */
  protected samples(splay: boolean): Sample[] {
    const out: Sample[] = [];
    const sample = (
      metricName: string,
      value: number,
      own: Record<string, string | number>,
      labels: Labels,
    ) =>
      out.push(
        splay
          ? { metricName, value, labels: { ...own, ...labels } }
          : { metricName, value, labels: own, sharedLabels: labels },
      );
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += counts[i] as number;
        sample(`${this.name}_bucket`, cumulative, { le }, labels);
      });
      sample(`${this.name}_bucket`, count, { le: '+Inf' }, labels);
      sample(`${this.name}_sum`, sum, {}, labels);
      sample(`${this.name}_count`, count, {}, labels);
    }
    return out;
  }
}
