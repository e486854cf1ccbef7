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

  constructor(private readonly limits: ThrottleLimits = DEFAULT_THROTTLE) {}

  /** Seconds to wait before trying again, or 0 when the attempt may go ahead. */
  retryAfterSeconds(username: string, ip: string, now = Date.now()): number {
    const wait = Math.max(
      this.waitFor(`u:${username.toLowerCase()}`, this.limits.maxFailuresPerUsername, now),
      this.waitFor(`ip:${ip}`, this.limits.maxFailuresPerIp, now),
    );
    return Math.ceil(wait / 1000);
  }

  recordFailure(username: string, ip: string, now = Date.now()): void {
    for (const key of [`u:${username.toLowerCase()}`, `ip:${ip}`]) {
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

  /** A successful login clears the username's failures (not the IP's). */
  recordSuccess(username: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
  }

  private waitFor(key: string, max: number, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < max) return 0;
    return recent[recent.length - max] + this.limits.windowMs - now;
  }
}
