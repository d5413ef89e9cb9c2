/**
 * The vocabulary of flows (docs/flows.md): tasks that wait for other tasks. What a flow is
 * made of when enqueued, how a step meets a parent's failure, the flow as read back, and the
 * names of the two tables flows add.
 */
import type { Knex } from 'knex';
import type { JsonObject } from './json.js';
import type { TaskQueueItem, TaskStatus } from './types.js';

/**
 * What a step does when one of its parents did not succeed (failed, or canceled, skipped
 * included), once all its parents have finished. 'fail': it ends failed without running, and
 * its own dependents meet that failure in turn. 'skip': it ends canceled without running.
 * 'run': it runs anyway; `ctx.parentOutputs` says how each parent ended.
 */
export const ON_PARENT_FAILURE = ['fail', 'skip', 'run'] as const;
export type OnParentFailure = (typeof ON_PARENT_FAILURE)[number];

/** One step of a flow: a task of the definition with this alias, run once its parents finished. */
export interface FlowStepInput {
  /** The step's name within the flow: 1 to 100 characters, no U+0000. Unique in the flow. */
  key: string;
  /** The task definition to run. Unknown → NOT_FOUND. */
  alias: string;
  /** A plain JSON object. Default {}. */
  params?: JsonObject;
  /** Keys of the steps this one waits for. Default: none (it is queued at once). */
  dependsOn?: string[];
  /** Default 'fail'. */
  onParentFailure?: OnParentFailure;
  /** Default: the flow's queueName. */
  queueName?: string;
  /** Higher runs first once due. Default 0. */
  priority?: number;
  /** Default: the definition's maxAttempts. */
  maxAttempts?: number;
  /** Not before this many ms after the flow was enqueued (a step released later runs at its release). */
  delayMs?: number;
  /** Not before this instant (not with delayMs). */
  runAt?: Date;
}

export interface FlowEnqueueInput {
  /** The queue of every step that names none. Default 'default' ('' too). */
  queueName?: string;
  /** At least one step, at most MAX_FLOW_STEPS; dependencies must form no cycle. */
  steps: FlowStepInput[];
}

export interface FlowEnqueueOptions {
  /** Enqueue inside the caller's transaction: committed or rolled back with it. */
  transaction?: Knex.Transaction;
}

/** What `flowEnqueue` and `batchEnqueue` resolve: the flow's id and its items by step key. */
export interface FlowEnqueueResult {
  id: string;
  items: Record<string, TaskQueueItem>;
}

/**
 * running: some step is waiting, queued, running or paused. Once none is: failed when some
 * step failed, else canceled when some step was canceled (skipped steps included), else
 * succeeded.
 */
export const FLOW_STATUSES = ['running', 'succeeded', 'failed', 'canceled'] as const;
export type FlowStatus = (typeof FLOW_STATUSES)[number];

export interface Flow {
  id: string;
  /** The flow's default queue (each step may have its own). */
  queueName: string;
  status: FlowStatus;
  createdAt: Date;
  /** The steps' items by step key (steps purged or soft-deleted since are left out). */
  items: Record<string, TaskQueueItem>;
  /** Each step's parent keys, by step key. */
  dependsOn: Record<string, string[]>;
}

/** How a parent step ended, as its child sees it in `ctx.parentOutputs`. */
export interface ParentOutput {
  status: TaskStatus;
  output: string;
}

/** One task of a batch (`batchEnqueue`): a step with no parents. */
export type BatchTaskInput = Omit<FlowStepInput, 'key' | 'dependsOn' | 'onParentFailure'> & {
  /** Default `task-<index>`. */
  key?: string;
};

export interface BatchEnqueueInput {
  queueName?: string;
  /** At least one task. */
  tasks: BatchTaskInput[];
  /** Runs once every task has finished, however they ended (`ctx.parentOutputs` has them all). Key `onComplete`. */
  onComplete: Omit<FlowStepInput, 'key' | 'dependsOn' | 'onParentFailure'>;
}

/** The most steps one flow may have. */
export const MAX_FLOW_STEPS = 10_000;

/**
 * The flow table and the dependency table are named after the task queue table, so two
 * stores on different task queue tables never share them.
 */
export const flowTable = (taskQueue: string): string => `${taskQueue}_flow`;
export const dependencyTable = (taskQueue: string): string => `${taskQueue}_dependency`;
