/**
 * The public data shapes of taskstore: entities, queries and options.
 * Behaviour lives elsewhere; this file only names things.
 */
import type { Knex } from 'knex';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

/** Anything with the four usual log methods (console qualifies). */
export interface Logger {
  debug(message: string, ...meta: unknown[]): void;
  info(message: string, ...meta: unknown[]): void;
  warn(message: string, ...meta: unknown[]): void;
  error(message: string, ...meta: unknown[]): void;
}

export type JsonObject = Record<string, unknown>;
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

export const TASK_STATUSES = ['queued', 'running', 'success', 'failed', 'canceled', 'paused'] as const;
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
  availableAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  heartbeatAt: Date | null;
  /**
   * The lease of the current claim (null unless running). Every write that finishes the task
   * presents it, so a worker whose task was reclaimed cannot overwrite the newer state.
   */
  claimToken: string | null;
  createdAt: Date;
  updatedAt: Date;
  softDeletedAt: Date | null;
}

export interface TaskQueueCreateInput {
  taskId: string;
  queueName?: string;
  parameters?: JsonObject;
  status?: TaskStatus;
  priority?: number;
  maxAttempts?: number;
  availableAt?: Date;
  uniqueKey?: string;
  output?: string;
  details?: string;
}

/** `taskQueueUpdate` takes the item (or any editable part of it) with its id. */
export type TaskQueueUpdateInput = { id: string } & Partial<
  Pick<
    TaskQueueItem,
    'queueName' | 'status' | 'parameters' | 'output' | 'details' | 'priority' | 'maxAttempts' | 'availableAt'
  >
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
  /** Enqueue inside the caller's transaction: committed or rolled back with it. */
  transaction?: Knex.Transaction;
}

export type TaskQueueStats = Record<TaskStatus, number>;

export interface TaskQueuePurgeOptions {
  /** Items created before this instant are purged. */
  olderThan: Date;
  /** Default: the finished ones: success, failed, canceled. */
  statuses?: TaskStatus[];
  queueName?: string;
}

// ---------------------------------------------------------------------------
// Store options

export interface TaskStoreOptions {
  /**
   * 'sqlite:./file.db' | 'sqlite::memory:' | 'postgres://…' | 'mysql://…' (MariaDB too),
   * a Knex.Config, or a Knex instance (then the caller owns and closes it).
   * Default: TASKSTORE_DATABASE_URL, then 'sqlite:./taskstore.db'.
   */
  database?: string | Knex.Config | Knex;
  /** Default 'task_definition'. */
  taskDefinitionTableName?: string;
  /** Default 'task_queue'. */
  taskQueueTableName?: string;
  /** Default 'task_schedule'. */
  scheduleTableName?: string;
  /** Run migrateUp() on open. Default true. */
  automigrate?: boolean;
  /** Default: silent. */
  logger?: Logger;
  /**
   * How often a running task's heartbeat is refreshed while its handler runs. Default 30 s.
   * Runners lower it to stay well inside their unstuckMinutes.
   */
  heartbeatIntervalMs?: number;
  /**
   * PostgreSQL only. By default claims, heartbeats and finishing writes commit without
   * waiting for the WAL flush (synchronous_commit off for those statements alone): a
   * database crash may then forget the last moments of them, which re-runs those tasks, as
   * any crash can under at-least-once delivery. Enqueues always wait. true = every write waits.
   */
  synchronousStateWrites?: boolean;
}
