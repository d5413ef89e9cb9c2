/**
 * TaskQueueRunner: works one named queue. A continuous pool: it takes a free slot's worth
 * of due items in one claim, starts each at once, and refills a slot the moment its
 * handler settles. Heartbeats keep its items' claims alive while their handlers run; a sweep
 * on its own timer (never in the way of a claim) gives stuck items back; enqueues through
 * the same store wake it at once.
 */
import { MAX_SETTLED } from '../lib/queue/queue-claims.js';
import { MAX_CLAIM_BATCH } from '../lib/queue/queue-leases.js';
import type { TaskStore } from '../lib/task-store.js';
import type { Logger, TaskQueueItem } from '../lib/foundation/types.js';
import { assertTimerDuration } from '../lib/foundation/validate.js';
import { resolveRunnerOptions, type ResolvedTaskQueueRunnerOptions, type TaskQueueRunnerOptions } from './task-queue-runner-options.js';
import { QueueGate } from './queue-gate.js';
import { RunnerLifecycle, failureBackoffMs } from './runner-lifecycle.js';
import { RunnerRegistration } from './runner-registration.js';
import { Semaphore } from './semaphore.js';
import { WakeSignal } from './wake-signal.js';

export { resolveRunnerOptions, type ResolvedTaskQueueRunnerOptions, type TaskQueueRunnerOptions };

/** Timers may fire a little early: wake this long after a due time. */
const WAKE_MARGIN_MS = 2;
/** Shortest idle sleep: an item due but locked by another claimer must not spin the loop. */
const MIN_IDLE_WAIT_MS = 10;

export interface TaskQueueRunnerEvents {
  'task:start': [item: TaskQueueItem];
  'task:success': [item: TaskQueueItem];
  'task:failure': [item: TaskQueueItem, error: Error];
  'task:retry': [item: TaskQueueItem, error: Error, availableAt: Date];
  error: [error: Error];
}

export interface StopOptions {
  /**
   * Abort the handlers' ctx.signal after this many milliseconds (0 = at once).
   * @defaultValue none: stop waits for the handlers as long as they take
   */
  graceMs?: number;
}

export class TaskQueueRunner extends RunnerLifecycle<TaskQueueRunnerEvents> {
  readonly options: ResolvedTaskQueueRunnerOptions;
  readonly #store: TaskStore;
  readonly #slots: Semaphore;
  readonly #wake = new WakeSignal();
  /** Claimed and started, until the final write is done. */
  readonly #inFlight = new Set<TaskQueueItem>();
  /** Claimed ahead (prefetch), not started yet. */
  readonly #buffer: TaskQueueItem[] = [];
  readonly #executions = new Set<Promise<void>>();
  readonly #trackers = new Set<Set<Promise<void>>>();
  #handlerAbort = new AbortController();
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #sweepTimer: NodeJS.Timeout | null = null;
  #sweeping: Promise<void> | null = null;
  /** When each in-flight item's handler settled: its claim is kept alive only for a while after. */
  readonly #handlerDoneAt = new Map<TaskQueueItem, number>();
  /** Capacity promised to claims in flight. */
  #reserved = 0;
  /** Rung when capacity may have changed: a slot freed, a claim returned. */
  readonly #changed = new WakeSignal();
  /** True while claiming waits for finishing writes to land (see #drain). */
  #waitingForWrites = false;
  readonly #parallelClaims: number;
  readonly #claimChunk: number;
  /** The queue's settings: which claim, and how long to sleep when a limit holds work back. */
  readonly #gate: QueueGate;
  /** This runner's row in the runners registry while it runs. */
  readonly #registration: RunnerRegistration;

  constructor(store: TaskStore, options: TaskQueueRunnerOptions = {}) {
    super(store);
    this.#store = store;
    this.options = resolveRunnerOptions(options, store.logger);
    this.#slots = new Semaphore(this.options.maxConcurrency);
    // One claim at a time where writers queue up anyway (SQLite) or the capacity is small;
    // from 40 items on, two claims of half the capacity each, so one is in flight while the
    // other's items start. More than two contend for the head of the claim index, and
    // smaller claims cost more per item (both measured in bench/).
    const capacity = this.options.maxConcurrency + this.options.prefetch;
    this.#parallelClaims = store.capabilities.concurrentWriters && capacity >= 40 ? 2 : 1;
    this.#claimChunk = Math.min(MAX_CLAIM_BATCH, Math.max(1, Math.ceil(capacity / this.#parallelClaims)));
    this.#gate = new QueueGate(store, this.options, {
      wake: () => this.#wake.notify(),
      releasePrefetch: () => void this.#store.taskQueueRelease(this.#buffer.splice(0)).catch((error: unknown) => this.emitError(error)),
      onError: (error) => this.emitError(error),
    });
    this.#registration = RunnerRegistration.ofQueueRunner(
      store,
      this.options,
      () => this.activeCount,
      (error) => this.emitError(error),
    );
  }

  get queueName(): string {
    return this.options.queueName;
  }

  protected get emitterLogger(): Logger {
    return this.options.logger;
  }

  protected get emitterName(): string {
    return `runner for queue '${this.queueName}'`;
  }

  protected onStart(): () => void {
    this.#handlerAbort = new AbortController();
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), this.options.heartbeatIntervalMs);
    this.#heartbeatTimer.unref();
    this.#sweepInBackground();
    this.#sweepTimer = setInterval(() => this.#sweepInBackground(), this.options.pollIntervalMs);
    this.#sweepTimer.unref();
    this.#registration.start();
    const unsubscribe = [
      this.#gate.start(),
      // A prefetched item whose claim is gone (canceled, reclaimed) is never started.
      this.#store.onClaimLost(({ id, claimToken }) => {
        const index = this.#buffer.findIndex((item) => item.id === id && item.claimToken === claimToken);
        if (index >= 0) this.#buffer.splice(index, 1);
      }),
    ];
    return () => unsubscribe.forEach((stop) => stop());
  }

  /** How many handlers run right now. */
  get activeCount(): number {
    return this.options.maxConcurrency - this.#slots.available;
  }

  /** Claims and runs everything due now; resolves when those handlers have finished. */
  async runOnce(): Promise<void> {
    const tracker = new Set<Promise<void>>();
    this.#trackers.add(tracker);
    // A runner that was never started has no heartbeat of its own: keep these claims alive.
    const heartbeat = this.#heartbeatTimer ? null : setInterval(() => void this.#heartbeat(), this.options.heartbeatIntervalMs).unref();
    try {
      await this.#store.taskQueueUnstuck(this.options.queueName, this.options.unstuckMinutes);
      await this.#drain(this.loopSignal);
      while (tracker.size > 0 || this.#buffer.length > 0) {
        if (tracker.size > 0) await Promise.race(tracker);
        else await this.#slots.whenAvailable();
        this.#startBuffered();
      }
    } finally {
      if (heartbeat) clearInterval(heartbeat);
      this.#trackers.delete(tracker);
    }
  }

  /**
   * Stops claiming at once, gives back prefetched items, waits for the handlers in flight
   * (aborting their ctx.signal after `graceMs` when given) and resolves when idle.
   * Restartable; a second call waits for the same stop.
   */
  stop(options: StopOptions = {}): Promise<void> {
    try {
      if (options.graceMs !== undefined) assertTimerDuration(options.graceMs, 'graceMs', 1, { allowZero: true });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.stopLoop(() => this.#settle(options.graceMs));
  }

  /** After the loop: prefetched items go back, handlers in flight finish (or are aborted after graceMs). */
  async #settle(graceMs: number | undefined): Promise<void> {
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
    await this.#sweeping;
    if (this.#buffer.length > 0) {
      await this.#store.taskQueueRelease(this.#buffer.splice(0)).catch((error: unknown) => this.emitError(error));
    }
    const timer = graceMs === undefined ? null : setTimeout(() => this.#handlerAbort.abort(new Error('runner stopped')), graceMs);
    while (this.#executions.size > 0) await Promise.allSettled([...this.#executions]);
    if (timer) clearTimeout(timer);
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    await this.#registration.stop();
  }

  protected async loop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.#drain(signal);
        failures = 0;
        await this.#wake.wait(await this.#idleWaitMs(), signal);
      } catch (error) {
        // Database trouble: report, back off (up to the poll interval), keep going.
        failures += 1;
        this.emitError(error);
        await this.#wake.wait(failureBackoffMs(failures, this.options.pollIntervalMs), signal);
      }
    }
  }

  /**
   * Claims into free capacity (free slots, plus prefetch) until a claim comes back short:
   * then nothing more is due. Where the database takes concurrent writers, several claims
   * may be in flight at once, each for a share of the capacity.
   */
  async #drain(signal: AbortSignal): Promise<void> {
    const claims = new Set<Promise<void>>();
    let exhausted = false;
    let failure: unknown;
    while (!signal.aborted && !exhausted && failure === undefined) {
      this.#startBuffered();
      // A settled item (handler returned, finishing write on its way) holds no slot of the
      // queue's concurrency limit: the claim is told to leave it out of the running count.
      const capacity = Math.min(
        this.#slots.available + this.options.prefetch - this.#buffer.length - this.#reserved,
        this.#gate.room(this.#inFlight.size - this.#handlerDoneAt.size + this.#buffer.length + this.#reserved),
      );
      // A full chunk at a time; a smaller claim only when nothing else will feed a free slot
      // (no claim in flight, nothing prefetched): fewer, larger statements.
      const idle = claims.size === 0 && this.#buffer.length === 0;
      // Backpressure: a slot frees when its handler settles, before the finishing write lands.
      // When the database falls behind with those writes, stop claiming until no more than a
      // full capacity of results is waiting, instead of piling up claimed rows. Up to one
      // capacity may wait: the next claim then overlaps the last batch's finishing write
      // (without prefetch, a claim used to wait for it: one round trip more per batch).
      const unwritten = this.#inFlight.size - this.activeCount;
      this.#waitingForWrites = unwritten > this.options.maxConcurrency + this.options.prefetch;
      const launch =
        capacity > 0 && !this.#waitingForWrites && claims.size < this.#parallelClaims && (capacity >= this.#claimChunk || idle);
      if (!launch) {
        await this.#changed.wait(this.options.pollIntervalMs, signal);
        continue;
      }
      const wanted = Math.min(capacity, this.#claimChunk);
      this.#reserved += wanted;
      const claim = this.#gate
        .claim(wanted, () => this.#settled())
        .then(
          (items) => {
            for (const item of items) {
              if (this.#slots.take(1) === 1) this.#start(item);
              else this.#buffer.push(item);
            }
            if (items.length < wanted) exhausted = true;
          },
          (error: unknown) => {
            failure = error;
          },
        )
        .finally(() => {
          this.#reserved -= wanted;
          claims.delete(claim);
          this.#changed.notify();
        });
      claims.add(claim);
    }
    await Promise.allSettled([...claims]);
    if (failure !== undefined) throw failure;
  }

  /** This runner's items whose handlers returned and whose finishing writes have not landed (at most MAX_SETTLED). */
  #settled(): TaskQueueItem[] {
    return [...this.#handlerDoneAt.keys()].slice(0, MAX_SETTLED);
  }

  #startBuffered(): void {
    while (this.#buffer.length > 0 && this.#slots.take(1) === 1) this.#start(this.#buffer.shift() as TaskQueueItem);
  }

  /** Runs one claimed item in a slot already taken for it. */
  #start(item: TaskQueueItem): void {
    this.#inFlight.add(item);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#handlerDoneAt.set(item, Date.now());
      this.#slots.release();
      this.#startBuffered();
      this.#changed.notify();
    };
    this.emitSafely('task:start', item);
    const execution = this.#store
      .taskQueueExecute(item, {
        signal: this.#handlerAbort.signal,
        heartbeatIntervalMs: 0,
        onHandlerDone: release,
        batchFinish: true,
        removeOnSuccess: this.options.removeOnSuccess,
      })
      .then((result) => {
        // A result that was not recorded belongs to a reclaimed task: its new owner reports it.
        if (!result || !result.recorded) return;
        const { outcome } = result;
        if (outcome.status === 'success') this.emitSafely('task:success', item);
        else if (outcome.status === 'retry') {
          this.emitSafely('task:retry', item, outcome.error, outcome.availableAt);
          // The loop may be asleep for the whole poll interval: let it plan for the retry's due time.
          this.#wake.notify();
        } else if (outcome.status !== 'snoozed') this.emitSafely('task:failure', item, outcome.error);
      })
      .catch((error: unknown) => this.emitError(error))
      .finally(() => {
        release();
        this.#gate.finished();
        this.#inFlight.delete(item);
        this.#handlerDoneAt.delete(item);
        if (this.#waitingForWrites || this.#gate.limitsConcurrency) this.#changed.notify();
        this.#executions.delete(execution);
        for (const tracker of this.#trackers) tracker.delete(execution);
      });
    this.#executions.add(execution);
    for (const tracker of this.#trackers) tracker.add(execution);
  }

  /**
   * How long to sleep once nothing is due: until the queue's next queued item becomes due
   * (a delayed task, a retry's backoff), at most the poll interval. One read per idle turn;
   * every wake-up (an enqueue here or in another process, a retry of ours) asks again.
   */
  async #idleWaitMs(): Promise<number> {
    const next = this.#gate.needsDueRead ? await this.#store.taskQueueNextDueAt(this.options.queueName) : null;
    const dueMs = next === null ? Infinity : next.getTime() - Date.now() + WAKE_MARGIN_MS;
    return this.#gate.idleWaitMs(next, Math.min(this.options.pollIntervalMs, Math.max(MIN_IDLE_WAIT_MS, dueMs)));
  }

  /**
   * Gives stuck items of the queue back, once per poll interval, beside the claims rather than
   * before them: a sweep that waits (on a lock a frozen session holds, on a slow network)
   * delays no claim. One sweep at a time; what it frees wakes the loop through the store.
   */
  #sweepInBackground(): void {
    if (this.#sweeping) return;
    this.#sweeping = this.#store
      .taskQueueUnstuck(this.options.queueName, this.options.unstuckMinutes)
      .then(
        () => undefined,
        (error: unknown) => this.emitError(error),
      )
      .finally(() => {
        this.#sweeping = null;
      });
  }

  /**
   * Keeps alive the claims of items whose handlers run or are waiting for a slot. An item
   * whose handler settled more than half an unstuck window ago and whose finishing write
   * still has not landed is no longer kept alive: if this worker cannot reach the database,
   * another one reclaims it.
   */
  async #heartbeat(): Promise<void> {
    const givenUpBefore = Date.now() - (this.options.unstuckMinutes * 60_000) / 2;
    const running = [...this.#inFlight].filter((item) => (this.#handlerDoneAt.get(item) ?? Infinity) > givenUpBefore);
    const items = [...running, ...this.#buffer];
    if (items.length === 0) return;
    try {
      await this.#store.taskQueueHeartbeat(items);
    } catch (error) {
      this.emitError(error);
    }
  }
}
