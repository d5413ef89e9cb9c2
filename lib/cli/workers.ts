/**
 * The runners of `work`, `dashboard --queue` and `demo`: one TaskQueueRunner per queue, plus
 * the schedule runner (unless `schedules: false`), reporting to a progress line.
 */
import type { TaskStore } from '../task-store.js';
import type { TaskQueueItem } from '../foundation/types.js';
import { ScheduleRunner } from '../../runners/schedule-runner.js';
import { TaskQueueRunner } from '../../runners/task-queue-runner.js';
import type { ProgressLine } from './progress.js';

export interface WorkersOptions {
  queues: readonly string[];
  /** Handlers at once per queue. Default 1. */
  concurrency?: number;
  /** Poll interval in seconds. Default 5 (enqueues through this process wake the runners at once). */
  intervalSeconds?: number;
  /** Start the schedule runner too. Default true (`work --no-schedules` turns it off). */
  schedules?: boolean;
  progress?: ProgressLine;
}

export class Workers {
  readonly runners: TaskQueueRunner[];
  readonly scheduler: ScheduleRunner | null;
  readonly #store: TaskStore;
  readonly #progress: ProgressLine | undefined;
  readonly #queues: readonly string[];
  #countTimer: NodeJS.Timeout | null = null;

  constructor(store: TaskStore, options: WorkersOptions) {
    this.#store = store;
    this.#progress = options.progress;
    this.#queues = [...new Set(options.queues)];
    this.runners = this.#queues.map(
      (queueName) =>
        new TaskQueueRunner(store, {
          queueName,
          maxConcurrency: options.concurrency ?? 1,
          intervalSeconds: options.intervalSeconds ?? 5,
        }),
    );
    this.scheduler =
      options.schedules === false ? null : new ScheduleRunner(store, { intervalSeconds: Math.min(options.intervalSeconds ?? 5, 60) });
    for (const runner of this.runners) this.#wire(runner);
    this.scheduler?.on('error', (error) => this.#report(`schedule runner: ${error.message}`));
    this.scheduler?.on('schedule:fired', (schedule, item) => {
      if (this.#progress && !this.#progress.live)
        this.#progress.print(`schedule ${schedule.name}: enqueued ${item.id} on queue ${item.queueName}`);
    });
    this.scheduler?.on('schedule:deactivated', (schedule, reason) => this.#report(`schedule ${schedule.name} deactivated: ${reason}`));
  }

  get queues(): readonly string[] {
    return this.#queues;
  }

  async start(): Promise<void> {
    this.scheduler?.start();
    for (const runner of this.runners) runner.start();
    if (this.#progress?.live) {
      this.#progress.start();
      void this.#refreshCounts();
      this.#countTimer = setInterval(() => void this.#refreshCounts(), 1000);
      this.#countTimer.unref();
    }
  }

  /** Stops claiming, waits for the handlers in flight (aborting their ctx.signal after graceMs, when given). */
  async stop(graceMs?: number): Promise<void> {
    if (this.#countTimer) clearInterval(this.#countTimer);
    this.#countTimer = null;
    const options = graceMs === undefined ? {} : { graceMs };
    await Promise.all([...this.runners.map((runner) => runner.stop(options)), this.scheduler?.stop()]);
    this.#progress?.stop();
  }

  isRunning(): boolean {
    return this.runners.some((runner) => runner.isRunning()) || this.scheduler?.isRunning() === true;
  }

  async #refreshCounts(): Promise<void> {
    const progress = this.#progress;
    if (!progress || this.#store.isClosed()) return;
    try {
      let queued = 0;
      for (const queueName of this.#queues) queued += await this.#store.taskQueueCount({ queueName, status: 'queued' });
      progress.counts.queued = queued;
    } catch {
      // the next refresh will tell; errors of the runners themselves are reported as events
    }
    progress.counts.running = this.runners.reduce((sum, runner) => sum + runner.activeCount, 0);
  }

  #wire(runner: TaskQueueRunner): void {
    const alias = (item: TaskQueueItem) => String(item.parameters['task_alias'] ?? item.taskId);
    const base = (item: TaskQueueItem) => ({ id: item.id, alias: alias(item), queueName: item.queueName, attempt: item.attempts });
    runner.on('task:success', (item) => this.#progress?.record({ kind: 'success', ...base(item) }));
    runner.on('task:failure', (item, error) => this.#progress?.record({ kind: 'failure', ...base(item), message: error.message }));
    runner.on('task:retry', (item, error) => this.#progress?.record({ kind: 'retry', ...base(item), message: error.message }));
    runner.on('error', (error) => this.#report(`runner for queue '${runner.queueName}': ${error.message}`));
  }

  #report(message: string): void {
    if (this.#progress) this.#progress.print(`warning: ${message}`);
    else process.stderr.write(`taskstore: warning: ${message}\n`);
  }
}
