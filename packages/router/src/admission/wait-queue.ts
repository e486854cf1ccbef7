/**
 * The router's waiting room for requests that found every node full. Bounded in size and in
 * time; highest priority first, first come first served within a priority; a waiter whose client
 * disconnects leaves at once. The queue only orders and times waiters: whether a model has room
 * is the caller's question (`drain`).
 */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export type QueueRefusal = 'full' | 'timeout';

export class QueueRefusedError extends Error {
  constructor(
    readonly reason: QueueRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** What a waiter waits for: room for `model`, on the nodes `eligible` accepts (all when absent). */
export interface WaitTarget {
  model: string;
  eligible?: (nodeId: string) => boolean;
}

interface Waiter extends WaitTarget {
  priority: Priority;
  enqueuedAt: number;
  resolve(waitedMs: number): void;
  reject(error: unknown): void;
  cleanup(): void;
}

export interface WaitQueueOptions {
  maxSize: number;
  timeoutMs: number;
}

export interface WaitQueueEvents {
  admitted(waitedMs: number): void;
  refused(reason: QueueRefusal | 'abandoned', waitedMs: number): void;
}

export class WaitQueue {
  private readonly lanes: Record<Priority, Waiter[]> = { high: [], normal: [], low: [] };

  constructor(
    private readonly options: WaitQueueOptions,
    private readonly events: WaitQueueEvents,
  ) {}

  get size(): number {
    return this.lanes.high.length + this.lanes.normal.length + this.lanes.low.length;
  }

  depthByPriority(): Record<Priority, number> {
    return { high: this.lanes.high.length, normal: this.lanes.normal.length, low: this.lanes.low.length };
  }

  /** True when someone for `model` already waits: a newcomer must queue behind them. */
  hasWaiterFor(model: string): boolean {
    return PRIORITIES.some((p) => this.lanes[p].some((w) => w.model === model));
  }

  /** Waits until `drain` lets this request in; resolves with the time waited (ms). */
  wait(target: WaitTarget, priority: Priority, signal: AbortSignal): Promise<number> {
    const { model } = target;
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.size >= this.options.maxSize) {
      this.events.refused('full', 0);
      return Promise.reject(
        new QueueRefusedError(
          'full',
          `All nodes serving model '${model}' are busy and the router queue is full (${this.options.maxSize} requests waiting); retry later`,
        ),
      );
    }
    return new Promise<number>((resolve, reject) => {
      const lane = this.lanes[priority];
      const enqueuedAt = performance.now();
      const leave = () => {
        const at = lane.indexOf(waiter);
        if (at >= 0) lane.splice(at, 1);
        waiter.cleanup();
      };
      const onAbort = () => {
        leave();
        this.events.refused('abandoned', performance.now() - enqueuedAt);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        leave();
        const waited = performance.now() - enqueuedAt;
        this.events.refused('timeout', waited);
        reject(
          new QueueRefusedError(
            'timeout',
            `Waited ${Math.round(waited / 1000)} s in the router queue for a free slot on a node serving model '${model}'; every node stayed busy (LLM_ROUTER_QUEUE_TIMEOUT)`,
          ),
        );
      }, this.options.timeoutMs);
      timer.unref?.();
      const waiter: Waiter = {
        ...target,
        priority,
        enqueuedAt,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      lane.push(waiter);
    });
  }

  /**
   * Lets waiters in, highest priority first and oldest first, while `tryAdmit` grants them room
   * (it reserves the room it grants). A waiter without room does not block waiters for other
   * models or nodes.
   */
  drain(tryAdmit: (target: WaitTarget) => boolean): void {
    for (const priority of PRIORITIES) {
      const lane = this.lanes[priority];
      for (let i = 0; i < lane.length; ) {
        const waiter = lane[i]!;
        if (!tryAdmit(waiter)) {
          i++;
          continue;
        }
        lane.splice(i, 1);
        waiter.cleanup();
        const waited = performance.now() - waiter.enqueuedAt;
        this.events.admitted(waited);
        waiter.resolve(waited);
      }
    }
  }
}
