/** The shapes of the bulk actions on a filtered set of tasks (docs/operations.md). */
import type { TaskQueueQuery } from './types.js';

/**
 * Which tasks a bulk action takes: the list filter of `taskQueueList` without its paging and
 * order (a bulk action takes every match, in id order) and without soft-deleted rows.
 */
export type TaskQueueFilter = Omit<TaskQueueQuery, 'limit' | 'offset' | 'orderBy' | 'sortOrder' | 'includeSoftDeleted'>;

export interface BulkActionOptions {
  /** Count what the action would take, and write nothing (`changed` is 0). Default false. */
  dryRun?: boolean;
  /** Tasks per batch: one read and one transaction each. Integer 1 to 5,000; default 500. */
  batchSize?: number;
}

/** What a bulk action did. `matched` = `changed` + `skipped`. */
export interface BulkActionResult {
  /** Tasks of the filter in a state the action applies to, when the action read them. */
  matched: number;
  /** Tasks it changed. */
  changed: number;
  /** Matched tasks it left as they were: their state moved on meanwhile, or (requeue) their unique key was taken. */
  skipped: number;
  /** Of the skipped: tasks not requeued because another queued or running task holds their unique key. */
  conflicts: number;
}
