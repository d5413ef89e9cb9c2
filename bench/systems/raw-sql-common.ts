/**
 * What the raw-SQL floors share: the in-process wake-up their latency phase uses on the
 * dialects without LISTEN/NOTIFY (SQLite, MySQL/MariaDB), as taskstore's runner is woken by
 * an enqueue in its own process.
 */

export const RAW_QUEUE = 'noop';
export const RAW_CLAIM_BATCH = 50;

/**
 * Runs `claimUntilEmpty` after each `signal()`; a signal while it runs makes it run once more,
 * so no enqueue is missed and no two claim loops overlap.
 */
export class ClaimOnSignal {
  readonly #claimUntilEmpty: () => Promise<void>;
  readonly #label: string;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(label: string, claimUntilEmpty: () => Promise<void>) {
    this.#label = label;
    this.#claimUntilEmpty = claimUntilEmpty;
  }

  signal(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop()
      .catch((error: unknown) => {
        process.stderr.write(`${this.#label} claim failed: ${String(error)}\n`);
      })
      .finally(() => {
        this.#running = undefined;
      });
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      await this.#claimUntilEmpty();
    } while (this.#again);
  }

  /** Resolves once no claim loop is running. */
  async settled(): Promise<void> {
    await this.#running;
  }
}
