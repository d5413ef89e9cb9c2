/**
 * A doorbell for a polling loop: `wait` resolves on the next `notify`, after the timeout, or
 * on abort. A notify while nobody waits is remembered, so a wake-up during a claim is not lost.
 */
export class WakeSignal {
  #pending = false;
  #waiters: (() => void)[] = [];

  notify(): void {
    if (this.#waiters.length === 0) {
      this.#pending = true;
      return;
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending || signal?.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
