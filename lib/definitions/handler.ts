/**
 * Task handlers: what a user writes (`defineTask`) and what a run of it sees (`TaskContext`).
 */
import { invalidArgument } from '../foundation/errors.js';
import {
  MAX_ATTEMPTS_LIMIT,
  MAX_DELAY_MS,
  assertInteger,
  assertNonEmptyString,
  assertNonNegativeNumber,
  assertTimerDuration,
} from '../foundation/validate.js';
import type { JsonCompatible, JsonObject, JsonValue, TaskQueueItem } from '../foundation/types.js';
import type { ParentOutput } from '../foundation/flow-types.js';

export type BackoffType = 'fixed' | 'linear' | 'exponential';

export interface BackoffOptions {
  /** Default 'exponential'. */
  type?: BackoffType;
  /** Base delay. Default 1000 ms. */
  delayMs?: number;
  /** Cap on any one delay. Default 1 hour. */
  maxDelayMs?: number;
}

/**
 * What a handler finds in `ctx.params`: the parameters it was enqueued with, plus `task_alias`,
 * the alias of its task definition (always set; when run directly, the handler's alias).
 */
export type TaskParams<P> = P & { readonly task_alias: string };

/** One execution's view of the world. A fresh object per run: never shared between runs. */
export interface TaskContext<P extends JsonCompatible<P> = JsonObject> {
  /** The stored parameters, with `task_alias`. */
  readonly params: TaskParams<P>;
  /** A parameter as a string: numbers and booleans stringified, objects as JSON, '' when missing. */
  getParam(key: string): string;
  /** Appends `YYYY-MM-DD HH:MM:SS : message` (UTC) to the task's details, persisted now. */
  logInfo(message: string): Promise<void>;
  logError(message: string): Promise<void>;
  logSuccess(message: string): Promise<void>;
  /** Sets the task's output (free text; JSON is common). Persisted with the final write. */
  setOutput(text: string): void;
  /**
   * Reports progress: `percent` from 0 to 100, and optional JSON `data` (at most 8 KiB as
   * JSON); anything else throws INVALID_ARGUMENT. Written at most once per 500 ms per task
   * (the latest value at the end of each window; one still waiting when the attempt ends is
   * dropped), only while the claim holds; read back as `item.progress`.
   */
  setProgress(percent: number, data?: JsonValue): void;
  /**
   * Returns the marker that, returned from `handle`, puts the task back to queued for `ms`
   * milliseconds without using an attempt: `return ctx.snooze(30_000)`. Throws
   * INVALID_ARGUMENT for a negative or non-finite `ms`, or one over 3,650 days.
   */
  snooze(ms: number): TaskSnooze;
  /**
   * Aborted on timeout, when a runner stops with a grace timeout, and when the task's claim is
   * gone: canceled (taskQueueCancelById, from any process) or reclaimed by the sweep. Then
   * `signal.reason` is a ClaimLostError, and whatever the handler does next is not recorded.
   */
  readonly signal: AbortSignal;
  /** 1 on the first attempt. 1 as well when run directly. */
  readonly attempt: number;
  /** The queue item being processed, or null when the handler is run directly. */
  readonly task: TaskQueueItem | null;
  /** True when running from the queue, false when run directly (CLI, taskHandlerExecute). */
  hasQueuedTask(): boolean;
  /**
   * For a flow step: how each of its parent steps ended, by step key (status and output).
   * `{}` for a task outside any flow, a step without parents, and when run directly.
   */
  readonly parentOutputs: Readonly<Record<string, ParentOutput>>;
}

/** What `ctx.snooze(ms)` returns; a handler returns it to snooze its task. */
export interface TaskSnooze {
  readonly snoozeMs: number;
}

/**
 * What a handler returns: true or nothing = success; false = failure (retried while attempts
 * remain); `ctx.snooze(ms)` = back to queued in ms, no attempt used.
 */
export type TaskResult = boolean | void | TaskSnooze;

/** Markers made by ctx.snooze: only these snooze a task (a look-alike object is a success). */
const SNOOZES = new WeakSet<object>();

export function snoozeMarker(ms: unknown, name = 'ctx.snooze: ms'): TaskSnooze {
  assertNonNegativeNumber(ms, name, MAX_DELAY_MS);
  const marker = Object.freeze({ snoozeMs: ms });
  SNOOZES.add(marker);
  return marker;
}

export function isSnooze(value: unknown): value is TaskSnooze {
  return typeof value === 'object' && value !== null && SNOOZES.has(value);
}

export interface TaskHandler<P extends JsonCompatible<P> = JsonObject> {
  readonly alias: string;
  readonly title: string;
  readonly description: string;
  /** Attempts per task, including the first. Default 1 (no retry). */
  readonly maxAttempts: number;
  readonly backoff: Required<BackoffOptions>;
  /** Abort and fail the attempt after this long. Default: none. */
  readonly timeoutMs: number | null;
  handle(ctx: TaskContext<P>): Promise<TaskResult> | TaskResult;
}

export interface TaskHandlerDefinition<P extends JsonCompatible<P> = JsonObject> {
  alias: string;
  title?: string;
  description?: string;
  maxAttempts?: number;
  backoff?: BackoffOptions;
  timeoutMs?: number;
  handle(ctx: TaskContext<P>): Promise<TaskResult> | TaskResult;
}

export const DEFAULT_BACKOFF: Readonly<Required<BackoffOptions>> = Object.freeze({
  type: 'exponential',
  delayMs: 1000,
  maxDelayMs: 60 * 60 * 1000,
});

/**
 * Validates a handler definition once, at definition time, and freezes it. `P` types the
 * parameters: `ctx.params` here, and what `store.enqueue(task, params)` accepts.
 */
export function defineTask<P extends JsonCompatible<P> = JsonObject>(definition: TaskHandlerDefinition<P>): TaskHandler<P> {
  if (definition === null || typeof definition !== 'object') throw invalidArgument('defineTask: definition must be an object');
  const { alias, handle } = definition;
  assertAlias(alias, 'defineTask: alias');
  if (typeof handle !== 'function') throw invalidArgument(`defineTask(${alias}): handle must be a function`);
  const maxAttempts = definition.maxAttempts ?? 1;
  assertInteger(maxAttempts, `defineTask(${alias}): maxAttempts`, 1, MAX_ATTEMPTS_LIMIT);
  const timeoutMs = definition.timeoutMs ?? null;
  if (timeoutMs !== null) assertTimerDuration(timeoutMs, `defineTask(${alias}): timeoutMs`, 1);
  return Object.freeze({
    alias,
    title: definition.title ?? alias,
    description: definition.description ?? '',
    maxAttempts,
    backoff: resolveBackoff(definition.backoff, alias),
    timeoutMs,
    handle: handle.bind(definition),
  });
}

function resolveBackoff(options: BackoffOptions | undefined, alias: string): Required<BackoffOptions> {
  const backoff = { ...DEFAULT_BACKOFF, ...options };
  if (!['fixed', 'linear', 'exponential'].includes(backoff.type)) {
    throw invalidArgument(`defineTask(${alias}): backoff.type must be fixed, linear or exponential (got ${String(backoff.type)})`);
  }
  assertTimerDuration(backoff.delayMs, `defineTask(${alias}): backoff.delayMs`, 1, { allowZero: true });
  assertTimerDuration(backoff.maxDelayMs, `defineTask(${alias}): backoff.maxDelayMs`, 1, { allowZero: true });
  return Object.freeze(backoff);
}

/** Delay before the next attempt after `attempt` (1-based) failed. */
export function backoffDelayMs(backoff: Required<BackoffOptions>, attempt: number): number {
  const n = Math.max(1, attempt);
  const raw = backoff.type === 'fixed' ? backoff.delayMs : backoff.type === 'linear' ? backoff.delayMs * n : backoff.delayMs * 2 ** (n - 1);
  return Math.min(raw, backoff.maxDelayMs);
}

/** Handler lookup ignores case, '-' and '_': `my-task_name` is served by `MyTaskName`. */
export function normalizeAlias(alias: string): string {
  return alias.replace(/[-_\s]/g, '').toLowerCase();
}

/** The longest alias, and the longest normalised alias (the `alias_key` column), in UTF-16 units. */
export const MAX_ALIAS_LENGTH = 100;

/**
 * An alias a definition can hold: a non-empty string of at most 100 characters with a letter
 * or digit, whose normalised form fits the alias_key column too (lower-casing can lengthen a
 * text: 'İ' becomes 'i̇', two characters).
 */
export function assertAlias(alias: unknown, name: string): asserts alias is string {
  assertNonEmptyString(alias, name, MAX_ALIAS_LENGTH);
  const key = normalizeAlias(alias);
  if (key === '') throw invalidArgument(`${name} must contain letters or digits (got '${alias}')`);
  if (key.length > MAX_ALIAS_LENGTH) {
    throw invalidArgument(
      `${name} must be at most ${MAX_ALIAS_LENGTH} characters once normalised (lower-cased, without '-', '_' and spaces; got ${key.length})`,
    );
  }
}
