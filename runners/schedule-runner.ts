/**
 * ScheduleRunner: enqueues the task of every schedule that is due. Each pass pages through
 * all due active schedules in (nextRunAt, id) order and fires each one through the store,
 * which claims the occurrence and enqueues in one transaction: several runners, in one
 * process or many, enqueue every occurrence exactly once. Between passes it sleeps until
 * the earliest nextRunAt, at most intervalSeconds, and wakes when a schedule changes.
 */
import type { TaskStore } from '../lib/task-store.js';
import type { Logger, Schedule, TaskQueueItem } from '../lib/foundation/types.js';
import { withDefaults, type KnownKeys } from '../lib/foundation/options.js';
import { assertTimerDuration } from '../lib/foundation/validate.js';
import { RunnerLifecycle, failureBackoffMs } from './runner-lifecycle.js';
import { RunnerRegistration } from './runner-registration.js';
import { WakeSignal } from './wake-signal.js';

export interface ScheduleRunnerOptions {
  /**
   * Longest sleep between passes, in seconds; fractions allowed. The runner also wakes for
   * the earliest nextRunAt and when a schedule changes through the same store.
   * @defaultValue 60
   */
  intervalSeconds?: number;
  /**
   * Where background failures go when no 'error' listener is attached.
   * @defaultValue the store's logger
   */
  logger?: Logger;
}

export interface ResolvedScheduleRunnerOptions {
  readonly pollIntervalMs: number;
  readonly logger: Logger;
}

const DEFAULTS = Object.freeze({ intervalSeconds: 60 });
const KNOWN = { intervalSeconds: true, logger: true } as const satisfies KnownKeys<ScheduleRunnerOptions>;
/** Due schedules read per query while a pass pages through them. */
const PAGE_SIZE = 100;
/** Timers may fire a little early; wake this much after the earliest nextRunAt. */
const WAKE_MARGIN_MS = 5;
/** Shortest sleep between passes, so a schedule that stays due (an edit racing the runner) cannot spin the loop. */
const MIN_SLEEP_MS = 25;

export function resolveScheduleRunnerOptions(options: ScheduleRunnerOptions, fallbackLogger: Logger): ResolvedScheduleRunnerOptions {
  const merged = withDefaults(options, KNOWN, DEFAULTS, 'ScheduleRunner options');
  assertTimerDuration(merged.intervalSeconds, 'intervalSeconds', 1000);
  return Object.freeze({ pollIntervalMs: merged.intervalSeconds * 1000, logger: merged.logger ?? fallbackLogger });
}

export interface ScheduleRunnerEvents {
  /** A task was enqueued; `schedule` is the row after the run (status 'completed' when it was the last). */
  'schedule:fired': [schedule: Schedule, item: TaskQueueItem];
  /** The schedule has no further run: its rule ended, or endAt or maxExecutionCount was reached. */
  'schedule:completed': [schedule: Schedule];
  /** The schedule could not enqueue for good (its definition is gone or canceled): now inactive, lastError says why. */
  'schedule:deactivated': [schedule: Schedule, reason: string];
  error: [error: Error];
}

/** What one pass did. */
export interface ScheduleRunResult {
  fired: number;
  completed: number;
  deactivated: number;
  /** Schedules whose firing failed (reported as 'error'); they stay due and are tried again. */
  failed: number;
}

export class ScheduleRunner extends RunnerLifecycle<ScheduleRunnerEvents> {
  readonly options: ResolvedScheduleRunnerOptions;

  readonly #store: TaskStore;
  readonly #wake = new WakeSignal();
  /** Passes in flight, the loop's and direct runOnce() calls alike: stop() waits for them. */
  readonly #passes = new Set<Promise<unknown>>();
  /** This runner's row in the runners registry while it runs. */
  readonly #registration: RunnerRegistration;

  protected get emitterLogger(): Logger {
    return this.options.logger;
  }

  protected get emitterName(): string {
    return 'schedule runner';
  }

  constructor(store: TaskStore, options: ScheduleRunnerOptions = {}) {
    super(store);
    this.#store = store;
    this.options = resolveScheduleRunnerOptions(options, store.logger);
    this.#registration = RunnerRegistration.ofScheduleRunner(
      store,
      this.options,
      () => this.#passes.size,
      (error) => this.emitError(error),
    );
  }

  /** Plans nextRunAt of every active schedule that has none; returns how many changed. start() does this first. */
  setInitialRuns(): Promise<number> {
    return this.#store.scheduleSetInitialRuns();
  }

  protected onStart(): () => void {
    this.#registration.start();
    return this.#store.onSchedulesChanged(() => this.#wake.notify());
  }

  /**
   * Fires every schedule due now, however many, and resolves with what it did. Failures of
   * single schedules are reported as 'error' events; a failure to read the due ones rejects.
   */
  runOnce(): Promise<ScheduleRunResult> {
    return this.#track(this.#pass(this.loopSignal));
  }

  /** Stops the loop and waits for passes in flight (a pass stops between two schedules). Restartable. */
  stop(): Promise<void> {
    return this.stopLoop(() => this.#settle());
  }

  async #settle(): Promise<void> {
    while (this.#passes.size > 0) await Promise.allSettled([...this.#passes]);
    await this.#registration.stop();
  }

  #track<T>(pass: Promise<T>): Promise<T> {
    this.#passes.add(pass);
    const untrack = () => this.#passes.delete(pass);
    pass.then(untrack, untrack);
    return pass;
  }

  /** setInitialRuns once, then passes; between them it sleeps until the earliest nextRunAt, at most the interval. */
  protected async loop(signal: AbortSignal): Promise<void> {
    let planned = false;
    let failures = 0;
    while (!signal.aborted) {
      let waitMs = this.options.pollIntervalMs;
      try {
        if (!planned) {
          await this.#track(this.setInitialRuns());
          planned = true;
        }
        const result = await this.#track(this.#pass(signal));
        failures = result.failed > 0 ? failures + 1 : 0;
        if (failures === 0) waitMs = await this.#untilNextDue();
        else waitMs = failureBackoffMs(failures, waitMs);
      } catch (error) {
        // Database trouble: report, back off (up to the interval), keep going.
        failures += 1;
        this.emitError(error);
        waitMs = failureBackoffMs(failures, waitMs);
      }
      await this.#wake.wait(waitMs, signal);
    }
  }

  /** How long to sleep: until the earliest nextRunAt, at most the interval. */
  async #untilNextDue(): Promise<number> {
    const next = await this.#store.scheduleNextDueAt();
    if (next === null) return this.options.pollIntervalMs;
    return Math.min(this.options.pollIntervalMs, Math.max(MIN_SLEEP_MS, next.getTime() - Date.now() + WAKE_MARGIN_MS));
  }

  async #pass(signal: AbortSignal): Promise<ScheduleRunResult> {
    const result: ScheduleRunResult = { fired: 0, completed: 0, deactivated: 0, failed: 0 };
    const now = new Date();
    let after: { nextRunAt: Date; id: string } | undefined;
    while (!signal.aborted) {
      const page = await this.#store.scheduleListDue({ now, limit: PAGE_SIZE, ...(after && { after }) });
      for (const schedule of page) {
        if (signal.aborted) break;
        await this.#fire(schedule, result);
      }
      const last = page[page.length - 1];
      if (page.length < PAGE_SIZE || !last) break;
      after = { nextRunAt: last.nextRunAt as Date, id: last.id };
    }
    return result;
  }

  async #fire(schedule: Schedule, result: ScheduleRunResult): Promise<void> {
    try {
      const fired = await this.#store.scheduleFire(schedule);
      switch (fired.outcome) {
        case 'fired':
          result.fired += 1;
          this.emitSafely('schedule:fired', fired.schedule, fired.item);
          if (fired.schedule.status === 'completed') {
            result.completed += 1;
            this.emitSafely('schedule:completed', fired.schedule);
          }
          break;
        case 'completed':
          result.completed += 1;
          this.emitSafely('schedule:completed', fired.schedule);
          break;
        case 'deactivated':
          // Logged here, once: the schedule is inactive now, so no later pass sees it.
          result.deactivated += 1;
          this.options.logger.warn(`schedule '${schedule.name}' (${schedule.id}) set inactive: ${fired.reason}`);
          this.emitSafely('schedule:deactivated', fired.schedule, fired.reason);
          break;
        case 'skipped':
          break;
      }
    } catch (error) {
      result.failed += 1;
      this.emitError(error);
    }
  }
}
