/**
 * Lets a developer run taskstore's migrations with the knex CLI against any of the three
 * databases: `npm run migrate:latest` (TASKSTORE_DATABASE_URL selects the database, and
 * TASKSTORE_*_TABLE the table names). TaskStore.open() runs the same steps by itself.
 */
import type { Knex } from 'knex';
import { configFromUrl, defaultDatabaseUrl } from './adapters/index.js';
import { createMigrationSource } from './migrations/migration-source.js';

const env = process.env;
const tables = {
  taskDefinitionTableName: env['TASKSTORE_TASK_DEFINITION_TABLE'],
  taskQueueTableName: env['TASKSTORE_TASK_QUEUE_TABLE'],
  scheduleTableName: env['TASKSTORE_SCHEDULE_TABLE'],
};

const config: Knex.Config = {
  ...configFromUrl(defaultDatabaseUrl(env)),
  migrations: { migrationSource: createMigrationSource(tables), tableName: `${tables.taskQueueTableName ?? 'task_queue'}_knex_migrations` },
};

export default config;
