/**
 * The three tables and their indexes. Idempotent table by table and index by index: a
 * table or index that exists is left alone, so a run that was interrupted (MySQL cannot
 * roll DDL back) is completed by the next one, and running it twice is harmless.
 */
import type { Knex } from 'knex';
import type { Adapter } from '../adapters/adapter.js';
import type { Migration, MigrationContext } from './migration.js';

const timestamp = (table: Knex.CreateTableBuilder, name: string) => table.datetime(name, { precision: 3, useTz: true });

export interface IndexSpec {
  readonly name: string;
  readonly unique?: boolean;
  readonly columns: string;
  /** Applied where the dialect has partial indexes; elsewhere `fullColumns` (or `columns`) is indexed whole. */
  readonly where?: string;
  readonly fullColumns?: string;
  /** Worth having only as a partial index (another index already serves the whole form). */
  readonly partialOnly?: boolean;
  /** Not created when this index exists: a later step replaced it with one that serves the same reads. */
  readonly supersededBy?: string;
}

/** Creates the index unless it exists; true when it did. */
export async function ensureIndex(knex: Knex, adapter: Adapter, table: string, index: IndexSpec): Promise<boolean> {
  if (index.partialOnly && !adapter.capabilities.partialIndexes) return false;
  if (await adapter.hasIndex(knex, table, index.name)) return false;
  if (index.supersededBy !== undefined && (await adapter.hasIndex(knex, table, index.supersededBy))) return false;
  const partial = index.where !== undefined && adapter.capabilities.partialIndexes;
  const columns = partial ? index.columns : (index.fullColumns ?? index.columns);
  const unique = index.unique ? 'UNIQUE ' : '';
  await knex.raw(`CREATE ${unique}INDEX ?? ON ?? (${columns})${partial ? ` WHERE ${index.where}` : ''}`, [index.name, table]);
  return true;
}

export const createTables: Migration = {
  name: '001-create-tables',

  async up(knex: Knex, { tables, adapter }: MigrationContext): Promise<boolean> {
    const { taskDefinition, taskQueue, schedule } = tables;
    let changed = false;
    const ensure = async (table: string, index: IndexSpec) => {
      if (await ensureIndex(knex, adapter, table, index)) changed = true;
    };

    if (!(await knex.schema.hasTable(taskDefinition))) {
      changed = true;
      await knex.schema.createTable(taskDefinition, (table) => {
        adapter.configureTable(table);
        table.string('id', 36).primary();
        table.string('alias', 100).notNullable();
        // The normalised alias while the row is live, NULL once soft-deleted: unique among
        // live definitions only, on every dialect (NULLs never collide).
        table.string('alias_key', 100).nullable();
        table.string('title', 255).notNullable();
        table.text('description').notNullable();
        table.text('memo').notNullable();
        table.string('status', 20).notNullable();
        table.integer('max_attempts').notNullable().defaultTo(1);
        timestamp(table, 'created_at').notNullable();
        timestamp(table, 'updated_at').notNullable();
        timestamp(table, 'soft_deleted_at').nullable();
      });
    }
    await ensure(taskDefinition, { name: `${taskDefinition}_alias_key_unique`, unique: true, columns: 'alias_key' });

    if (!(await knex.schema.hasTable(taskQueue))) {
      changed = true;
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
      });
    }
    // Few indexes on purpose: a state change touches every one of them (status is indexed,
    // so no update is HOT). Lists default to id order (UUIDv7 = creation order). Where the
    // dialect allows, the claim index holds only claimable rows (finished history costs it
    // nothing), the sweep index only running rows, the unique index only pending keys.
    const queueIndexes: IndexSpec[] = [
      {
        name: `${taskQueue}_claim_idx`,
        columns: 'queue_name, priority DESC, available_at, id',
        where: `status = 'queued' AND soft_deleted_at IS NULL`,
        fullColumns: 'queue_name, status, priority DESC, available_at, id',
      },
      {
        name: `${taskQueue}_running_idx`,
        columns: 'queue_name, heartbeat_at',
        where: `status = 'running'`,
        partialOnly: true, // elsewhere the full claim index already leads with (queue_name, status)
      },
      { name: `${taskQueue}_unique_key_active_unique`, unique: true, columns: 'unique_key_active', where: 'unique_key_active IS NOT NULL' },
      // 008-dashboard-counts replaces it with (task_id, status, soft_deleted_at).
      { name: `${taskQueue}_task_id_idx`, columns: 'task_id', supersededBy: `${taskQueue}_task_id_status_idx` },
    ];
    for (const index of queueIndexes) await ensure(taskQueue, index);

    if (!(await knex.schema.hasTable(schedule))) {
      changed = true;
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
      });
    }
    await ensure(schedule, { name: `${schedule}_due_idx`, columns: 'status, next_run_at' });
    await ensure(schedule, { name: `${schedule}_task_definition_id_idx`, columns: 'task_definition_id' });
    return changed;
  },

  async down(knex: Knex, { tables }: MigrationContext): Promise<void> {
    await knex.schema.dropTableIfExists(tables.schedule);
    await knex.schema.dropTableIfExists(tables.taskQueue);
    await knex.schema.dropTableIfExists(tables.taskDefinition);
  },
};
