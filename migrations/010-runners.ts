/**
 * The runners registry, `<queue table>_runners` (docs/runners.md, "The runners registry"):
 * one row per started TaskQueueRunner or ScheduleRunner, written at start and on every
 * registry heartbeat, deleted at stop; rows not seen for a while are stale and aged out.
 * A small table: one row per live runner, so no index beyond the key and last_seen_at (the
 * sweep's range). Idempotent: what exists is left alone.
 */
import { runnersTable } from '../lib/foundation/table-names.js';
import { ensureIndex } from './001-create-tables.js';
import type { Migration } from './migration.js';

export const runners: Migration = {
  name: '010-runners',

  async up(knex, { tables, adapter }) {
    const table = runnersTable(tables.taskQueue);
    let changed = false;
    if (!(await knex.schema.hasTable(table))) {
      changed = true;
      await knex.schema.createTable(table, (builder) => {
        adapter.configureTable(builder);
        builder.string('id', 36).primary();
        // 'queue' (a TaskQueueRunner) | 'schedule' (a ScheduleRunner)
        builder.string('kind', 20).notNullable();
        // The queue of a TaskQueueRunner; null for a ScheduleRunner.
        builder.string('queue_name', 100).nullable();
        builder.string('host', 255).notNullable();
        builder.integer('pid').notNullable();
        builder.integer('concurrency').nullable();
        builder.integer('prefetch').nullable();
        builder.integer('poll_interval_ms').notNullable();
        builder.integer('active_count').notNullable().defaultTo(0);
        builder.datetime('started_at', { precision: 3, useTz: true }).notNullable();
        builder.datetime('last_seen_at', { precision: 3, useTz: true }).notNullable();
      });
    }
    if (await ensureIndex(knex, adapter, table, { name: `${table}_seen_idx`, columns: 'last_seen_at' })) changed = true;
    if (await adapter.useExactComparison(knex, [table])) changed = true;
    return changed;
  },

  async down(knex, { tables }) {
    await knex.schema.dropTableIfExists(runnersTable(tables.taskQueue));
  },
};
