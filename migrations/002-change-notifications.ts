/** Dialect extras for cross-process wake-ups (PostgreSQL: the notify trigger). Idempotent. */
import type { Migration } from './migration.js';

export const changeNotifications: Migration = {
  name: '002-change-notifications',
  up: (knex, { tables, adapter }) => adapter.installExtras(knex, tables),
  down: (knex, { tables, adapter }) => adapter.dropExtras(knex, tables),
};
