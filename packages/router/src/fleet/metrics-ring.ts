/** A bounded per-node history of heartbeat metrics for the dashboard's charts (memory only). */
export interface MetricsSample {
  timestamp: number;
  cpu_usage: number | null;
  memory_usage: number | null;
  gpu_usage: number | null;
  gpu_memory_usage: number | null;
  active_requests: number;
}

export class MetricsRing {
  private readonly samples: MetricsSample[] = [];
  private next = 0;

  constructor(private readonly capacity = 360) {}

  push(sample: MetricsSample): void {
    if (this.samples.length < this.capacity) this.samples.push(sample);
    else this.samples[this.next] = sample;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): MetricsSample[] {
    if (this.samples.length < this.capacity) return [...this.samples];
    return [...this.samples.slice(this.next), ...this.samples.slice(0, this.next)];
  }
}
