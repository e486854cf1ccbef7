/**
 * The two shared limits of the downloader: how many files download at once (a FIFO
 * semaphore, `LLM_DL_CONCURRENCY`) and how many bytes per second all of them together may
 * read (a token bucket, `LLM_DL_MAX_BPS`). The clock is injectable so tests can check the
 * bandwidth cap by bytes against simulated time instead of asserting on wall-clock timings.
 */

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active--;
          this.waiting.shift()?.();
        });
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal?.reason);
      };
      if (this.active < this.limit) grant();
      else {
        this.waiting.push(grant);
        signal?.addEventListener('abort', onAbort, { once: true });
      }
    });
  }
}

/**
 * A token bucket shared by every download. Takes are serialised so concurrent downloads never
 * spend the same tokens; a take larger than the bucket goes into debt and waits it off, so the
 * long-run rate holds for any chunk size. Over any stretch of T ms at most
 * `burstBytes + bytesPerSec * T / 1000` bytes pass.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    /** 0 = unlimited. */
    readonly bytesPerSec: number,
    readonly burstBytes: number,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burstBytes;
    this.last = clock.now();
  }

  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSec <= 0 || bytes <= 0) return Promise.resolve();
    const run = this.tail.then(() => this.consume(bytes, signal));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async consume(bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.clock.now();
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.last) * this.bytesPerSec) / 1000);
    this.last = now;
    this.tokens -= bytes;
    if (this.tokens < 0) await this.clock.sleep((-this.tokens * 1000) / this.bytesPerSec, signal);
  }
}
