/**
 * `taskstore/migrations`: taskstore's schema steps as a knex MigrationSource, for a knexfile
 * of your own and the knex CLI (`knex migrate:latest`, `knex migrate:rollback --all`).
 * TaskStore.open() and migrateUp() run the same steps by themselves.
 */
import type { Knex } from 'knex';
import { adapterForKnex } from '../adapters/index.js';
import { withDefaults, type KnownKeys } from '../lib/foundation/options.js';
import { DEFAULT_TABLE_NAMES, resolveTableNames } from '../lib/foundation/table-names.js';
import type { TableNameOptions } from '../lib/foundation/types.js';
import { MIGRATIONS } from './index.js';

export type { TableNameOptions };

/** One of taskstore's schema steps, as the knex migrator sees it: `001-create-tables` and on. */
export interface TaskstoreMigration {
  readonly name: string;
}

const KNOWN = {
  taskDefinitionTableName: true,
  taskQueueTableName: true,
  scheduleTableName: true,
} as const satisfies KnownKeys<TableNameOptions>;

/**
 * The steps as a knex MigrationSource, for the tables named in `options` (the defaults of
 * TaskStore.open otherwise). Give knex a migrations table of their own, such as
 * `task_queue_knex_migrations`, so your application's migrations never see these steps.
 */
export function createMigrationSource(options?: TableNameOptions): Knex.MigrationSource<TaskstoreMigration> {
  const name = 'createMigrationSource';
  const tables = resolveTableNames(withDefaults(options, KNOWN, DEFAULT_TABLE_NAMES, `${name}: options`), `${name}: `);
  const find = (migration: TaskstoreMigration) => {
    const found = MIGRATIONS.find((step) => step.name === migration.name);
    if (!found) throw new Error(`taskstore has no migration named '${migration.name}'`);
    return found;
  };
  return {
    getMigrations: async () => MIGRATIONS.map((migration) => ({ name: migration.name })),
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => ({
      up: (knex: Knex) => find(migration).up(knex, { tables, adapter: adapterForKnex(knex) }),
      down: (knex: Knex) => find(migration).down(knex, { tables, adapter: adapterForKnex(knex) }),
    }),
  };
}
