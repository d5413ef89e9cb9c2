/**
 * Flows (docs/flows.md): the flow table, the dependency table (one row per parent → child
 * edge), and the task queue's flow columns. Idempotent object by object: a table, column or
 * index that exists is left alone, so a run that was interrupted (MySQL cannot roll DDL back)
 * is completed by the next one, and an existing database upgrades in place (the new columns
 * have defaults: every existing task is a task outside any flow).
 */
import type { Knex } from 'knex';
import type { Adapter } from '../adapters/adapter.js';
import { dependencyTable, flowTable } from '../lib/foundation/flow-types.js';
import type { Migration, MigrationContext } from './migration.js';

const timestamp = (table: Knex.CreateTableBuilder, name: string) => table.datetime(name, { precision: 3, useTz: true });

/** The task queue's flow columns, in the order they are added. */
const QUEUE_COLUMNS: readonly [string, (table: Knex.AlterTableBuilder) => void][] = [
  // The flow this task is a step of; NULL for every task outside a flow.
  ['flow_id', (table) => table.string('flow_id', 36).nullable()],
  // The step's key within its flow.
  ['flow_key', (table) => table.string('flow_key', 100).nullable()],
  // Parents that have not finished yet; the step waits while this is above 0.
  ['waiting_parents', (table) => table.integer('waiting_parents').notNullable().defaultTo(0)],
  // Parents that finished without success (failed or canceled).
  ['failed_parents', (table) => table.integer('failed_parents').notNullable().defaultTo(0)],
  // 'fail', 'skip' or 'run'; NULL outside flows.
  ['on_parent_failure', (table) => table.string('on_parent_failure', 10).nullable()],
];

async function ensureIndex(knex: Knex, adapter: Adapter, table: string, name: string, columns: string): Promise<boolean> {
  if (await adapter.hasIndex(knex, table, name)) return false;
  await knex.raw(`CREATE INDEX ?? ON ?? (${columns})`, [name, table]);
  return true;
}

export const flows: Migration = {
  name: '006-flows',

  async up(knex: Knex, { tables, adapter }: MigrationContext): Promise<boolean> {
    const { taskQueue } = tables;
    const flow = flowTable(taskQueue);
    const dependency = dependencyTable(taskQueue);
    let changed = false;

    if (!(await knex.schema.hasTable(flow))) {
      changed = true;
      await knex.schema.createTable(flow, (table) => {
        adapter.configureTable(table);
        table.string('id', 36).primary();
        table.string('queue_name', 100).notNullable();
        table.integer('step_count').notNullable();
        timestamp(table, 'created_at').notNullable();
      });
    }

    if (!(await knex.schema.hasTable(dependency))) {
      changed = true;
      await knex.schema.createTable(dependency, (table) => {
        adapter.configureTable(table);
        table.string('child_id', 36).notNullable();
        table.string('parent_id', 36).notNullable();
        // Set once, by the transaction that counted the parent's end against the child: an
        // edge is counted at most once, however often its parent ends (a requeue by hand).
        table.boolean('resolved').notNullable().defaultTo(false);
        table.primary(['child_id', 'parent_id']);
      });
    }
    if (await ensureIndex(knex, adapter, dependency, `${dependency}_parent_idx`, 'parent_id')) changed = true;

    for (const [column, add] of QUEUE_COLUMNS) {
      if (await knex.schema.hasColumn(taskQueue, column)) continue;
      changed = true;
      await knex.schema.alterTable(taskQueue, add);
    }
    if (await ensureIndex(knex, adapter, taskQueue, `${taskQueue}_flow_id_idx`, 'flow_id')) changed = true;
    // Keys and ids compare exactly, as in the other tables (MySQL: the NO PAD collation of 003), so they can be joined.
    if (await adapter.useExactComparison(knex, [flow, dependency])) changed = true;
    return changed;
  },

  async down(knex: Knex, { tables, adapter }: MigrationContext): Promise<void> {
    const { taskQueue } = tables;
    await knex.schema.dropTableIfExists(dependencyTable(taskQueue));
    await knex.schema.dropTableIfExists(flowTable(taskQueue));
    if (!(await knex.schema.hasTable(taskQueue))) return;
    const index = `${taskQueue}_flow_id_idx`;
    if (await adapter.hasIndex(knex, taskQueue, index)) {
      await knex.schema.alterTable(taskQueue, (table) => table.dropIndex(['flow_id'], index));
    }
    for (const [column] of [...QUEUE_COLUMNS].reverse()) {
      if (await knex.schema.hasColumn(taskQueue, column)) await knex.schema.alterTable(taskQueue, (table) => table.dropColumn(column));
    }
  },
};
