/**
 * Helpers for the runner specs: a fresh queue name per test, an event recorder, a logger that
 * keeps what it was told, and a plain sleep for the few places that let time pass (kept
 * short where a test proves that something did NOT happen). Sleeps never decide how fast
 * something must be. Runners need no registering: the root hooks (spec/support/hooks.ts) fail
 * a test that leaves one running.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { defineTask } from '../../lib/index.js';
import type { Logger, TaskHandlerDefinition, TaskQueueItem, TaskQueueRunner } from '../../lib/index.js';
import type { DialectContext } from './dialects.js';
import { uniqueAlias, uniqueQueue } from './fixtures.js';
import { within } from './wait.js';

/** A fresh queue name before every test of the block, handed to `setQueue`. */
export function useFreshQueue(setQueue: (queue: string) => void): void {
  beforeEach(function () {
    setQueue(uniqueQueue());
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

const RUNNER_WORKER = fileURLToPath(new URL('./runner-worker.js', import.meta.url));

/** A runner-worker process whose handler hangs: `started` resolves the id it took; `kill` SIGKILLs it and waits for the exit. */
export function startHangingWorker(url: string, queue: string, alias: string): { started: Promise<string>; kill(): Promise<void> } {
  const child = spawn(process.execPath, [RUNNER_WORKER, url, queue, alias, 'hang', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const started = new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^started (\S+)$/m.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`runner-worker exited (${code}) before its handler started\n${stderr}`)));
  });
  started.catch(() => {}); // a kill before the start is the caller's choice, not an unhandled rejection
  return {
    started,
    async kill() {
      child.kill('SIGKILL');
      await within(exited, 10_000, 'the killed child exiting');
    },
  };
}
