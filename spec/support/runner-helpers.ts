/**
 * Helpers for the runner specs: runners that are tracked by the leak check and stopped after
 * each test, an event recorder, a logger that keeps what it was told, and a plain sleep for
 * letting time pass where a test proves that something did NOT happen (or holds a handler
 * past a window). Sleeps never decide how fast something must be.
 */
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import type { Logger, TaskHandlerDefinition, TaskQueueItem, TaskQueueRunnerOptions, TaskStore } from '../../lib/index.js';
import type { DialectContext } from './dialects.js';
import { uniqueAlias, uniqueQueue } from './fixtures.js';
import { trackRunner } from './hooks.js';
import { within } from './wait.js';

/** The runners one spec file creates: each is registered with the leak check. */
export class RunnerSet {
  readonly #runners: TaskQueueRunner[] = [];

  create(store: TaskStore, options: TaskQueueRunnerOptions = {}): TaskQueueRunner {
    const runner = trackRunner(new TaskQueueRunner(store, options));
    this.#runners.push(runner);
    return runner;
  }

  /** Stops every runner (aborting handlers still in flight) and forgets them; for afterEach. */
  async stopAll(): Promise<void> {
    const runners = this.#runners.splice(0);
    await within(Promise.all(runners.map((runner) => runner.stop({ graceMs: 0 }))), 30_000, 'stopping the runners of the test');
  }
}

/** Installs the hooks every runner suite shares: a fresh queue name per test, runners stopped after it. */
export function useFreshQueueAndRunners(runners: RunnerSet, setQueue: (queue: string) => void): void {
  beforeEach(function () {
    setQueue(uniqueQueue());
  });
  afterEach(async function () {
    await runners.stopAll();
  });
}

/** Registers a handler (and its definition) under a fresh alias; resolves with the alias. */
export function handlerRegistrar(t: DialectContext, prefix: string): (definition: Omit<TaskHandlerDefinition, 'alias'>) => Promise<string> {
  return async (definition) => {
    const alias = uniqueAlias(prefix);
    await t.store.taskHandlerAdd(defineTask({ ...definition, alias }), true);
    return alias;
  };
}

export interface RecordedEvents {
  readonly started: TaskQueueItem[];
  readonly succeeded: TaskQueueItem[];
  readonly failed: { item: TaskQueueItem; error: Error }[];
  readonly retried: { item: TaskQueueItem; error: Error; availableAt: Date }[];
  readonly errors: Error[];
  /** Event names in the order they were emitted, e.g. 'task:start'. */
  readonly order: string[];
}

export function recordEvents(runner: TaskQueueRunner): RecordedEvents {
  const events: RecordedEvents = { started: [], succeeded: [], failed: [], retried: [], errors: [], order: [] };
  runner.on('task:start', (item) => {
    events.started.push(item);
    events.order.push('task:start');
  });
  runner.on('task:success', (item) => {
    events.succeeded.push(item);
    events.order.push('task:success');
  });
  runner.on('task:failure', (item, error) => {
    events.failed.push({ item, error });
    events.order.push('task:failure');
  });
  runner.on('task:retry', (item, error, availableAt) => {
    events.retried.push({ item, error, availableAt });
    events.order.push('task:retry');
  });
  runner.on('error', (error) => {
    events.errors.push(error);
    events.order.push('error');
  });
  return events;
}

export interface RecordingLogger extends Logger {
  readonly lines: { level: 'debug' | 'info' | 'warn' | 'error'; message: string; meta: unknown[] }[];
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at =
    (level: RecordingLogger['lines'][number]['level']) =>
    (message: string, ...meta: unknown[]): void => {
      lines.push({ level, message, meta });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
