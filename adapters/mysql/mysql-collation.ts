/**
 * Exact comparisons on MySQL and MariaDB. `utf8mb4_bin` is a PAD SPACE collation: there
 * 'pad' = 'pad ', so a claim of queue 'pad' would take the items of queue 'pad ', and unique
 * key 'uk ' would collide with 'uk'. The tables are converted to a NO PAD binary collation
 * instead, chosen per server: MariaDB's `utf8mb4_nopad_bin`, MySQL 8's `utf8mb4_0900_bin`.
 */
import type { Knex } from 'knex';
import type { TableNames } from '../adapter.js';
import { TaskStoreError } from '../../lib/foundation/errors.js';
import { dependencyTable, flowTable } from '../../lib/foundation/flow-types.js';

/** In order of preference: MariaDB has the first (10.2+), MySQL 8 the second. Both compare code points, with no padding. */
export const NO_PAD_BINARY_COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin'] as const;

/** The NO PAD binary collation this server offers. */
export async function noPadBinaryCollation(knex: Knex): Promise<string> {
  const [rows] = (await knex.raw('SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (?, ?)', [
    ...NO_PAD_BINARY_COLLATIONS,
  ])) as [{ name: unknown }[]];
  const available = new Set(rows.map((row) => String(row.name).toLowerCase()));
  const collation = NO_PAD_BINARY_COLLATIONS.find((name) => available.has(name));
  if (collation === undefined) {
    throw new TaskStoreError(
      'DATABASE',
      `this server offers no NO PAD binary collation (${NO_PAD_BINARY_COLLATIONS.join(' or ')}); taskstore needs MySQL 8.0+ or MariaDB 10.6+`,
    );
  }
  return collation;
}

/**
 * Converts each table that still has a column (or a table default) in another collation: all
 * its text columns at once, which rebuilds the table. A converted table is left alone.
 */
export async function useNoPadCollation(knex: Knex, tables: TableNames): Promise<boolean> {
  const collation = await noPadBinaryCollation(knex);
  let changed = false;
  // The flow tables (migration 006) once they exist: a table that does not is skipped.
  const flowTables = [flowTable(tables.taskQueue), dependencyTable(tables.taskQueue)];
  for (const table of [tables.taskDefinition, tables.taskQueue, tables.schedule, ...flowTables]) {
    if (!(await hasOtherCollation(knex, table, collation))) continue;
    // The collation comes from the fixed list above, never from input.
    await knex.raw(`ALTER TABLE ?? CONVERT TO CHARACTER SET utf8mb4 COLLATE ${collation}`, [table]);
    changed = true;
  }
  return changed;
}

async function hasOtherCollation(knex: Knex, table: string, collation: string): Promise<boolean> {
  const [rows] = (await knex.raw(
    `SELECT 1 AS other FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND TABLE_COLLATION <> ?
     UNION ALL
     SELECT 1 FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLLATION_NAME IS NOT NULL AND COLLATION_NAME <> ?
     LIMIT 1`,
    [table, collation, table, collation],
  )) as [unknown[]];
  return rows.length > 0;
}
