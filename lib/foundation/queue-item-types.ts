/**
 * A queued execution and its status (re-exported by types.ts): apart, so that the hook
 * shapes (hook-types.ts), which the store options name, can use it without an import cycle.
 */
import type { JsonObject, JsonValue } from './json.js';

/** 'waiting': a flow step whose parent steps have not all finished yet (docs/flows.md). */
export const TASK_STATUSES = ['queued', 'running', 'success', 'failed', 'canceled', 'paused', 'waiting'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface TaskQueueItem {
  id: string;
  taskId: string;
  queueName: string;
  status: TaskStatus;
  parameters: JsonObject;
  output: string;
  details: string;
  attempts: number;
  maxAttempts: number;
  priority: number;
  /** At most one queued/running item holds a given key. */
  uniqueKey: string | null;
  /** The group the queue's group limits count it in (e.g. 'account:42'); null = none. */
  group: string | null;
  availableAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  heartbeatAt: Date | null;
  /**
   * The lease of the current claim (null unless running). Every write that finishes the task
   * presents it, so a worker whose task was reclaimed cannot overwrite the newer state.
   */
  claimToken: string | null;
  /** The flow this item is a step of (docs/flows.md), or null. */
  flowId: string | null;
  /** Its step key within that flow, or null. */
  flowKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  softDeletedAt: Date | null;
  /**
   * What the handler last reported through `ctx.setProgress`, or null when it never did.
   * Kept when the task runs again (a retry, a snooze, a reclaim) until the handler reports anew.
   */
  progress: TaskProgress | null;
  /**
   * The W3C trace context of the enqueue that made it (`traceparent`, then a space and the
   * `tracestate` when there is one), as a store's hooks gave it (`taskstore/otel`:
   * docs/observability.md); null without hooks.
   */
  traceContext: string | null;
}

/** A running task's progress, as the handler reported it (docs/live-control.md). */
export interface TaskProgress {
  /** 0 to 100. */
  percent: number;
  /** The JSON value given with it, or null. */
  data: JsonValue | null;
  /** When it was written. */
  updatedAt: Date;
}
