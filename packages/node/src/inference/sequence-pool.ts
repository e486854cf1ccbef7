/**
 * Fair access to a model's context sequences: a request takes a free sequence or waits in a
 * bounded FIFO queue. A full queue is refused at once (the caller answers 503) rather than
 * letting latency grow without limit. Among free sequences the caller may rank them (the node
 * ranks by how much of the new prompt a sequence already holds in its KV cache, the way
 * llama.cpp's server picks a slot by prompt similarity).
 */
export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`The node is at capacity: all sequences are busy and ${limit} requests are already waiting`);
  }
}

export class PoolClosedError extends Error {
  constructor() {
    super('The model is being unloaded');
  }
}

export interface Lease<T> {
  readonly item: T;
  release(): void;
}

interface Waiter<T> {
  resolve(lease: Lease<T>): void;
  reject(error: unknown): void;
  cleanup(): void;
}

export class SequencePool<T> {
  /** Free items, most recently used last: reusing a warm sequence keeps its prompt cache useful. */
  private readonly free: T[];
  private readonly waiters: Waiter<T>[] = [];
  private closed = false;
  private idleListeners: (() => void)[] = [];

  constructor(
    private readonly items: readonly T[],
    private readonly queueLimit: number,
  ) {
    this.free = [...items];
  }

  get size(): number {
    return this.items.length;
  }

  get busy(): number {
    return this.items.length - this.free.length;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /**
   * Takes the free item `rank` scores highest (ties: the most recently used), or waits for the
   * next one released (FIFO). Without `rank`, the most recently used free item.
   */
  acquire(signal?: AbortSignal, rank?: (item: T) => number): Promise<Lease<T>> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const item = this.takeFree(rank);
    if (item !== undefined) return Promise.resolve(this.lease(item));
    if (this.waiters.length >= this.queueLimit) return Promise.reject(new QueueFullError(this.queueLimit));
    return new Promise<Lease<T>>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
        this.notifyIfIdle();
      };
      const waiter: Waiter<T> = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Resolves once no sequence is in use and nobody waits (used before unloading a model). */
  whenIdle(): Promise<void> {
    if (this.busy === 0 && this.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleListeners.push(resolve));
  }

  /** Refuses new requests and fails the waiting ones; leased items are returned as usual. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(new PoolClosedError());
    }
    this.notifyIfIdle();
  }

  private takeFree(rank?: (item: T) => number): T | undefined {
    if (!rank || this.free.length < 2) return this.free.pop();
    let bestIndex = this.free.length - 1;
    let bestScore = rank(this.free[bestIndex]!);
    for (let i = this.free.length - 2; i >= 0; i--) {
      const score = rank(this.free[i]!);
      if (score > bestScore) {
        bestScore = score;
        bestIndex = i;
      }
    }
    return this.free.splice(bestIndex, 1)[0];
  }

  private lease(item: T): Lease<T> {
    let released = false;
    return {
      item,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next) {
          next.cleanup();
          next.resolve(this.lease(item));
          return;
        }
        this.free.push(item);
        this.notifyIfIdle();
      },
    };
  }

  private notifyIfIdle(): void {
    if (this.busy !== 0 || this.waiters.length !== 0) return;
    for (const listener of this.idleListeners.splice(0)) listener();
  }
}
