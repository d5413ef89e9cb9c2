/**
 * Indexes for the grouped counts dashboards read (lib/queue/queue-insights.ts), so that a count
 * by queue and status, or by definition and status, seeks each group instead of reading every
 * live row of the queue table:
 *
 * - `<queue table>_status_queue_idx` on (status, queue_name) of live rows (partial where the
 *   dialect has partial indexes; MySQL indexes (status, queue_name, soft_deleted_at,
 *   available_at) whole, so that the oldest due task per queue is read from it alone too);
 * - `<queue table>_task_id_status_idx` on (task_id, status, soft_deleted_at), which takes the
 *   place of 001's `task_id_idx` (it serves every read by task_id that one did), so counts by
 *   definition add no index to the queue table's writes.
 *
 * Idempotent index by index. Building them reads the whole queue table once; see
 * docs/dashboard.md ("What it costs the database").
 */
import { ensureIndex, type IndexSpec } from './001-create-tables.js';
import type { Migration } from './migration.js';

/** The index of live tasks by (status, queue_name). */
export const statusQueueIndex = (taskQueue: string): string => `${taskQueue}_status_queue_idx`;
/** The index by (task_id, status, soft_deleted_at). */
export const taskIdStatusIndex = (taskQueue: string): string => `${taskQueue}_task_id_status_idx`;

/** The indexes this step adds to the queue table. */
export function dashboardCountIndexes(taskQueue: string): IndexSpec[] {
  return [
    {
      name: statusQueueIndex(taskQueue),
      columns: 'status, queue_name',
      where: 'soft_deleted_at IS NULL',
      fullColumns: 'status, queue_name, soft_deleted_at, available_at',
    },
    { name: taskIdStatusIndex(taskQueue), columns: 'task_id, status, soft_deleted_at' },
  ];
}

/** 001's index on task_id alone, which the (task_id, status, soft_deleted_at) index replaces. */
export const taskIdIndex = (taskQueue: string): string => `${taskQueue}_task_id_idx`;

export const dashboardCounts: Migration = {
  name: '008-dashboard-counts',

  async up(knex, { tables, adapter }) {
    const { taskQueue } = tables;
    let changed = false;
    for (const index of dashboardCountIndexes(taskQueue)) if (await ensureIndex(knex, adapter, taskQueue, index)) changed = true;
    if (await adapter.hasIndex(knex, taskQueue, taskIdIndex(taskQueue))) {
      changed = true;
      await knex.schema.alterTable(taskQueue, (table) => table.dropIndex(['task_id'], taskIdIndex(taskQueue)));
    }
    return changed;
  },

  async down(knex, { tables, adapter }) {
    const { taskQueue } = tables;
    if (!(await knex.schema.hasTable(taskQueue))) return;
    await ensureIndex(knex, adapter, taskQueue, { name: taskIdIndex(taskQueue), columns: 'task_id' });
    for (const index of dashboardCountIndexes(taskQueue)) {
      if (await adapter.hasIndex(knex, taskQueue, index.name))
        await knex.schema.alterTable(taskQueue, (table) => table.dropIndex([], index.name));
    }
  },
};
