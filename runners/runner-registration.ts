/**
 * A started runner's row in the runners registry (docs/runners.md, "The runners registry"):
 * written at start, every runnerHeartbeatIntervalMs while it runs (with its active count),
 * deleted at stop. The registry is for people looking on: its writes never hold the runner
 * up and their failures never stop it. A failed write is reported as the runner's 'error'
 * (once per streak of failures, not every heartbeat while the database is away) and the next
 * heartbeat writes the whole row again.
 */
import { hostname } from 'node:os';
import { newId } from '../lib/foundation/ids.js';
import type { RunnerHeartbeatInput } from '../lib/foundation/runner-types.js';
import type { TaskStore } from '../lib/task-store.js';
import type { ResolvedTaskQueueRunnerOptions } from './task-queue-runner-options.js';

/** What the runner tells about itself; read again at every heartbeat. */
export type RunnerDescription = Omit<RunnerHeartbeatInput, 'id' | 'host' | 'pid' | 'startedAt'>;

/** The longest host name kept (the column's size). */
const MAX_HOST_LENGTH = 255;

export class RunnerRegistration {
  readonly #store: TaskStore;
  readonly #describe: () => RunnerDescription;
  readonly #onError: (error: unknown) => void;
  #row: Pick<RunnerHeartbeatInput, 'id' | 'host' | 'pid' | 'startedAt'> | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** The write in flight: heartbeats never overlap, and a stop waits for it. */
  #writing: Promise<void> | null = null;
  #failing = false;

  /** A TaskQueueRunner's registration: its queue, concurrency, prefetch and poll interval; `active` counts its running handlers. */
  static ofQueueRunner(
    store: TaskStore,
    options: ResolvedTaskQueueRunnerOptions,
    active: () => number,
    onError: (error: unknown) => void,
  ): RunnerRegistration {
    const { queueName, maxConcurrency: concurrency, prefetch, pollIntervalMs } = options;
    return new RunnerRegistration(
      store,
      () => ({ kind: 'queue', queueName, concurrency, prefetch, pollIntervalMs, activeCount: active() }),
      onError,
    );
  }

  /** A ScheduleRunner's registration: its poll interval; `active` counts its passes in flight. */
  static ofScheduleRunner(
    store: TaskStore,
    options: { readonly pollIntervalMs: number },
    active: () => number,
    onError: (error: unknown) => void,
  ): RunnerRegistration {
    const { pollIntervalMs } = options;
    return new RunnerRegistration(
      store,
      () => ({ kind: 'schedule', queueName: null, concurrency: null, prefetch: null, pollIntervalMs, activeCount: active() }),
      onError,
    );
  }

  constructor(store: TaskStore, describe: () => RunnerDescription, onError: (error: unknown) => void) {
    this.#store = store;
    this.#describe = describe;
    this.#onError = onError;
  }

  /** The id of the current row (a new one at every start); null while stopped. */
  get id(): string | null {
    return this.#row?.id ?? null;
  }

  /** Writes the row at once and then every runnerHeartbeatIntervalMs, in the background. */
  start(): void {
    if (this.#row) return;
    this.#row = { id: newId(), host: hostname().slice(0, MAX_HOST_LENGTH) || 'unknown', pid: process.pid, startedAt: new Date() };
    this.#beat();
    this.#timer = setInterval(() => this.#beat(), this.#store.runnerHeartbeatIntervalMs);
    this.#timer.unref();
  }

  /** Stops the heartbeats, waits for a write in flight, and deletes the row. Never rejects. */
  async stop(): Promise<void> {
    const row = this.#row;
    if (!row) return;
    this.#row = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#writing;
    if (this.#store.isClosed()) return;
    try {
      await this.#store.runnerUnregister(row.id);
    } catch (error) {
      this.#onError(error);
    }
  }

  #beat(): void {
    const row = this.#row;
    if (!row || this.#writing || this.#store.isClosed()) return;
    this.#writing = this.#store
      .runnerHeartbeat({ ...row, ...this.#describe() })
      .then(
        () => {
          this.#failing = false;
        },
        (error: unknown) => {
          if (!this.#failing) this.#onError(error);
          this.#failing = true;
        },
      )
      .finally(() => {
        this.#writing = null;
      });
  }
}
