/** Success/error counts per minute over the last hour, for the dashboard chart (memory only). */
export interface MinuteBucket {
  minute: string;
  success: number;
  error: number;
}

const MINUTE = 60_000;

export class MinuteCounters {
  private readonly buckets = new Map<number, { success: number; error: number }>();

  constructor(private readonly windowMinutes = 60) {}

  add(success: boolean, at = Date.now()): void {
    const key = Math.floor(at / MINUTE);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { success: 0, error: 0 };
      this.buckets.set(key, bucket);
      for (const old of this.buckets.keys()) if (old <= key - this.windowMinutes) this.buckets.delete(old);
    }
    if (success) bucket.success++;
    else bucket.error++;
  }

  /** The last `windowMinutes` minutes, oldest first, with empty minutes filled with zeros. */
  series(now = Date.now()): MinuteBucket[] {
    const current = Math.floor(now / MINUTE);
    const out: MinuteBucket[] = [];
    for (let key = current - this.windowMinutes + 1; key <= current; key++) {
      const bucket = this.buckets.get(key);
      out.push({
        minute: new Date(key * MINUTE).toISOString(),
        success: bucket?.success ?? 0,
        error: bucket?.error ?? 0,
      });
    }
    return out;
  }
}
