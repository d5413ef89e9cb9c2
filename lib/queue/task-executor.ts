/**
 * Runs one claimed queue item: finds its definition and handler, gives the handler a fresh
 * context, enforces the timeout, keeps the heartbeat, aborts the handler when its claim is
 * lost (canceled, reclaimed), and turns the outcome into the item's next state with one
 * guarded write (none when the claim was lost).
 */
import { formatDetailsLine } from '../foundation/details.js';
import { boundedLine, boundedOutput, type PayloadLimits } from '../foundation/limits.js';
import { formatBytes, storableText, utf8Bytes } from '../foundation/text.js';
import { ClaimLostError, PermanentError } from '../foundation/errors.js';
import {
  DEFAULT_BACKOFF,
  backoffDelayMs,
  isSnooze,
  snoozeMarker,
  type TaskContext,
  type TaskHandler,
  type TaskResult,
} from '../definitions/handler.js';
import { ProgressWriter, checkProgress } from './progress-writer.js';
import { paramAsString, withTaskAlias } from '../foundation/params.js';
import type { Finish, QueueLeases } from './queue-leases.js';
import type { Logger, TaskDefinition, TaskQueueItem } from '../foundation/types.js';
import type { ParentOutput } from '../foundation/flow-types.js';

export type ExecutionOutcome =
  | { status: 'success' }
  | { status: 'retry'; error: Error; availableAt: Date }
  | { status: 'failed'; error: Error }
  | { status: 'canceled'; error: Error }
  /** The handler returned ctx.snooze(ms): queued again at availableAt, no attempt used. */
  | { status: 'snoozed'; availableAt: Date }
  /** The claim was lost while the handler ran (canceled, reclaimed): nothing was written. */
  | { status: 'lost'; error: ClaimLostError };

export interface ExecutionResult {
  readonly outcome: ExecutionOutcome;
  /** False when the claim was lost before the final write (the task was reclaimed). */
  readonly recorded: boolean;
}

export interface ExecutorDependencies {
  readonly leases: QueueLeases;
  readonly logger: Logger;
  readonly limits: PayloadLimits;
  findDefinition(id: string): Promise<TaskDefinition | null>;
  findHandler(alias: string): TaskHandler | undefined;
  now(): Date;
  /** Registers a run so a lost claim aborts it (see TaskProcessor); returns the unregister function. */
  track?(item: TaskQueueItem, abort: (reason: ClaimLostError) => void): () => void;
  /** A flow step's parents as ctx.parentOutputs shows them (read only for items with a flowId). */
  parentOutputs?(item: TaskQueueItem): Promise<Readonly<Record<string, ParentOutput>>>;
}

export interface ExecuteOptions {
  /** Per-item heartbeat while the handler runs; 0 = none (a runner heartbeats its items in bulk). */
  readonly heartbeatIntervalMs: number;
  /** Aborts the handler's ctx.signal (runner stop with a grace timeout). */
  readonly signal?: AbortSignal;
  /** Called once the handler settled, before the final write (a runner frees the slot here). */
  readonly onHandlerDone?: () => void;
  /** Writes the final state; default: one guarded write (a runner batches these). */
  readonly finish?: (item: TaskQueueItem, finish: Finish) => Promise<boolean>;
  /** A success deletes the item's row instead of writing it (a runner's removeOnSuccess; never a flow step's). */
  readonly removeOnSuccess?: boolean;
}

/** Outside flows: no parents, and no query to find that out. */
const NO_PARENTS: Readonly<Record<string, ParentOutput>> = Object.freeze({});

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export async function executeTask(deps: ExecutorDependencies, item: TaskQueueItem, options: ExecuteOptions): Promise<ExecutionResult> {
  const write = options.finish ?? ((target: TaskQueueItem, finish: Finish) => deps.leases.finish(target, finish));
  const remove = options.removeOnSuccess === true;
  const conclude = (output: string, outcome: ExecutionOutcome, lines: string[]) =>
    writeOutcome(deps, write, item, output, outcome, lines, remove);
  let definition: TaskDefinition | null;
  let parentOutputs: Readonly<Record<string, ParentOutput>> = NO_PARENTS;
  try {
    definition = await deps.findDefinition(item.taskId);
    if (item.flowId !== null && deps.parentOutputs) parentOutputs = await deps.parentOutputs(item);
  } catch (error) {
    options.onHandlerDone?.();
    throw error;
  }
  const handler = definition && definition.status !== 'canceled' ? deps.findHandler(definition.alias) : undefined;
  if (!handler) options.onHandlerDone?.();
  if (!definition) {
    return conclude('', { status: 'failed', error: new Error('Task DOES NOT exist') }, ['Task DOES NOT exist', 'Task failed']);
  }
  if (definition.status === 'canceled') {
    const message = `Task definition ${definition.alias} is canceled`;
    return conclude('', { status: 'canceled', error: new Error(message) }, [message]);
  }
  if (!handler) {
    // Retried while attempts remain: during a rolling deploy another worker may have it.
    const message = `No handler for alias: ${definition.alias}`;
    return failure(deps, item, conclude, '', new Error(message), [message, 'Task failed'], DEFAULT_BACKOFF);
  }

  const run = new ExecutionContext(deps, item, definition.alias, options.signal, parentOutputs);
  const untrack = deps.track?.(item, (reason) => run.abort(reason));
  const heartbeat =
    options.heartbeatIntervalMs > 0
      ? setInterval(() => {
          deps.leases.heartbeat([item]).catch((error: unknown) => deps.logger.warn(`heartbeat of task ${item.id} failed`, error));
        }, options.heartbeatIntervalMs).unref()
      : undefined;
  let result: TaskResult | undefined;
  let error: Error | undefined;
  try {
    result = await runWithTimeout(handler, run);
  } catch (thrown) {
    error = thrown instanceof Error ? thrown : new Error(String(thrown));
  } finally {
    clearInterval(heartbeat);
    untrack?.();
    run.close();
    options.onHandlerDone?.();
  }
  await run.flushed();

  const lost = run.lostClaim();
  if (lost) {
    // Another write decided the task's state (a cancel, a reclaim): the token fences this attempt out anyway.
    deps.logger.debug(`task ${item.id}: ${lost.message}; the handler's result was not recorded`);
    return { outcome: { status: 'lost', error: lost }, recorded: false };
  }
  if (!error && isSnooze(result)) return writeSnooze(deps, item, run.output, result.snoozeMs);
  if (!error && result !== false) return conclude(run.output, { status: 'success' }, ['Task completed']);
  const cause = error ?? new Error('Handler returned false');
  const lines = [error ? `Task failed: ${describeError(cause)}` : 'Task failed'];
  return failure(deps, item, conclude, run.output, cause, lines, handler.backoff);
}

type Conclude = (output: string, outcome: ExecutionOutcome, lines: string[]) => Promise<ExecutionResult>;

/** A failed attempt: queued again after the backoff while attempts remain, else failed. */
function failure(
  deps: ExecutorDependencies,
  item: TaskQueueItem,
  conclude: Conclude,
  output: string,
  error: Error,
  lines: string[],
  backoff: TaskHandler['backoff'],
): Promise<ExecutionResult> {
  if (!(error instanceof PermanentError) && item.attempts < item.maxAttempts) {
    const delay = backoffDelayMs(backoff, item.attempts);
    const availableAt = new Date(deps.now().getTime() + delay);
    return conclude(output, { status: 'retry', error, availableAt }, [
      ...lines,
      `Retrying in ${formatDelay(delay)} (attempt ${item.attempts} of ${item.maxAttempts})`,
    ]);
  }
  return conclude(output, { status: 'failed', error }, lines);
}

async function runWithTimeout(handler: TaskHandler, run: ExecutionContext): Promise<TaskResult> {
  const handled = Promise.resolve().then(() => handler.handle(run.context));
  if (handler.timeoutMs === null) return handled;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(`Task timed out after ${handler.timeoutMs} ms`);
      run.abort(error);
      reject(error);
    }, handler.timeoutMs ?? 0);
  });
  handled.catch(() => {}); // a handler that rejects after its timeout must not crash the process
  try {
    return await Promise.race([handled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes the final state with its details lines, guarded by the item's claim. Whatever the
 * handler produced is made storable first: U+0000 and lone surrogates become U+FFFD, the
 * output is cut to maxOutputBytes and each line to MAX_DETAILS_LINE_BYTES, so the database
 * has no reason to refuse the write and the task ends. With `removeOnSuccess`, a success
 * deletes the row instead, under the same guard.
 */
async function writeOutcome(
  deps: ExecutorDependencies,
  write: (item: TaskQueueItem, finish: Finish) => Promise<boolean>,
  item: TaskQueueItem,
  handlerOutput: string,
  outcome: ExecutionOutcome,
  statusLines: string[],
  removeOnSuccess: boolean,
): Promise<ExecutionResult> {
  const now = deps.now();
  const { output, note } = boundedOutput(storableText(handlerOutput), deps.limits.maxOutputBytes);
  const lines = note === null ? statusLines : [note, ...statusLines];
  const stamped = lines.map((line) => boundedLine(formatDetailsLine(storableText(line), now)));
  if (outcome.status === 'snoozed' || outcome.status === 'lost') throw new Error(`writeOutcome: ${outcome.status} is not a final write`);
  const finish: Finish =
    outcome.status === 'retry'
      ? { status: 'queued', lines: stamped, output, availableAt: outcome.availableAt }
      : outcome.status === 'success' && removeOnSuccess
        ? { status: 'success', lines: stamped, output, remove: true }
        : { status: outcome.status, lines: stamped, output };
  const recorded = await write(item, finish);
  if (!recorded) deps.logger.warn(`task ${item.id} was reclaimed before it finished; its result (${outcome.status}) was not recorded`);
  return { outcome, recorded };
}

/** ctx.snooze: back to queued at now + ms with attempts as they were, in one guarded write of its own (snoozes are rare). */
async function writeSnooze(deps: ExecutorDependencies, item: TaskQueueItem, handlerOutput: string, ms: number): Promise<ExecutionResult> {
  const now = deps.now();
  const availableAt = new Date(now.getTime() + ms);
  const { output, note } = boundedOutput(storableText(handlerOutput), deps.limits.maxOutputBytes);
  const status = `Task snoozed for ${formatDelay(ms)} (no attempt used)`;
  const lines = (note === null ? [status] : [note, status]).map((line) => boundedLine(formatDetailsLine(line, now)));
  const recorded = await deps.leases.snooze(item, { availableAt, output, lines });
  if (!recorded) deps.logger.warn(`task ${item.id} was reclaimed before it finished; its snooze was not recorded`);
  return { outcome: { status: 'snoozed', availableAt }, recorded };
}

/** The per-execution state behind a TaskContext: nothing here is shared between runs. */
class ExecutionContext {
  readonly context: TaskContext;
  output: string;
  /**
   * Every run gets a signal of its own, never a shared one: listeners a handler adds to
   * ctx.signal and forgets must go away with the run, not pile up on the runner's signal.
   * Made on first use: most handlers never look at it, and an AbortController is not free.
   */
  #controller: AbortController | null = null;
  #abortReason: unknown = undefined;
  #aborted = false;
  #writes: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Bytes of details the handler may still add (maxDetailsBytes less what is there); counted on first use. */
  #detailsRoom: number | null = null;
  #logFull = false;
  #detach = (): void => {};
  /** Made on the first ctx.setProgress. */
  #progress: ProgressWriter | null = null;

  constructor(
    private readonly deps: ExecutorDependencies,
    private readonly item: TaskQueueItem,
    alias: string,
    private readonly outer: AbortSignal | undefined,
    parentOutputs: Readonly<Record<string, ParentOutput>>,
  ) {
    this.output = item.output;
    const params = withTaskAlias(item.parameters, alias);
    const log = (message: string) => this.#log(message);
    const signal = () => this.#signal();
    this.context = Object.freeze({
      params,
      getParam: (key: string) => paramAsString(params, key),
      logInfo: log,
      logError: log,
      logSuccess: log,
      setOutput: (text: string) => {
        if (!this.#closed) this.output = String(text);
      },
      setProgress: (percent: number, data?: unknown) => this.#setProgress(percent, data),
      snooze: (ms: number) => snoozeMarker(ms),
      get signal() {
        return signal();
      },
      attempt: item.attempts,
      task: item,
      hasQueuedTask: () => true,
      parentOutputs,
    });
  }

  #signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    const outer = this.outer;
    if (this.#aborted) controller.abort(this.#abortReason);
    else if (outer?.aborted) controller.abort(outer.reason);
    else if (outer && !this.#closed) {
      const forward = () => controller.abort(outer.reason);
      outer.addEventListener('abort', forward, { once: true });
      this.#detach = () => outer.removeEventListener('abort', forward);
    }
    return controller.signal;
  }

  #log(message: string): Promise<void> {
    if (this.#closed || this.#logFull) return Promise.resolve(); // a handler still running after its timeout, or a full log
    let line = boundedLine(formatDetailsLine(storableText(String(message)), this.deps.now()));
    const { maxDetailsBytes } = this.deps.limits;
    this.#detailsRoom ??= maxDetailsBytes - utf8Bytes(this.item.details);
    this.#detailsRoom -= utf8Bytes(line) + 1;
    if (this.#detailsRoom < 0) {
      this.#logFull = true;
      line = formatDetailsLine(
        `Log full: details reached ${formatBytes(maxDetailsBytes)} bytes (maxDetailsBytes); later log lines of this attempt are dropped`,
        this.deps.now(),
      );
    }
    const write = this.#writes.then(() => this.deps.leases.appendDetails(this.item, line));
    this.#writes = write.catch((error: unknown) => this.deps.logger.warn(`could not log to task ${this.item.id}`, error));
    return this.#writes.then(() => undefined);
  }

  #setProgress(percent: unknown, data: unknown): void {
    const value = checkProgress(percent, data);
    if (this.#closed) return;
    this.#progress ??= new ProgressWriter((next) =>
      this.deps.leases
        .setProgress(this.item, next.percent, next.data)
        .catch((error: unknown) => this.deps.logger.warn(`could not write the progress of task ${this.item.id}`, error)),
    );
    this.#progress.set(value);
  }

  /** The reason the claim was lost while the handler ran, if it was. */
  lostClaim(): ClaimLostError | null {
    return this.#abortReason instanceof ClaimLostError ? this.#abortReason : null;
  }

  /** Aborts ctx.signal; the first reason stands (a claim lost, then a timeout: still lost). */
  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  close(): void {
    this.#closed = true;
    this.#progress?.close();
    this.#detach();
  }

  flushed(): Promise<unknown> {
    return this.#writes;
  }
}

/** taskstore's own compiled folders (this file is lib/queue/): their frames say nothing about the handler's failure. */
const OWN_FRAMES = ['lib/', 'runners/', 'adapters/'].map((folder) => new URL(`../../${folder}`, import.meta.url).pathname);

/**
 * Whether a stack line is a frame of the handler's code: not taskstore's own, not Node's
 * (`node:internal/…`, `processTicksAndRejections`, `node:events`), and not a built-in without
 * a file (`JSON.parse (<anonymous>)`, `Promise.all (index 0)`).
 */
function isHandlerFrame(line: string): boolean {
  if (!line.startsWith('at ') || OWN_FRAMES.some((own) => line.includes(own))) return false;
  const location = /\(([^()]*)\)$/.exec(line)?.[1] ?? line.slice(3).replace(/^async /, '');
  return !/^(node:|<anonymous>$|native$|index \d+$)/.test(location) && !line.includes('processTicksAndRejections');
}

/** The message and the first three stack frames of the handler's own code. */
function describeError(error: Error): string {
  const frames = (error.stack ?? '')
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter(isHandlerFrame)
    .slice(0, 3);
  return frames.length > 0 ? `${error.message} (${frames.join(' | ')})` : error.message;
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 6000) / 10} min`;
}
