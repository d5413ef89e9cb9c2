/** A counting semaphore: slots are taken before claiming and given back when a handler settles. */
export class Semaphore {
  readonly size: number;
  #available: number;
  #waiters: (() => void)[] = [];

  constructor(size: number) {
    this.size = size;
    this.#available = size;
  }

  get available(): number {
    return this.#available;
  }

  /** Takes up to `wanted` free slots at once; returns how many were taken. */
  take(wanted: number): number {
    const taken = Math.max(0, Math.min(wanted, this.#available));
    this.#available -= taken;
    return taken;
  }

  release(count = 1): void {
    this.#available = Math.min(this.size, this.#available + count);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once at least one slot is free (at once if one is), or when `signal` aborts. */
  whenAvailable(signal?: AbortSignal): Promise<void> {
    if (this.#available > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
