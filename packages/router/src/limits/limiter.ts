/**
 * Admission against per-key / per-user limits. A request reserves one request in the rpm
 * window and its token estimate (prompt estimate + `max_tokens`) in every token window before it
 * reaches a node; when it finishes, the reservation is settled to the real usage (or refunded
 * when it failed without producing tokens). Refusals carry what the 429 needs: the limit, what
 * is left, and when the window resets.
 */
import type { CounterCharge, LimitCounters } from './counters.js';
import type { Limits, ModelLimits } from './spec.js';

/** Completion tokens reserved for a request that does not say `max_tokens`. */
export const DEFAULT_COMPLETION_RESERVE = 1024;

export type LimitKind = 'requests' | 'tokens' | 'concurrent' | 'budget';

export interface WindowState {
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** What the `x-ratelimit-*` headers report: the tightest request and token windows. */
export interface RateHeadersState {
  requests?: WindowState;
  tokens?: WindowState;
}

export class LimitExceeded extends Error {
  constructor(
    readonly kind: LimitKind,
    message: string,
    readonly retryAfterMs: number,
    readonly state: RateHeadersState,
  ) {
    super(message);
  }
}

export interface Admission {
  readonly state: RateHeadersState;
  /** Settles the token reservation to `usedTokens` (null: keep the reservation). Call once. */
  settle(usedTokens: number | null): Promise<void>;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

const minuteStart = (now: number) => now - (now % MINUTE);
const dayStart = (now: number) => now - (now % DAY);
function monthWindow(now: number): { start: number; end: number } {
  const d = new Date(now);
  return {
    start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

interface PlannedCharge extends CounterCharge {
  kind: 'requests' | 'tokens' | 'budget';
  windowEnd: number;
  /** Part of the token reservation (settled later) rather than a request count. */
  tokens: boolean;
}

function planCharges(limits: Limits, model: string, reserveTokens: number, now: number): PlannedCharge[] {
  const charges: PlannedCharge[] = [];
  const minute = minuteStart(now);
  const day = dayStart(now);
  const month = monthWindow(now);
  const add = (scope: ModelLimits, suffix: string) => {
    if (scope.rpm !== undefined)
      charges.push({
        counter: `rpm${suffix}`,
        windowStart: minute,
        windowEnd: minute + MINUTE,
        amount: 1,
        limit: scope.rpm,
        kind: 'requests',
        tokens: false,
      });
    if (scope.tpm !== undefined)
      charges.push({
        counter: `tpm${suffix}`,
        windowStart: minute,
        windowEnd: minute + MINUTE,
        amount: reserveTokens,
        limit: scope.tpm,
        kind: 'tokens',
        tokens: true,
      });
    if (scope.tokens_per_day !== undefined)
      charges.push({
        counter: `tokens_per_day${suffix}`,
        windowStart: day,
        windowEnd: day + DAY,
        amount: reserveTokens,
        limit: scope.tokens_per_day,
        kind: 'budget',
        tokens: true,
      });
    if (scope.tokens_per_month !== undefined)
      charges.push({
        counter: `tokens_per_month${suffix}`,
        windowStart: month.start,
        windowEnd: month.end,
        amount: reserveTokens,
        limit: scope.tokens_per_month,
        kind: 'budget',
        tokens: true,
      });
  };
  add(limits, '');
  const perModel = limits.models?.[model];
  if (perModel) add(perModel, `:${model}`);
  return charges;
}

/** The tightest window of each family, for the `x-ratelimit-*` headers. */
function headerState(charges: PlannedCharge[], used: number[], now: number): RateHeadersState {
  const state: RateHeadersState = {};
  charges.forEach((charge, i) => {
    const window: WindowState = {
      limit: charge.limit,
      remaining: Math.max(0, charge.limit - (used[i] ?? 0)),
      resetMs: Math.max(0, charge.windowEnd - now),
    };
    const family = charge.tokens ? 'tokens' : 'requests';
    const current = state[family];
    if (!current || window.remaining < current.remaining) state[family] = window;
  });
  return state;
}

export class Limiter {
  /** Requests in flight per subject, on this router replica. */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly counters: LimitCounters) {}

  /**
   * Admits one request of `subject` or throws LimitExceeded. `reserveTokens` is the most the
   * request may use (prompt estimate + max_tokens).
   */
  async admit(
    subject: string,
    limits: Limits,
    model: string,
    reserveTokens: number,
    now = Date.now(),
  ): Promise<Admission> {
    const running = this.inFlight.get(subject) ?? 0;
    if (limits.concurrent !== undefined && running >= limits.concurrent) {
      throw new LimitExceeded(
        'concurrent',
        `Too many requests in flight for this key: the limit is ${limits.concurrent} at once`,
        1000,
        {},
      );
    }
    // Counted before the database round trip, so concurrent admissions see each other.
    this.inFlight.set(subject, running + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(subject) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(subject);
      else this.inFlight.set(subject, left);
    };
    const charges = planCharges(limits, model, reserveTokens, now);
    let used: number[] = [];
    if (charges.length > 0) {
      let result: Awaited<ReturnType<LimitCounters['reserve']>>;
      try {
        result = await this.counters.reserve(subject, charges);
      } catch (error) {
        release();
        throw error;
      }
      if (!result.ok) {
        release();
        const full = charges[result.failed] as PlannedCharge;
        const retryAfterMs = Math.max(1000, full.windowEnd - now);
        const state = headerState([full], [result.used], now);
        throw new LimitExceeded(full.kind, refusalMessage(full, model), retryAfterMs, state);
      }
      used = result.used;
    }
    const tokenCharges = charges.filter((c) => c.tokens);
    let settled = false;
    return {
      state: headerState(charges, used, now),
      settle: async (usedTokens) => {
        if (settled) return;
        settled = true;
        release();
        if (usedTokens === null || tokenCharges.length === 0) return;
        await this.counters.adjust(
          subject,
          tokenCharges.map((c) => ({
            counter: c.counter,
            windowStart: c.windowStart,
            delta: usedTokens - c.amount,
          })),
        );
      },
    };
  }

  /** Requests of `subject` in flight on this replica (for tests and the dashboard). */
  running(subject: string): number {
    return this.inFlight.get(subject) ?? 0;
  }
}

function refusalMessage(charge: PlannedCharge, model: string): string {
  const forModel = charge.counter.includes(':') ? ` for model '${model}'` : '';
  if (charge.kind === 'requests') return `Rate limit reached${forModel}: ${charge.limit} requests per minute`;
  if (charge.kind === 'tokens')
    return `Rate limit reached${forModel}: ${charge.limit} tokens per minute (this request reserves ${charge.amount})`;
  const period = charge.counter.startsWith('tokens_per_day') ? 'day' : 'month';
  return `Token budget exhausted${forModel}: ${charge.limit} tokens per ${period} (this request reserves ${charge.amount})`;
}
