/** The options of TaskStore.open and the logger they take (re-exported by types.ts). */
import type { Knex } from 'knex';
import type { TaskStoreHooks } from './hook-types.js';

/** Anything with the four usual log methods (console qualifies). */
export interface Logger {
  debug(message: string, ...meta: unknown[]): void;
  info(message: string, ...meta: unknown[]): void;
  warn(message: string, ...meta: unknown[]): void;
  error(message: string, ...meta: unknown[]): void;
}

/** The three table names (TaskStore.open, and the migration source of `taskstore/migrations`). */
export interface TableNameOptions {
  /**
   * Table of task definitions: a plain SQL identifier of up to 40 characters.
   * @defaultValue 'task_definition'
   */
  taskDefinitionTableName?: string;
  /**
   * Table of queued executions: a plain SQL identifier of up to 40 characters.
   * @defaultValue 'task_queue'
   */
  taskQueueTableName?: string;
  /**
   * Table of schedules: a plain SQL identifier of up to 40 characters.
   * @defaultValue 'task_schedule'
   */
  scheduleTableName?: string;
}

export interface TaskStoreOptions extends TableNameOptions {
  /**
   * 'sqlite:./file.db' | 'sqlite::memory:' | 'postgres://…' | 'mysql://…' (MariaDB too),
   * a Knex.Config, or a Knex instance (then the caller owns and closes it).
   * @defaultValue TASKSTORE_DATABASE_URL when set and not empty, else 'sqlite:./taskstore.db'
   */
  database?: string | Knex.Config | Knex;
  /**
   * Run migrateUp() on open.
   * @defaultValue true
   */
  automigrate?: boolean;
  /**
   * Where taskstore reports what it cannot throw (background failures, warnings).
   * @defaultValue a silent logger
   */
  logger?: Logger;
  /**
   * How often a running task's heartbeat is refreshed while its handler runs, in
   * milliseconds (at most 2^31 − 1, a Node timer's limit). Runners lower it to stay well
   * inside their unstuckMinutes.
   * @defaultValue 30000
   */
  heartbeatIntervalMs?: number;
  /**
   * PostgreSQL only. By default claims, heartbeats and finishing writes commit without
   * waiting for the WAL flush (synchronous_commit off for those statements alone): a
   * database crash may then forget the last moments of them, which re-runs those tasks, as
   * any crash can under at-least-once delivery. Enqueues always wait. true = every write waits.
   * @defaultValue false
   */
  synchronousStateWrites?: boolean;
  /**
   * How often, in milliseconds, the attempts this store ended are added to the metrics table
   * (counts by outcome, wait and run time histograms per minute and queue), which the
   * dashboard's throughput and timing charts and taskQueueThroughput/taskQueueTimings read.
   * 0 records nothing. Counts of a process that dies before its next write are lost.
   * @defaultValue 10000
   */
  metricsIntervalMs?: number;
  /**
   * How often, in milliseconds, each started TaskQueueRunner and ScheduleRunner writes its row
   * in the runners registry (runnerList, `taskstore runners`, the dashboard's runners page).
   * A row not written for three times this long is stale: no longer listed, and deleted by
   * the next registry write of any runner. Give every process sharing the database the same
   * value (a reader with a shorter one takes slower writers for stale).
   * @defaultValue 10000
   */
  runnerHeartbeatIntervalMs?: number;
  /**
   * PostgreSQL and MySQL, on connections taskstore opens (a URL or a Knex.Config, not your own
   * Knex instance): a statement that gets no answer within this many milliseconds closes its
   * connection, so a half-open network fails the statement instead of hanging it; writes
   * that are safe to repeat are retried on a fresh connection. Raise it for migrations or
   * purges that run longer; 0 turns the deadline off. See docs/guarantees.md.
   * @defaultValue 30000
   */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL and MariaDB, on connections taskstore opens: the server ends a session that
   * stays idle inside a transaction this long, so the row locks of a worker frozen mid-claim
   * (or of any stuck transaction on `store.knex`) are released. At least 1000 (MariaDB counts
   * whole seconds). Raise it if you hold transactions on `store.knex` open longer.
   * @defaultValue 60000
   */
  idleTransactionTimeoutMs?: number;
  /**
   * The most UTF-8 bytes a task's (or schedule's) parameters may take as JSON, `task_alias`
   * included. Larger parameters reject with INVALID_ARGUMENT before anything is written.
   * 1 KiB to 256 MiB; on MySQL/MariaDB keep it well under max_allowed_packet.
   * @defaultValue 1048576 (1 MiB)
   */
  maxParametersBytes?: number;
  /**
   * The most UTF-8 bytes of a task's output. taskQueueCreate and taskQueueUpdate reject a
   * larger output with INVALID_ARGUMENT; a handler's larger output is cut to this size, with
   * a details line saying so. 1 KiB to 256 MiB.
   * @defaultValue 1048576 (1 MiB)
   */
  maxOutputBytes?: number;
  /**
   * The most UTF-8 bytes of `details` that taskQueueCreate and taskQueueUpdate accept, and of
   * log lines a handler may add to one task: once its details reach this size, further
   * ctx.log* lines are dropped (one line says so). taskstore's own lines are always written.
   * 1 KiB to 256 MiB.
   * @defaultValue 1048576 (1 MiB)
   */
  maxDetailsBytes?: number;
  /**
   * Callbacks around enqueueing and processing, for tracing and metrics: `[openTelemetry()]`
   * from `taskstore/otel` (docs/observability.md), or objects of your own with any of
   * `aroundEnqueue`, `aroundProcess`, `opened` and `closed`. The first is the outermost.
   * @defaultValue [] (none; enqueueing and processing then call nothing extra)
   */
  hooks?: readonly TaskStoreHooks[];
}
