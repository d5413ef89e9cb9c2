/** What the grouped reads of a store answer (see docs/dashboard.md, "Reads for dashboards"). */
import type { TaskQueueStats, TaskStatus } from './types.js';

/** Live (not soft-deleted) tasks of one queue by status. */
export interface QueueCounts {
  queueName: string;
  /** With a `cap`, a count above it is the cap, and its status is listed in `capped`. */
  stats: TaskQueueStats;
  /** The sum of `stats`: at least that many when `capped` is not empty. */
  total: number;
  /** The statuses with more than `cap` tasks (their count in `stats` is the cap); empty without a cap. */
  capped: TaskStatus[];
}

/** Live tasks of one task definition by status. */
export interface DefinitionCounts {
  taskId: string;
  /** With a `cap`, a count above it is the cap, and its status is listed in `capped`. */
  stats: TaskQueueStats;
  /** The sum of `stats`: at least that many when `capped` is not empty. */
  total: number;
  /** The statuses with more than `cap` tasks (their count in `stats` is the cap); empty without a cap. */
  capped: TaskStatus[];
}

/** Options of taskQueueCountsByQueue (and queueList). */
export interface CountsByQueueOptions {
  /**
   * Count each queue and status up to this many tasks (1 to 1,000,000): a read of at most
   * cap + 1 index entries per group, whatever the size of the table. Default: exact counts,
   * which read every live task.
   */
  cap?: number;
}

/** Options of taskQueueCountsByDefinition. */
export interface CountsByDefinitionOptions extends CountsByQueueOptions {
  /** Only tasks of this queue ('' is the default queue). */
  queueName?: string;
  /** Only these definitions (at most 1000 ids): a page of definitions counts only its own. */
  taskIds?: readonly string[];
}

/** A count that stops at a cap: `count` is at most `cap`, and `capped` says there are more. */
export interface CappedCount {
  count: number;
  capped: boolean;
}

export interface ThroughputQuery {
  /** From this instant (rounded down to the minute). */
  since: Date;
  /** Up to this instant (exclusive, rounded up to the minute). Default: now. */
  until?: Date;
  /** Bucket width: a whole number of minutes, in milliseconds. @defaultValue 60000 */
  bucketMs?: number;
  /** One queue ('' is the default queue). Default: every queue. */
  queueName?: string;
}

/** Attempts that ended within one bucket, by how they ended. */
export interface ThroughputCounts {
  success: number;
  failed: number;
  canceled: number;
  /** Failed attempts that were queued again for another try. */
  retried: number;
}

export interface ThroughputBucket extends ThroughputCounts {
  /** Start of the bucket. */
  start: Date;
}

export interface Throughput {
  since: Date;
  until: Date;
  bucketMs: number;
  buckets: ThroughputBucket[];
  totals: ThroughputCounts;
}

export interface TimingsQuery {
  since: Date;
  /** Default: now. */
  until?: Date;
  /** One queue ('' is the default queue). Default: every queue, each on its own. */
  queueName?: string;
}

/**
 * Percentiles in milliseconds, each the upper bound of the histogram bucket it falls in
 * (5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10, 30 s, 1, 5, 30 min); Infinity when it is
 * over 30 minutes; null when nothing was recorded.
 */
export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

/** Per queue, over the period: attempts ended (by outcome), and their wait (due → started) and run (started → ended) times. */
export interface QueueTimings {
  queueName: string;
  count: number;
  outcomes: ThroughputCounts;
  waitMs: Percentiles;
  runMs: Percentiles;
}
