/**
 * The trace context column (`trace_context` on the queue table, NULL unless a store's hooks
 * give one): the W3C `traceparent` of the enqueue, and its `tracestate` when there is one,
 * so the span that processes the task can link to the span that enqueued it
 * (docs/observability.md). At most MAX_TRACE_CONTEXT_LENGTH characters. Idempotent; `down`
 * drops it.
 */
import { MAX_TRACE_CONTEXT_LENGTH } from '../lib/foundation/hook-types.js';
import type { Migration } from './migration.js';

const COLUMN = 'trace_context';

export const traceContext: Migration = {
  name: '009-trace-context',

  async up(knex, { tables }) {
    if (await knex.schema.hasColumn(tables.taskQueue, COLUMN)) return false;
    await knex.schema.alterTable(tables.taskQueue, (builder) => {
      builder.string(COLUMN, MAX_TRACE_CONTEXT_LENGTH).nullable();
    });
    return true;
  },

  async down(knex, { tables }) {
    if (!(await knex.schema.hasTable(tables.taskQueue))) return;
    // ALTER TABLE … DROP COLUMN on every dialect (SQLite since 3.35): no table rebuild.
    if (await knex.schema.hasColumn(tables.taskQueue, COLUMN)) await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [tables.taskQueue, COLUMN]);
  },
};
