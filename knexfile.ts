/**
 * Lets a developer run taskstore's migrations with the knex CLI against any of the three
 * databases: `npm run migrate:latest` (TASKSTORE_DATABASE_URL selects the database, and
 * TASKSTORE_*_TABLE the table names). TaskStore.open() runs the same steps by itself.
 */
import type { Knex } from 'knex';
import { configFromUrl, defaultDatabaseUrl } from './adapters/index.js';
import { createMigrationSource } from './migrations/index.js';

const env = process.env;
const tables = {
  taskDefinition: env['TASKSTORE_TASK_DEFINITION_TABLE'] ?? 'task_definition',
  taskQueue: env['TASKSTORE_TASK_QUEUE_TABLE'] ?? 'task_queue',
  schedule: env['TASKSTORE_SCHEDULE_TABLE'] ?? 'task_schedule',
};

const config: Knex.Config = {
  ...configFromUrl(defaultDatabaseUrl(env)),
  migrations: { migrationSource: createMigrationSource(tables), tableName: `${tables.taskQueue}_knex_migrations` },
};

export default config;
