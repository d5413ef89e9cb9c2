// A knexfile of an application that uses taskstore: its tables through the knex CLI
// (`knex migrate:latest`). KNEXFILE_DATABASE_URL selects the database (the spec's).
import { createMigrationSource } from 'taskstore/migrations';

const url = process.env.KNEXFILE_DATABASE_URL ?? 'sqlite:./app.db';
const connection = url.startsWith('sqlite:')
  ? { client: 'better-sqlite3', connection: { filename: url.slice('sqlite:'.length) }, useNullAsDefault: true }
  : { client: url.startsWith('postgres') ? 'pg' : 'mysql2', connection: url };

export default {
  ...connection,
  migrations: {
    migrationSource: createMigrationSource({
      taskDefinitionTableName: 'app_task_definition',
      taskQueueTableName: 'app_task_queue',
      scheduleTableName: 'app_task_schedule',
    }),
    tableName: 'app_task_queue_knex_migrations',
  },
};
