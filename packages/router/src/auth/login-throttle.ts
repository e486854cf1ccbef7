/**
 * Slows down password guessing: after too many failed logins for one username, or from one
 * client IP, within a window, further attempts get 429 with Retry-After until the window
 * passes. Kept in memory: a router restart clears it, which is acceptable for a throttle.
 */
export interface ThrottleLimits {
  windowMs: number;
  maxFailuresPerUsername: number;
  maxFailuresPerIp: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = {
  windowMs: 15 * 60_000,
  maxFailuresPerUsername: 5,
  maxFailuresPerIp: 20,
};

/** Bound on tracked keys so a flood of random usernames cannot grow memory without limit. */
const MAX_TRACKED_KEYS = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  /**
   * Attempts being verified right now, per key. They count against the limit too, so a burst
   * of simultaneous guesses cannot all pass the check before the first failure is recorded.
   */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly limits: ThrottleLimits = DEFAULT_THROTTLE) {}

  /**
   * Starts an attempt: returns the seconds to wait (and starts nothing) when over the limit,
   * else 0, and the caller must later call `finish` exactly once.
   */
  begin(username: string, ip: string, now = Date.now()): number {
    const keys = this.keysOf(username, ip);
    const wait = Math.max(
      this.waitFor(keys[0], this.limits.maxFailuresPerUsername, now),
      this.waitFor(keys[1], this.limits.maxFailuresPerIp, now),
    );
    if (wait > 0) return Math.ceil(wait / 1000);
    for (const key of keys) this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    return 0;
  }

  /** Ends an attempt started by `begin`; a success clears the username's failures. */
  finish(username: string, ip: string, success: boolean, now = Date.now()): void {
    for (const key of this.keysOf(username, ip)) {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    }
    if (success) this.failures.delete(this.keysOf(username, ip)[0]);
    else this.recordFailure(username, ip, now);
  }

  private keysOf(username: string, ip: string): [string, string] {
    return [`u:${username.toLowerCase()}`, `ip:${ip}`];
  }

  private recordFailure(username: string, ip: string, now: number): void {
    for (const key of this.keysOf(username, ip)) {
      const recent = this.recent(key, now);
      recent.push(now);
      this.failures.delete(key);
      this.failures.set(key, recent);
    }
    while (this.failures.size > MAX_TRACKED_KEYS) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
  }

  private waitFor(key: string, max: number, now: number): number {
    const recent = this.recent(key, now);
    const pending = this.inFlight.get(key) ?? 0;
    if (recent.length + pending < max) return 0;
    // Over the limit only because of attempts still running: ask to retry shortly.
    if (recent.length < max) return 1000;
    return recent[recent.length - max] + this.limits.windowMs - now;
  }
}
