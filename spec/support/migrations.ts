/**
 * The schema steps as the specs expect them, from the one list in migrations/index.ts: all of
 * them run on a fresh database, except those that do something on one dialect only.
 */
import { MIGRATIONS } from '../../migrations/index.js';
import type { Dialect } from '../../lib/index.js';

const ONLY_ON: Readonly<Record<string, Dialect>> = {
  '002-change-notifications': 'postgres', // the notify trigger
  '003-exact-comparison': 'mysql', // the NO PAD collation
};

export const MIGRATION_NAMES: readonly string[] = MIGRATIONS.map((migration) => migration.name);

/** The steps migrateUp reports on a fresh database of this dialect, in order. */
export function freshMigrationSteps(dialect: Dialect): string[] {
  return MIGRATION_NAMES.filter((name) => (ONLY_ON[name] ?? dialect) === dialect);
}
