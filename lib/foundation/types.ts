/**
 * The public data shapes of taskstore: entities, queries and options.
 * Behaviour lives elsewhere; this file only names things.
 */
import type { Knex } from 'knex';
import type { JsonObject } from './json.js';
import type { RecurrenceRule } from './recurrence-rule.js';

export type { RecurrenceRule };
export type { JsonCompatible, JsonObject, JsonPrimitive, JsonValue, NoInference } from './json.js';
export type { Logger, TableNameOptions, TaskStoreOptions } from './store-options-types.js';
export type { QueueConfigureInput, QueueSettings, RateLimit } from './queue-settings-types.js';
export { TASK_STATUSES, type TaskProgress, type TaskQueueItem, type TaskStatus } from './queue-item-types.js';
import { TASK_STATUSES, type TaskQueueItem, type TaskStatus } from './queue-item-types.js';
import type { QueueSettings } from './queue-settings-types.js';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export type SortOrder = 'asc' | 'desc';

// ---------------------------------------------------------------------------
// Task definitions

export const TASK_DEFINITION_STATUSES = ['active', 'canceled'] as const;
export type TaskDefinitionStatus = (typeof TASK_DEFINITION_STATUSES)[number];

export interface TaskDefinition {
  id: string;
  alias: string;
  title: string;
  description: string;
  memo: string;
  status: TaskDefinitionStatus;
  /** Attempts a task enqueued for this definition gets unless the enqueue says otherwise. */
  maxAttempts: number;
  createdAt: Date;
  updatedAt: Date;
  /** null = live. */
  softDeletedAt: Date | null;
}

export interface TaskDefinitionCreateInput {
  alias: string;
  title?: string;
  description?: string;
  memo?: string;
  status?: TaskDefinitionStatus;
  /** Default 1 (no retry). */
  maxAttempts?: number;
}

/** `taskDefinitionUpdate` takes the entity (or any part of it) with its id. */
export type TaskDefinitionUpdateInput = { id: string } & Partial<
  Pick<TaskDefinition, 'alias' | 'title' | 'description' | 'memo' | 'status' | 'maxAttempts'>
>;

export const TASK_DEFINITION_ORDER_BY = ['id', 'alias', 'title', 'status', 'createdAt', 'updatedAt'] as const;
export type TaskDefinitionOrderBy = (typeof TASK_DEFINITION_ORDER_BY)[number];

export interface TaskDefinitionQuery {
  id?: string;
  ids?: string[];
  alias?: string;
  status?: TaskDefinitionStatus;
  statuses?: TaskDefinitionStatus[];
  createdFrom?: Date;
  createdTo?: Date;
  limit?: number;
  offset?: number;
  orderBy?: TaskDefinitionOrderBy;
  sortOrder?: SortOrder;
  includeSoftDeleted?: boolean;
}

// ---------------------------------------------------------------------------
// Task queue

export interface TaskQueueCreateInput {
  taskId: string;
  queueName?: string;
  parameters?: JsonObject;
  status?: TaskStatus;
  priority?: number;
  maxAttempts?: number;
  availableAt?: Date;
  uniqueKey?: string;
  /** The group the queue's group limits count it in. */
  group?: string;
  output?: string;
  details?: string;
}

/** `taskQueueUpdate` takes the item (or any editable part of it) with its id. */
export type TaskQueueUpdateInput = { id: string } & Partial<
  Pick<TaskQueueItem, 'queueName' | 'status' | 'parameters' | 'output' | 'details' | 'priority' | 'maxAttempts' | 'availableAt'>
>;

export const TASK_QUEUE_ORDER_BY = [
  'id',
  'queueName',
  'status',
  'priority',
  'attempts',
  'availableAt',
  'startedAt',
  'completedAt',
  'createdAt',
  'updatedAt',
] as const;
export type TaskQueueOrderBy = (typeof TASK_QUEUE_ORDER_BY)[number];

export interface TaskQueueQuery {
  id?: string;
  ids?: string[];
  queueName?: string;
  taskId?: string;
  status?: TaskStatus;
  statuses?: TaskStatus[];
  createdFrom?: Date;
  createdTo?: Date;
  limit?: number;
  offset?: number;
  orderBy?: TaskQueueOrderBy;
  sortOrder?: SortOrder;
  includeSoftDeleted?: boolean;
  /** Parameters whose stored JSON text contains this, ignoring case (ASCII case on SQLite); `%`, `_` match themselves. */
  parametersText?: string;
  /** Exactly this unique key. */
  uniqueKey?: string;
  /** A unique key that starts with this (case-sensitive). */
  uniqueKeyPrefix?: string;
}

export interface EnqueueOptions {
  /** Run no sooner than this many milliseconds from now. */
  delayMs?: number;
  /** Run no sooner than this instant (wins over delayMs when both are given: rejected). */
  runAt?: Date;
  /** Higher runs first. Integer, default 0. */
  priority?: number;
  /** Default: the definition's maxAttempts (1 unless the handler or definition says more). */
  maxAttempts?: number;
  /** At most one queued/running item per key; a second enqueue rejects with ALREADY_EXISTS. */
  uniqueKey?: string;
  /**
   * With `uniqueKey`: while a queued (not yet running) task holds the key, replace its
   * parameters and push its start to now + debounceMs instead of enqueueing; otherwise enqueue
   * with this delay. Not with delayMs, runAt or throttleMs. See docs/live-control.md.
   */
  debounceMs?: number;
  /**
   * With `uniqueKey`: drop this enqueue while a task with the key is queued, running or paused,
   * or started less than throttleMs ago. Not with debounceMs. See docs/live-control.md.
   */
  throttleMs?: number;
  /**
   * The group the queue's groupConcurrency and groupRateLimit count the task in, e.g.
   * 'account:42' (non-empty, at most 255 characters). Default: none.
   */
  group?: string;
  /** Enqueue inside the caller's transaction: committed or rolled back with it. */
  transaction?: Knex.Transaction;
}

/** Enqueue options that debounce or throttle: the result says what the enqueue did. */
export type DebouncedEnqueueOptions = EnqueueOptions & ({ debounceMs: number } | { throttleMs: number });

/**
 * What a debounced or throttled enqueue did. 'enqueued': a new task (the item); 'debounced':
 * the queued task holding the key got the new parameters and a later start (the item as
 * updated); 'throttled': nothing was written (the item is the task that caused the drop).
 */
export type EnqueueOutcome = 'enqueued' | 'debounced' | 'throttled';

/** The result of a debounced or throttled enqueue: the item, and what happened. */
export type EnqueueResult = TaskQueueItem & { outcome: EnqueueOutcome };

/** The batch form takes the same options, except those of a unique key, which apply to one task. */
export type EnqueueManyOptions = Omit<EnqueueOptions, 'uniqueKey' | 'debounceMs' | 'throttleMs'>;

/** Options of `store.enqueue(task, params, options)`: those of EnqueueOptions, plus the queue. */
export interface TaskEnqueueOptions extends EnqueueOptions {
  /** The queue. Default 'default' ('' too). */
  queueName?: string;
}

/** `store.enqueue` options that debounce or throttle: the result says what the enqueue did. */
export type DebouncedTaskEnqueueOptions = TaskEnqueueOptions & ({ debounceMs: number } | { throttleMs: number });

/** Options of `store.enqueueMany(task, paramsList, options)`. */
export type TaskEnqueueManyOptions = Omit<TaskEnqueueOptions, 'uniqueKey' | 'debounceMs' | 'throttleMs'>;

export type TaskQueueStats = Record<TaskStatus, number>;

/** Stats with every status at 0, to count into. */
export const emptyTaskStats = (): TaskQueueStats => Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as TaskQueueStats;

/**
 * One queue in `queueList()`: its settings and its items by status; with a `cap`, the statuses
 * counted only up to it are in `capped` (empty otherwise).
 */
export type QueueListEntry = QueueSettings & { stats: TaskQueueStats; capped: TaskStatus[] };

/** Options of a runner's claim (`queueClaim`). */
export interface QueueClaimOptions {
  /** The caller believes the queue has settings: the fast claim is not tried first. */
  limited?: boolean;
  /**
   * Items the caller claimed whose handlers have returned but whose finishing writes have not
   * landed yet (at most 1,000). A concurrency limit does not count them as running: their
   * handlers no longer run, so the next claim need not wait for the write. Each is matched on
   * its (id, claim token): an item reclaimed meanwhile by another claim still counts.
   */
  settled?: readonly Pick<TaskQueueItem, 'id' | 'claimToken'>[];
}

/** What a runner's claim (`queueClaim`) learned besides the items. */
export interface QueueClaim {
  items: TaskQueueItem[];
  /** The queue's settings as the claim read them; undefined when it did not read them (the fast claim took items). */
  settings?: QueueSettings;
  /** A rate limit held the claim back: the next start may be allowed in this many ms (a hint). */
  waitMs: number | null;
  /** A concurrency limit (the queue's or a group's) held the claim back: a finish frees a slot. */
  full: boolean;
}

export interface TaskQueuePurgeOptions {
  /** Items last written before this instant are purged (a finished item's last write is its finish). */
  olderThan: Date;
  /** Default: the finished ones: success, failed, canceled. */
  statuses?: TaskStatus[];
  queueName?: string;
  /** Rows deleted per statement, 1 to 10,000 (default 1,000): each batch is a statement of its own. */
  batchSize?: number;
}

// ---------------------------------------------------------------------------
// Schedules (see docs/schedules.md)

/**
 * draft: being prepared, never fires. active: fires at nextRunAt. inactive: paused by hand,
 * or by the runner when its task definition is gone (lastError says why). completed: no
 * further occurrence (rule ended, endAt or maxExecutionCount reached).
 */
export const SCHEDULE_STATUSES = ['draft', 'active', 'inactive', 'completed'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

export interface Schedule {
  id: string;
  name: string;
  description: string;
  status: ScheduleStatus;
  taskDefinitionId: string;
  /** The queue its tasks are enqueued into. */
  queueName: string;
  /** The parameters every enqueued task gets (plus `task_alias`). */
  parameters: JsonObject;
  /** The timing: a recurrence rule (normalised, startsAt/endsAt as Dates) or a cron expression. */
  recurrenceRule: RecurrenceRule | null;
  cron: string | null;
  /** IANA zone the timing is read in. 'UTC' unless given. */
  timezone: string;
  /** No occurrence after this instant fires; reaching it completes the schedule. */
  endAt: Date | null;
  /** Tasks enqueued so far. */
  executionCount: number;
  /** 0 = unlimited; reaching it completes the schedule. */
  maxExecutionCount: number;
  lastRunAt: Date | null;
  /** When the runner enqueues next. Set while active; null otherwise. */
  nextRunAt: Date | null;
  /** Why the runner last refused to enqueue (e.g. the task definition is gone); null when fine. */
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  softDeletedAt: Date | null;
}

export interface ScheduleCreateInput {
  name: string;
  /** The task definition to enqueue, by id or by alias (exactly one of the two). */
  taskDefinitionId?: string;
  alias?: string;
  description?: string;
  /** Default 'default' ('' too). */
  queueName?: string;
  /** A plain JSON object. Default {}. */
  parameters?: JsonObject;
  /** Default 'active'. */
  status?: ScheduleStatus;
  /** Exactly one of recurrenceRule and cron. */
  recurrenceRule?: RecurrenceRule;
  cron?: string;
  /** Default 'UTC'. */
  timezone?: string;
  /** A Date or an ISO 8601 string with an offset. Default: none. */
  endAt?: Date | string | null;
  /** Default 0 = unlimited. */
  maxExecutionCount?: number;
}

/**
 * `scheduleUpdate` takes the id and the fields to change (or the whole entity: read-only
 * fields are ignored). Giving `cron` replaces a recurrence rule and vice versa; null clears
 * `endAt` and `timezone` (back to UTC).
 */
export type ScheduleUpdateInput = { id: string } & Partial<{
  name: string;
  description: string;
  status: ScheduleStatus;
  taskDefinitionId: string;
  alias: string;
  queueName: string;
  parameters: JsonObject;
  recurrenceRule: RecurrenceRule | null;
  cron: string | null;
  timezone: string | null;
  endAt: Date | string | null;
  maxExecutionCount: number;
}> &
  Partial<Pick<Schedule, 'executionCount' | 'lastRunAt' | 'nextRunAt' | 'lastError' | 'createdAt' | 'updatedAt' | 'softDeletedAt'>>;

export const SCHEDULE_ORDER_BY = [
  'id',
  'name',
  'status',
  'queueName',
  'nextRunAt',
  'lastRunAt',
  'executionCount',
  'createdAt',
  'updatedAt',
] as const;
export type ScheduleOrderBy = (typeof SCHEDULE_ORDER_BY)[number];

export interface ScheduleQuery {
  id?: string;
  ids?: string[];
  name?: string;
  status?: ScheduleStatus;
  statuses?: ScheduleStatus[];
  queueName?: string;
  taskDefinitionId?: string;
  createdFrom?: Date;
  createdTo?: Date;
  limit?: number;
  offset?: number;
  orderBy?: ScheduleOrderBy;
  sortOrder?: SortOrder;
  includeSoftDeleted?: boolean;
}

/** What `scheduleFire` did with one due schedule. */
export type ScheduleFireResult =
  /** Claimed and enqueued; `schedule` is the row after the claim (completed when that was its last run). */
  | { outcome: 'fired'; schedule: Schedule; item: TaskQueueItem }
  /** Its endAt or maxExecutionCount was already reached: completed without enqueueing. */
  | { outcome: 'completed'; schedule: Schedule }
  /** It could not enqueue for good (definition gone or canceled, …): set inactive with lastError. */
  | { outcome: 'deactivated'; schedule: Schedule; reason: string }
  /** Not due, or another runner claimed this occurrence (or it was edited) first. */
  | { outcome: 'skipped' };
