/**
 * What both runners share: their lifecycle. start() begins the loop (a second call is a
 * no-op; during a pending stop the runner starts again once that stop is done); stop()
 * aborts the loop, lets the runner finish or give back its work in flight, and resolves when
 * idle (a second call waits for the same stop). Also the back-off after database trouble.
 */
import { TaskStoreError } from '../lib/foundation/errors.js';
import type { TaskStore } from '../lib/task-store.js';
import { SafeEmitter, type EventMap } from './safe-emitter.js';

export abstract class RunnerLifecycle<Events extends EventMap<Events>> extends SafeEmitter<Events> {
  readonly #store: TaskStore;
  #control: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(store: TaskStore) {
    super();
    this.#store = store;
  }

  /** Prepares a run (subscriptions, timers); returns what undoes the subscriptions when stopping begins. */
  protected abstract onStart(): () => void;
  /** The loop itself, until `signal` aborts. */
  protected abstract loop(signal: AbortSignal): Promise<void>;

  /** Starts the loop; a second call is a no-op, and a call during a pending stop starts again after it. */
  start(): void {
    if (this.#stopping) {
      void this.#stopping.then(() => this.start()).catch((error: unknown) => this.emitError(error));
      return;
    }
    if (this.#loop) return;
    if (this.#store.isClosed()) throw new TaskStoreError('INVALID_STATE', `${this.constructor.name}.start: the store is closed`);
    const control = new AbortController();
    this.#control = control;
    this.#unsubscribe = this.onStart();
    this.#loop = this.loop(control.signal);
  }

  /** True from start() until stop() has resolved. */
  isRunning(): boolean {
    return this.#loop !== null;
  }

  /** The running loop's signal, if any: work started outside the loop (runOnce) stops with it. */
  protected get loopSignal(): AbortSignal {
    return this.#control?.signal ?? new AbortController().signal;
  }

  /** Aborts the loop, waits for it, then for `settle` (work in flight); one stop at a time. */
  protected stopLoop(settle: () => Promise<void>): Promise<void> {
    this.#stopping ??= this.#shutdown(settle).finally(() => {
      this.#loop = null;
      this.#control = null;
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #shutdown(settle: () => Promise<void>): Promise<void> {
    this.#control?.abort();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#loop;
    await settle();
  }
}

/** How long a loop waits after `failures` database failures in a row: 50 ms doubling, at most `maxMs`. */
export function failureBackoffMs(failures: number, maxMs: number): number {
  return Math.min(maxMs, 50 * 2 ** Math.min(failures, 7));
}
