/**
 * The schema steps as the specs expect them, from the one list in migrations/index.ts: all of
 * them run on a fresh database, except those that do something on one dialect only.
 */
import { adapterForKnex } from '../../adapters/index.js';
import { MIGRATIONS, type MigrationContext } from '../../migrations/index.js';
import type { Dialect, TaskStore } from '../../lib/index.js';
import type { DialectContext } from './dialects.js';
import { uniqueTable } from './fixtures.js';

const ONLY_ON: Readonly<Record<string, Dialect>> = {
  '002-change-notifications': 'postgres', // the notify trigger
  '003-exact-comparison': 'mysql', // the NO PAD collation
};

export const MIGRATION_NAMES: readonly string[] = MIGRATIONS.map((migration) => migration.name);

/** The steps migrateUp reports on a fresh database of this dialect, in order. */
export function freshMigrationSteps(dialect: Dialect): string[] {
  return MIGRATION_NAMES.filter((name) => (ONLY_ON[name] ?? dialect) === dialect);
}

/**
 * A store on tables of its own, migrated to the last step, and the context a migration step
 * takes for those tables: for specs that run one step down and up again on a database in use.
 */
export async function freshMigratedStore(t: DialectContext): Promise<{ store: TaskStore; queueTable: string; context: MigrationContext }> {
  const tables = {
    taskDefinitionTableName: uniqueTable('def'),
    taskQueueTableName: uniqueTable('queue'),
    scheduleTableName: uniqueTable('sched'),
  };
  const store = await t.openStore({ ...tables, automigrate: false });
  await store.migrateUp();
  const context = {
    tables: { taskDefinition: tables.taskDefinitionTableName, taskQueue: tables.taskQueueTableName, schedule: tables.scheduleTableName },
    adapter: adapterForKnex(store.knex),
  };
  return { store, queueTable: tables.taskQueueTableName, context };
}
