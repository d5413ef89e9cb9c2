/**
 * Root hooks (loaded by .mocharc.json): the runner leak check. It needs nothing from the specs:
 * TaskQueueRunner.prototype.start and ScheduleRunner.prototype.start are wrapped once, when
 * this module loads, so every runner started in this process is registered together with the
 * spec line that started it.
 *
 * - Started while a test runs (its beforeEach and afterEach hooks included): once the test
 *   and all its afterEach hooks are done, a runner still running fails that test, with a
 *   message naming the test, the runner's kind and queue, and where it was started. The check
 *   then stops it (graceMs 0), so one leak cannot spill into later tests. A test that already
 *   failed on its own gets its runners stopped without a second failure.
 * - Started outside a test (in a describe block's `before`, for a runner that serves the
 *   whole block): that block's `after` must stop it. The root afterAll fails the run for any
 *   that still runs, and stops it.
 *
 * The failure is attached to the test (mocha's Hook#error, as mocha's own global-leak check
 * does), not thrown from the hook: a root afterEach that throws makes mocha skip every test
 * after it.
 */
import { ScheduleRunner, TaskQueueRunner } from '../../lib/index.js';
import { within } from './wait.js';

export type Runner = TaskQueueRunner | ScheduleRunner;

/** How long the check waits for a leaked runner to stop, inside mocha's 30 s hook timeout. */
const STOP_BOUND_MS = 10_000;

/** A runner's kind and queue, for messages: "TaskQueueRunner for queue 'emails'", "ScheduleRunner". */
export function describeRunner(runner: Runner): string {
  return runner instanceof TaskQueueRunner ? `TaskQueueRunner for queue '${runner.queueName}'` : 'ScheduleRunner';
}

/** Runners started in one scope (one test, or outside tests), with where each was started. */
export class RunnerRegistry {
  readonly #started = new Map<Runner, string>();

  add(runner: Runner, startedAt = 'an unknown place'): void {
    if (!this.#started.has(runner)) this.#started.set(runner, startedAt);
  }

  runners(): Runner[] {
    return [...this.#started.keys()];
  }

  /**
   * Forgets every registered runner and stops those still running; resolves with one line
   * per runner that was still running (none: no leak).
   */
  async sweep(): Promise<string[]> {
    const entries = [...this.#started];
    this.#started.clear();
    const leaked = entries.filter(([runner]) => runner.isRunning());
    return Promise.all(
      leaked.map(async ([runner, startedAt]) => {
        const line = `${describeRunner(runner)}, started at ${startedAt}`;
        const stopping = runner instanceof TaskQueueRunner ? runner.stop({ graceMs: 0 }) : runner.stop();
        try {
          await within(stopping, STOP_BOUND_MS, 'stop()');
          return line;
        } catch (error) {
          return `${line} (the check could not stop it: ${error instanceof Error ? error.message : String(error)})`;
        }
      }),
    );
  }
}

/**
 * The leak check itself: stops the registry's runners that still run, forgets them all, and
 * resolves with an Error naming `where` and each runner left running, or undefined.
 */
export async function checkRunnerLeaks(registry: RunnerRegistry, where: string): Promise<Error | undefined> {
  const leaks = await registry.sweep();
  if (leaks.length === 0) return undefined;
  return new Error(
    `runner leak: ${where} left ${leaks.length} runner(s) running; stop every runner you start (the check stopped them):\n` +
      leaks.map((line) => `  - ${line}`).join('\n'),
  );
}

/** Where start() was called: the first stack frame in a spec file other than this one. */
function startedAt(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const frame = frames.find((line) => line.includes('/dist/spec/') && !line.includes('/dist/spec/support/hooks.js'));
  const location = /(dist\/spec\/[^\s)]+)/.exec(frame ?? '')?.[1];
  return location ?? 'a place outside the specs';
}

const duringTests = new RunnerRegistry();
const outsideTests = new RunnerRegistry();
let inTest = false;

/** The runners started since the current test began (its beforeEach hooks included). */
export function runnersStartedInThisTest(): Runner[] {
  return duringTests.runners();
}

const WRAPPED = Symbol.for('taskstore.spec.runner-leak-check');

function registerEveryStart(prototype: { start(): void; [WRAPPED]?: true }): void {
  if (prototype[WRAPPED]) return;
  const start = prototype.start;
  prototype.start = function (this: Runner): void {
    start.call(this);
    (inTest ? duringTests : outsideTests).add(this, startedAt());
  };
  prototype[WRAPPED] = true;
}

registerEveryStart(TaskQueueRunner.prototype);
registerEveryStart(ScheduleRunner.prototype);

export const mochaHooks = {
  beforeEach(): void {
    inTest = true;
  },

  async afterEach(this: Mocha.Context): Promise<void> {
    inTest = false;
    const test = this.currentTest;
    const leak = await checkRunnerLeaks(duringTests, `the test "${test?.fullTitle() ?? '?'}"`);
    if (leak && test?.state !== 'failed') (this.test as Mocha.Hook).error(leak);
  },

  async afterAll(): Promise<void> {
    const leak = await checkRunnerLeaks(outsideTests, 'a before/after hook (a runner for a whole describe block)');
    if (leak) throw leak;
  },
};
