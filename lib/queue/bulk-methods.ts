/**
 * The operations methods of the TaskStore facade (see lib/store/store-facade.ts for the
 * chain): bulk actions on a filtered set of tasks, in batches, and "run now" of a delayed
 * task. What each does is in docs/operations.md.
 */
import type { BulkActionOptions, BulkActionResult, TaskQueueFilter } from '../foundation/bulk-types.js';
import type { TaskQueueItem } from '../foundation/types.js';
import { InsightMethods } from './insight-methods.js';

export abstract class BulkMethods extends InsightMethods {
  /**
   * Requeues every failed or canceled task the filter selects (as taskQueueRequeueById does
   * each), in batches of `batchSize` (default 500). A task whose unique key another queued or
   * running task holds is skipped and counted in `conflicts`. A status filter other than
   * failed or canceled is INVALID_ARGUMENT. `dryRun` counts without writing.
   */
  taskQueueRequeueMany(filter: TaskQueueFilter, options?: BulkActionOptions): Promise<BulkActionResult> {
    return this.run('taskQueueRequeueMany', () => this.parts.bulk.requeueMany(filter, options));
  }

  /**
   * Cancels every queued, paused, waiting or running task the filter selects (as
   * taskQueueCancelById does each: a running one's handler is told through ctx.signal, and
   * its late finish is fenced out), in batches. Other status filters are INVALID_ARGUMENT.
   */
  taskQueueCancelMany(filter: TaskQueueFilter, options?: BulkActionOptions): Promise<BulkActionResult> {
    return this.run('taskQueueCancelMany', () => this.parts.bulk.cancelMany(filter, options));
  }

  /** Soft-deletes every live task the filter selects, whatever its status (as taskQueueSoftDeleteById does each), in batches. */
  taskQueueSoftDeleteMany(filter: TaskQueueFilter, options?: BulkActionOptions): Promise<BulkActionResult> {
    return this.run('taskQueueSoftDeleteMany', () => this.parts.bulk.softDeleteMany(filter, options));
  }

  /**
   * A queued task due later (delayed, or backed off after a failure) becomes due now; one
   * already due is left in its place. Another status is INVALID_STATE; an unknown id NOT_FOUND.
   */
  taskQueueRunNowById(id: string): Promise<TaskQueueItem> {
    return this.run('taskQueueRunNowById', () => this.parts.transitions.runNowById(id));
  }
}
