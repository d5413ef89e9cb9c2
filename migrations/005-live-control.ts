/**
 * Live control of running tasks (docs/live-control.md): the progress a handler reports
 * (`progress_percent`, `progress_data`, `progress_updated_at` on the queue table, all NULL
 * until a handler reports), and an index of `unique_key` for throttled enqueues, which look
 * up the key's recent starts (only the rows that have a key, where the dialect has partial
 * indexes). Idempotent column by column and index by index: a half-run migration (MySQL
 * cannot roll DDL back) is completed by the next run. `down` drops all of it.
 */
import type { Knex } from 'knex';
import type { Migration, MigrationContext } from './migration.js';

const PROGRESS_COLUMNS = ['progress_percent', 'progress_data', 'progress_updated_at'] as const;

const uniqueKeyIndex = (table: string): string => `${table}_unique_key_idx`;

export const liveControl: Migration = {
  name: '005-live-control',

  async up(knex: Knex, { tables, adapter }: MigrationContext): Promise<boolean> {
    const table = tables.taskQueue;
    const missing: string[] = [];
    for (const column of PROGRESS_COLUMNS) if (!(await knex.schema.hasColumn(table, column))) missing.push(column);
    let changed = false;
    if (missing.length > 0) {
      changed = true;
      // One statement for all three: on MySQL one ALTER is all or nothing.
      await knex.schema.alterTable(table, (builder) => {
        if (missing.includes('progress_percent')) builder.double('progress_percent').nullable();
        if (missing.includes('progress_data')) builder.text('progress_data').nullable();
        if (missing.includes('progress_updated_at')) builder.datetime('progress_updated_at', { precision: 3, useTz: true }).nullable();
      });
    }
    const index = uniqueKeyIndex(table);
    if (!(await adapter.hasIndex(knex, table, index))) {
      changed = true;
      const where = adapter.capabilities.partialIndexes ? ' WHERE unique_key IS NOT NULL' : '';
      await knex.raw(`CREATE INDEX ?? ON ?? (unique_key)${where}`, [index, table]);
    }
    return changed;
  },

  async down(knex: Knex, { tables, adapter }: MigrationContext): Promise<void> {
    const table = tables.taskQueue;
    if (!(await knex.schema.hasTable(table))) return;
    const index = uniqueKeyIndex(table);
    if (await adapter.hasIndex(knex, table, index)) {
      await knex.schema.alterTable(table, (builder) => {
        builder.dropIndex([], index);
      });
    }
    for (const column of PROGRESS_COLUMNS) {
      // ALTER TABLE … DROP COLUMN on every dialect (SQLite since 3.35): no table rebuild.
      if (await knex.schema.hasColumn(table, column)) await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [table, column]);
    }
  },
};
