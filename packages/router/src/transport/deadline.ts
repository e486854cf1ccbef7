/**
 * One re-armable timer per backend call that aborts the call when it fires; `fired` tells a
 * timeout (first byte, idle mid-reply) from other aborts. The proxy arms it around every read,
 * because "first byte" has to include the first body chunk, not just the headers.
 */
export type DeadlineReason = 'first_byte' | 'idle';

export class DeadlineTimer {
  fired: DeadlineReason | null = null;
  private handle: NodeJS.Timeout | undefined;

  constructor(private readonly controller: { abort(reason?: unknown): void }) {}

  arm(ms: number, reason: DeadlineReason): void {
    this.clear();
    this.handle = setTimeout(() => {
      this.fired = reason;
      this.controller.abort(new Error(`${reason} timeout`));
    }, ms);
  }

  clear(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
  }
}
