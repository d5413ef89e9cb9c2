/**
 * Queues as cluster-wide settings (docs/flow-control.md): the settings table (pause,
 * concurrency and rate limits per queue), the starts ledger that rate limits count, and the
 * task's group. Idempotent step by step: a column, table or index that exists is left alone,
 * so a run that was interrupted (MySQL cannot roll DDL back) is completed by the next one.
 *
 * No new index on the task queue: the limited claim counts running rows of one queue, which
 * the running index (PostgreSQL, SQLite) or the claim index (MySQL) finds, and there are only
 * as many of those as runners have slots; an index on the group would cost every claim and
 * finish of every queue.
 */
import type { Knex } from 'knex';
import { queueSettingsTable, queueStartsTable } from '../lib/foundation/table-names.js';
import { ensureIndex } from './001-create-tables.js';
import type { Migration } from './migration.js';

const timestamp = (table: Knex.CreateTableBuilder, name: string) => table.datetime(name, { precision: 3, useTz: true });

export const queueSettings: Migration = {
  name: '004-queue-settings',

  async up(knex: Knex, { tables, adapter }): Promise<boolean> {
    const settings = queueSettingsTable(tables.taskQueue);
    const starts = queueStartsTable(tables.taskQueue);
    let changed = false;
    if (!(await knex.schema.hasColumn(tables.taskQueue, 'group_key'))) {
      changed = true;
      await knex.schema.alterTable(tables.taskQueue, (table) => {
        table.string('group_key', 255).nullable();
      });
    }
    if (!(await knex.schema.hasTable(settings))) {
      changed = true;
      await knex.schema.createTable(settings, (table) => {
        adapter.configureTable(table);
        table.string('queue_name', 100).primary();
        table.boolean('paused').notNullable().defaultTo(false);
        table.integer('concurrency').nullable();
        table.integer('group_concurrency').nullable();
        table.integer('rate_count').nullable();
        table.integer('rate_period_ms').nullable();
        table.integer('group_rate_count').nullable();
        table.integer('group_rate_period_ms').nullable();
        // paused, or any limit set: the fast claim's guard looks at this one column.
        table.boolean('gated').notNullable().defaultTo(false);
        // Moves on every write: the polled change probe sums it to see a settings change.
        table.integer('version').notNullable().defaultTo(0);
        timestamp(table, 'updated_at').notNullable();
      });
    }
    if (!(await knex.schema.hasTable(starts))) {
      changed = true;
      await knex.schema.createTable(starts, (table) => {
        adapter.configureTable(table);
        table.string('queue_name', 100).notNullable();
        table.string('group_key', 255).nullable();
        timestamp(table, 'started_at').notNullable();
      });
    }
    for (const index of [
      { name: `${starts}_window_idx`, columns: 'queue_name, started_at' },
      { name: `${starts}_group_idx`, columns: 'queue_name, group_key, started_at' },
    ]) {
      if (await ensureIndex(knex, adapter, starts, index)) changed = true;
    }
    if (await adapter.useExactComparison(knex, [settings, starts])) changed = true;
    return changed;
  },

  async down(knex: Knex, { tables }): Promise<void> {
    await knex.schema.dropTableIfExists(queueStartsTable(tables.taskQueue));
    await knex.schema.dropTableIfExists(queueSettingsTable(tables.taskQueue));
    if ((await knex.schema.hasTable(tables.taskQueue)) && (await knex.schema.hasColumn(tables.taskQueue, 'group_key'))) {
      await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [tables.taskQueue, 'group_key']);
    }
  },
};
