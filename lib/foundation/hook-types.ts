/**
 * The hooks a store takes (TaskStore.open `hooks`): callbacks around enqueueing and processing
 * for tracing and metrics, as `taskstore/otel` uses them (docs/observability.md). The core
 * knows only these shapes, never a tracing library.
 */
import type { TaskQueueItem, TaskStatus } from './queue-item-types.js';

/** The longest trace context a task stores (the `trace_context` column): a traceparent and a tracestate fit. */
export const MAX_TRACE_CONTEXT_LENGTH = 1024;

/** One enqueue call, before its rows are written. */
export interface EnqueueHookInfo {
  /** The queue ('default' when none was named); for a flow, the flow's queue. */
  readonly queueName: string;
  /** The definition's alias; null for a flow (its steps may have several). */
  readonly alias: string | null;
  /** How many tasks the call writes (a flow: its steps). */
  readonly count: number;
}

/**
 * Writes the tasks of the call with this trace context (null = none) and resolves the items
 * (for a debounced or throttled enqueue: the one item that holds the key).
 */
export type EnqueueRun = (traceContext: string | null) => Promise<readonly TaskQueueItem[]>;

/** One claimed task, about to be processed. */
export interface ProcessHookInfo {
  /** The claimed item: running, `attempts` counting this attempt, `traceContext` as stored at enqueue. */
  readonly item: TaskQueueItem;
  /** Its definition's alias ('' when the definition is gone). */
  readonly alias: string;
}

/** How an attempt ended (the `status` of ExecutionOutcome). */
export type ProcessStatus = 'success' | 'retry' | 'failed' | 'canceled' | 'snoozed' | 'lost';

export interface ProcessOutcome {
  readonly status: ProcessStatus;
  /** What made it fail (retry, failed, canceled, lost). */
  readonly error?: Error;
}

/** Runs the task (handler, timeout, final write) and resolves how the attempt ended; rejects when the final write failed. */
export type ProcessRun = () => Promise<ProcessOutcome>;

/** What a hook may read of the store it was given to. */
export interface HookedStore {
  /** Live tasks by queue and status, in one query (docs/dashboard.md, "Reads for dashboards"). */
  taskQueueCountsByQueue(): Promise<readonly { queueName: string; stats: Readonly<Record<TaskStatus, number>> }[]>;
  isClosed(): boolean;
}

/**
 * Callbacks a store calls; every one optional. With several hooks, the first in the list is
 * the outermost: its `aroundEnqueue` and `aroundProcess` wrap those of the next.
 */
export interface TaskStoreHooks {
  /**
   * Wraps the write of an enqueue call (one task, many, debounced or throttled, a flow; in the
   * caller's transaction or not). Must call `run` once, with the trace context to store with
   * the tasks (a string of at most 1024 characters, or null), and resolve or reject as it does.
   * When several hooks give a context, the innermost one's is stored.
   */
  aroundEnqueue?(info: EnqueueHookInfo, run: EnqueueRun): Promise<readonly TaskQueueItem[]>;
  /** Wraps the processing of one claimed task. Must call `run` once and resolve or reject as it does. */
  aroundProcess?(info: ProcessHookInfo, run: ProcessRun): Promise<ProcessOutcome>;
  /** The store opened (connected and migrated). */
  opened?(store: HookedStore): void;
  /** The store is closing: stop reading it. */
  closed?(store: HookedStore): void;
}

/** The callbacks a hook may have, each a function when present. */
export const HOOK_CALLBACKS = ['aroundEnqueue', 'aroundProcess', 'opened', 'closed'] as const satisfies readonly (keyof TaskStoreHooks)[];
