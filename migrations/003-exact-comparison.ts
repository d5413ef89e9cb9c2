/**
 * Keys, names and aliases compare exactly on every dialect, trailing spaces included. MySQL and
 * MariaDB: the tables move from utf8mb4_bin (PAD SPACE, 'pad' = 'pad ') to a NO PAD binary
 * collation; nothing to do on SQLite and PostgreSQL. Idempotent: a converted table is left
 * alone. There is no way back: reverting would bring the padding back, so `down` does nothing
 * (001's `down` drops the tables).
 */
import type { Migration } from './migration.js';

export const exactComparison: Migration = {
  name: '003-exact-comparison',
  up: (knex, { tables, adapter }) => adapter.useExactComparison(knex, [tables.taskDefinition, tables.taskQueue, tables.schedule]),
  down: async () => {},
};
