/**
 * The ordered list of schema steps, run by TaskStore#migrateUp under a database-wide lock,
 * and exposed as a knex migration source for the knex CLI (migration-source.ts).
 */
import type { Knex } from 'knex';
import type { Adapter, TableNames } from '../adapters/adapter.js';
import { createTables } from './001-create-tables.js';
import { changeNotifications } from './002-change-notifications.js';
import { exactComparison } from './003-exact-comparison.js';
import { queueSettings } from './004-queue-settings.js';
import { liveControl } from './005-live-control.js';
import { flows } from './006-flows.js';
import { queueMetrics } from './007-queue-metrics.js';
import { dashboardCounts } from './008-dashboard-counts.js';
import { traceContext } from './009-trace-context.js';
import { runners } from './010-runners.js';
import type { Migration } from './migration.js';

export type { Migration, MigrationContext } from './migration.js';

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  createTables,
  changeNotifications,
  exactComparison,
  queueSettings,
  liveControl,
  flows,
  queueMetrics,
  dashboardCounts,
  traceContext,
  runners,
]);

const lockName = (tables: TableNames): string => `taskstore_migrate_${tables.taskQueue}`;

/**
 * Applies every step in order; safe to run twice and from two processes at once. Resolves
 * the names of the steps that changed the schema ([] when it was up to date).
 */
export async function migrateUp(knex: Knex, adapter: Adapter, tables: TableNames): Promise<string[]> {
  return adapter.withMigrationLock(knex, lockName(tables), async (trx) => {
    const applied: string[] = [];
    for (const migration of MIGRATIONS) if (await migration.up(trx, { tables, adapter })) applied.push(migration.name);
    return applied;
  });
}

/** Reverts every step in reverse order: drops what each added, then taskstore's tables. Idempotent. */
export async function migrateDown(knex: Knex, adapter: Adapter, tables: TableNames): Promise<void> {
  await adapter.withMigrationLock(knex, lockName(tables), async (trx) => {
    for (const migration of [...MIGRATIONS].reverse()) await migration.down(trx, { tables, adapter });
  });
}
