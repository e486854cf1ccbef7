/**
 * Admission control: a request is sent on only when some node serving its model has room
 * (capacity.ts); otherwise it waits in the router's bounded queue (wait-queue.ts) instead of
 * piling onto a node that would make it wait blindly or refuse it. Refusals are 503 with
 * `Retry-After`, in the endpoint's own error shape.
 */
import type { FleetNode, FleetView } from '../fleet/types.js';
import { HttpError } from '../http/errors.js';
import { DEFAULT_REQUESTS_PER_SEQUENCE, InFlightCounter, nodeCapacity } from './capacity.js';
import { type Priority, QueueRefusedError, WaitQueue, type WaitTarget } from './wait-queue.js';

export interface AdmissionOptions {
  /** Requests that may wait at once (LLM_ROUTER_QUEUE_MAX). */
  queueMax: number;
  /** How long one may wait (LLM_ROUTER_QUEUE_TIMEOUT, in ms here). */
  queueTimeoutMs: number;
  requestsPerSequence?: number;
  /** How often waiters are re-checked for room that appeared without a request ending (a node joined). */
  recheckMs?: number;
}

/** A granted admission: `release` it once the request is counted on a node (`begin`), or when it never will be. */
export interface AdmissionTicket {
  /** True when the request had to wait in the queue. */
  readonly queued: boolean;
  readonly waitedMs: number;
  release(): void;
}

export interface AdmissionStats {
  queue_depth: number;
  queue_depth_by_priority: Record<Priority, number>;
  queue_max: number;
  queue_timeout_seconds: number;
  admitted_total: number;
  queued_total: number;
  rejected_full_total: number;
  rejected_timeout_total: number;
  abandoned_total: number;
  wait_seconds_sum: number;
  wait_seconds_max: number;
}

const RECENT_WAITS = 200;

export class AdmissionController {
  private readonly inFlight = new InFlightCounter();
  /** Per model, the nodes that were at capacity when a request began or ended on them (`withRoom`). */
  private readonly atCapacity = new Map<string, Set<string>>();
  /** Room granted to admitted requests not yet sent to a node, per model. */
  private readonly reserved = new Map<string, number>();
  private readonly queue: WaitQueue;
  private readonly perSequence: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly counters = {
    admitted: 0,
    queued: 0,
    rejectedFull: 0,
    rejectedTimeout: 0,
    abandoned: 0,
    waitSumMs: 0,
    waitMaxMs: 0,
  };
  private readonly recentWaitsMs: number[] = [];

  constructor(
    private readonly fleet: Pick<FleetView, 'candidatesFor'>,
    private readonly options: AdmissionOptions,
  ) {
    this.perSequence = options.requestsPerSequence ?? DEFAULT_REQUESTS_PER_SEQUENCE;
    this.queue = new WaitQueue(
      { maxSize: options.queueMax, timeoutMs: options.queueTimeoutMs },
      {
        admitted: (waited) => this.noteWait(waited),
        refused: (reason, waited) => {
          if (reason === 'full') this.counters.rejectedFull++;
          else if (reason === 'timeout') this.counters.rejectedTimeout++;
          else this.counters.abandoned++;
          if (reason !== 'full') this.noteWait(waited);
          this.stopTimerIfIdle();
        },
      },
    );
  }

  /** True when the router may send one more request for `model` to `node`. */
  hasRoom(node: FleetNode, model: string): boolean {
    return this.inFlight.count(node.id, model) < nodeCapacity(node, model, this.perSequence);
  }

  /**
   * The nodes among `nodes` that have room for one more request for `model`. Checking 1,000
   * nodes on every request cost more than choosing among them, so in the usual case, no node
   * of the model at capacity, this is `nodes` itself: nodes are marked as they fill up
   * (`begin`) and unmarked as they drain (`end`). A busy node whose capacity shrinks in a
   * heartbeat (its model reloaded with fewer sequences) is marked at its next begin or end.
   */
  withRoom(nodes: readonly FleetNode[], model: string): readonly FleetNode[] {
    const full = this.atCapacity.get(model);
    if (full === undefined) return nodes;
    return nodes.filter((node) => !full.has(node.id) || this.hasRoom(node, model));
  }

  /**
   * Resolves once some node has room for the request, after waiting in the queue if needed.
   * Rejects with a 503 `HttpError` when the queue is full or the wait times out, and with the
   * signal's reason when the client leaves. The signal may be given as a function, called only
   * when the request has to wait (making an AbortSignal costs a few µs on every request).
   */
  async admit(
    model: string,
    priority: Priority,
    signal: AbortSignal | (() => AbortSignal),
    /** Only these nodes count (failover: the ones not tried yet). */
    eligible?: (nodeId: string) => boolean,
  ): Promise<AdmissionTicket> {
    const now = this.admitNow(model, eligible);
    if (now) return now;
    const target: WaitTarget = { model, eligible };
    this.counters.queued++;
    this.ensureTimer();
    try {
      const waited = await this.queue.wait(
        target,
        priority,
        typeof signal === 'function' ? signal() : signal,
      );
      return this.ticket(model, true, waited);
    } catch (error) {
      if (error instanceof QueueRefusedError) {
        const code = error.reason === 'full' ? 'queue_full' : 'queue_timeout';
        throw new HttpError(503, error.message, code, null, {
          'retry-after': String(this.retryAfterSeconds()),
        });
      }
      throw error;
    }
  }

  /**
   * A ticket at once when some node has room and nobody waits for the model, else null (then
   * `admit` queues). The usual case, without the promise and the queue: callers try this first.
   */
  admitNow(model: string, eligible?: (nodeId: string) => boolean): AdmissionTicket | null {
    if (this.queue.hasWaiterFor(model) || !this.tryReserve({ model, eligible })) return null;
    this.counters.admitted++;
    return this.ticket(model, false, 0);
  }

  /** The request was sent to `node` (counts against its capacity until `end`). */
  begin(node: FleetNode, model: string): void {
    const count = this.inFlight.begin(node.id, model);
    if (count < nodeCapacity(node, model, this.perSequence)) return;
    let full = this.atCapacity.get(model);
    if (!full) {
      full = new Set();
      this.atCapacity.set(model, full);
    }
    full.add(node.id);
  }

  /** What `begin` started is over: room for the next waiter. */
  end(node: FleetNode, model: string): void {
    const count = this.inFlight.end(node.id, model);
    const full = this.atCapacity.get(model);
    if (full?.has(node.id) && count < nodeCapacity(node, model, this.perSequence)) {
      full.delete(node.id);
      if (full.size === 0) this.atCapacity.delete(model);
    }
    this.drain();
  }

  stats(): AdmissionStats {
    return {
      queue_depth: this.queue.size,
      queue_depth_by_priority: this.queue.depthByPriority(),
      queue_max: this.options.queueMax,
      queue_timeout_seconds: this.options.queueTimeoutMs / 1000,
      admitted_total: this.counters.admitted,
      queued_total: this.counters.queued,
      rejected_full_total: this.counters.rejectedFull,
      rejected_timeout_total: this.counters.rejectedTimeout,
      abandoned_total: this.counters.abandoned,
      wait_seconds_sum: this.counters.waitSumMs / 1000,
      wait_seconds_max: this.counters.waitMaxMs / 1000,
    };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Re-checks waiters now (the fleet changed). */
  drain(): void {
    if (this.queue.size === 0) return;
    this.queue.drain((target) => {
      if (!this.tryReserve(target)) return false;
      this.counters.admitted++;
      return true;
    });
    this.stopTimerIfIdle();
  }

  private tryReserve({ model, eligible }: WaitTarget): boolean {
    const reserved = this.reserved.get(model) ?? 0;
    let free = 0;
    let candidates = 0;
    // Stops as soon as there is room beyond what admitted requests already hold (usually at
    // the first node): this runs on every request, over fleets of 1,000 nodes.
    for (const node of this.fleet.candidatesFor(model)) {
      if (eligible !== undefined && !eligible(node.id)) continue;
      candidates++;
      const room = nodeCapacity(node, model, this.perSequence) - this.inFlight.count(node.id, model);
      if (room > 0) free += room;
      if (free > reserved) break;
    }
    // No candidate at all: let the request through so the proxy answers "no available nodes".
    if (free <= reserved && candidates > 0) return false;
    this.reserved.set(model, reserved + 1);
    return true;
  }

  private ticket(model: string, queued: boolean, waitedMs: number): AdmissionTicket {
    let released = false;
    return {
      queued,
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.reserved.get(model) ?? 1) - 1;
        if (left <= 0) this.reserved.delete(model);
        else this.reserved.set(model, left);
        this.drain();
      },
    };
  }

  private noteWait(waitedMs: number): void {
    this.counters.waitSumMs += waitedMs;
    this.counters.waitMaxMs = Math.max(this.counters.waitMaxMs, waitedMs);
    this.recentWaitsMs.push(waitedMs);
    if (this.recentWaitsMs.length > RECENT_WAITS) this.recentWaitsMs.shift();
  }

  /** A hint for clients: the recent mean wait, at least one second. */
  private retryAfterSeconds(): number {
    if (this.recentWaitsMs.length === 0) return 1;
    const mean = this.recentWaitsMs.reduce((a, b) => a + b, 0) / this.recentWaitsMs.length;
    return Math.max(1, Math.ceil(mean / 1000));
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.drain(), this.options.recheckMs ?? 250);
    this.timer.unref();
  }

  private stopTimerIfIdle(): void {
    if (this.queue.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
