/** What the grouped reads of a store answer (see docs/dashboard.md, "Reads for dashboards"). */
import type { TaskQueueStats } from './types.js';

/** Live (not soft-deleted) tasks of one queue by status. */
export interface QueueCounts {
  queueName: string;
  stats: TaskQueueStats;
  total: number;
}

/** Live tasks of one task definition by status. */
export interface DefinitionCounts {
  taskId: string;
  stats: TaskQueueStats;
  total: number;
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
