/**
 * The three tables and their indexes. Idempotent: a table that exists is left alone, so a
 * migration run twice (or by the knex CLI and then by TaskStore.open) is harmless.
 */
import type { Knex } from 'knex';
import type { Migration, MigrationContext } from './migration.js';

const timestamp = (table: Knex.CreateTableBuilder, name: string) => table.datetime(name, { precision: 3, useTz: true });

export const createTables: Migration = {
  name: '001-create-tables',

  async up(knex: Knex, { tables, adapter }: MigrationContext): Promise<void> {
    const { taskDefinition, taskQueue, schedule } = tables;

    if (!(await knex.schema.hasTable(taskDefinition))) {
      await knex.schema.createTable(taskDefinition, (table) => {
        adapter.configureTable(table);
        table.string('id', 36).primary();
        table.string('alias', 100).notNullable();
        // The normalised alias while the row is live, NULL once soft-deleted: unique among
        // live definitions only, on every dialect (NULLs never collide).
        table.string('alias_key', 100).nullable().unique({ indexName: `${taskDefinition}_alias_key_unique` });
        table.string('title', 255).notNullable();
        table.text('description').notNullable();
        table.text('memo').notNullable();
        table.string('status', 20).notNullable();
        table.integer('max_attempts').notNullable().defaultTo(1);
        timestamp(table, 'created_at').notNullable();
        timestamp(table, 'updated_at').notNullable();
        timestamp(table, 'soft_deleted_at').nullable();
        table.index(['created_at'], `${taskDefinition}_created_at_idx`);
      });
    }

    if (!(await knex.schema.hasTable(taskQueue))) {
      await knex.schema.createTable(taskQueue, (table) => {
        adapter.configureTable(table);
        table.string('id', 36).primary();
        table.string('task_id', 36).notNullable();
        table.string('queue_name', 100).notNullable();
        table.string('status', 20).notNullable();
        table.text('parameters', 'longtext').notNullable();
        table.text('output', 'longtext').notNullable();
        table.text('details', 'longtext').notNullable();
        table.integer('attempts').notNullable().defaultTo(0);
        table.integer('max_attempts').notNullable().defaultTo(1);
        table.integer('priority').notNullable().defaultTo(0);
        table.string('unique_key', 255).nullable();
        // The unique key while the item is queued, running or paused; NULL afterwards.
        table.string('unique_key_active', 255).nullable();
        timestamp(table, 'available_at').notNullable();
        timestamp(table, 'started_at').nullable();
        timestamp(table, 'completed_at').nullable();
        timestamp(table, 'heartbeat_at').nullable();
        table.string('claim_token', 36).nullable();
        timestamp(table, 'created_at').notNullable();
        timestamp(table, 'updated_at').notNullable();
        timestamp(table, 'soft_deleted_at').nullable();
        // Few indexes on purpose: a state change touches every one of them (status is
        // indexed, so no update is HOT). Lists default to id order (UUIDv7 = creation order).
        table.index(['task_id'], `${taskQueue}_task_id_idx`);
      });
      // The claim path: equality on queue and status, then exactly the claim order. Where
      // the dialect allows, the index holds only claimable rows, so finished history costs
      // nothing here; likewise the unique index holds only keys still pending.
      if (adapter.capabilities.partialIndexes) {
        await knex.raw(
          `CREATE INDEX ?? ON ?? (queue_name, priority DESC, available_at, id) WHERE status = 'queued' AND soft_deleted_at IS NULL`,
          [`${taskQueue}_claim_idx`, taskQueue],
        );
        await knex.raw(`CREATE UNIQUE INDEX ?? ON ?? (unique_key_active) WHERE unique_key_active IS NOT NULL`, [
          `${taskQueue}_unique_key_active_unique`,
          taskQueue,
        ]);
      } else {
        await knex.raw(`CREATE INDEX ?? ON ?? (queue_name, status, priority DESC, available_at, id)`, [`${taskQueue}_claim_idx`, taskQueue]);
        await knex.raw(`CREATE UNIQUE INDEX ?? ON ?? (unique_key_active)`, [`${taskQueue}_unique_key_active_unique`, taskQueue]);
      }
    }

    if (!(await knex.schema.hasTable(schedule))) {
      await knex.schema.createTable(schedule, (table) => {
        adapter.configureTable(table);
        table.string('id', 36).primary();
        table.string('name', 255).notNullable();
        table.text('description').notNullable();
        table.string('status', 20).notNullable();
        table.string('task_definition_id', 36).notNullable();
        table.string('queue_name', 100).notNullable();
        table.text('parameters', 'longtext').notNullable();
        table.text('recurrence_rule').nullable();
        table.string('cron', 255).nullable();
        table.string('timezone', 64).nullable();
        timestamp(table, 'end_at').nullable();
        table.integer('execution_count').notNullable().defaultTo(0);
        table.integer('max_execution_count').notNullable().defaultTo(0);
        timestamp(table, 'last_run_at').nullable();
        timestamp(table, 'next_run_at').nullable();
        table.text('last_error').nullable();
        timestamp(table, 'created_at').notNullable();
        timestamp(table, 'updated_at').notNullable();
        timestamp(table, 'soft_deleted_at').nullable();
        table.index(['status', 'next_run_at'], `${schedule}_due_idx`);
        table.index(['task_definition_id'], `${schedule}_task_definition_id_idx`);
      });
    }
  },

  async down(knex: Knex, { tables }: MigrationContext): Promise<void> {
    await knex.schema.dropTableIfExists(tables.schedule);
    await knex.schema.dropTableIfExists(tables.taskQueue);
    await knex.schema.dropTableIfExists(tables.taskDefinition);
  },
};
