/**
 * Migration 003-exact-comparison: on MySQL/MariaDB it moves tables created with the PAD SPACE
 * collation utf8mb4_bin to a NO PAD binary one, keeping rows and indexes; on SQLite and
 * PostgreSQL, which compare exactly already, it changes nothing.
 */
import { expect } from 'chai';
import type { Knex } from 'knex';
import { adapterForKnex } from '../../adapters/index.js';
import { NO_PAD_BINARY_COLLATIONS } from '../../adapters/mysql/mysql-collation.js';
import { exactComparison } from '../../migrations/003-exact-comparison.js';
import type { TaskStore } from '../../lib/index.js';
import { forEachDialect, uniqueTable } from '../support/index.js';

function freshTables() {
  return { taskDefinitionTableName: uniqueTable('def'), taskQueueTableName: uniqueTable('queue'), scheduleTableName: uniqueTable('sched') };
}

type Tables = ReturnType<typeof freshTables>;
const namesOf = (tables: Tables): string[] => [tables.taskDefinitionTableName, tables.taskQueueTableName, tables.scheduleTableName];
const tableNames = (tables: Tables) => ({
  taskDefinition: tables.taskDefinitionTableName,
  taskQueue: tables.taskQueueTableName,
  schedule: tables.scheduleTableName,
});

/** Every column with its type and collation, and every index, as the dialect describes them. */
async function schemaOf(knex: Knex, dialect: string, tables: Tables): Promise<unknown[]> {
  const names = namesOf(tables);
  const marks = names.map(() => '?').join(', ');
  if (dialect === 'sqlite') {
    return knex.raw(`SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN (${marks}) ORDER BY name`, names);
  }
  if (dialect === 'postgres') {
    const columns = await knex.raw(
      `SELECT table_name, column_name, data_type, collation_name, is_nullable FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name IN (${marks}) ORDER BY table_name, column_name`,
      names,
    );
    const indexes = await knex.raw(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN (${marks}) ORDER BY indexname`,
      names,
    );
    return [...(columns as { rows: unknown[] }).rows, ...(indexes as { rows: unknown[] }).rows];
  }
  return mysqlColumns(knex, names);
}

interface MysqlColumn {
  table: string;
  column: string;
  type: string;
  collation: string | null;
  nullable: string;
}

async function mysqlColumns(knex: Knex, names: string[]): Promise<MysqlColumn[]> {
  const [rows] = (await knex.raw(
    `SELECT TABLE_NAME AS \`table\`, COLUMN_NAME AS \`column\`, COLUMN_TYPE AS type, COLLATION_NAME AS collation, IS_NULLABLE AS nullable
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${names.map(() => '?').join(', ')})
      ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    names,
  )) as [MysqlColumn[]];
  return rows.map((row) => ({ ...row, type: String(row.type) }));
}

async function mysqlTableCollations(knex: Knex, names: string[]): Promise<string[]> {
  const [rows] = (await knex.raw(
    `SELECT TABLE_COLLATION AS collation FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${names
      .map(() => '?')
      .join(', ')}) ORDER BY TABLE_NAME`,
    names,
  )) as [{ collation: string }[]];
  return rows.map((row) => row.collation);
}

async function mysqlIndexes(knex: Knex, names: string[]): Promise<string[]> {
  const [rows] = (await knex.raw(
    `SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${names
      .map(() => '?')
      .join(', ')}) ORDER BY INDEX_NAME`,
    names,
  )) as [{ name: string }[]];
  return rows.map((row) => row.name);
}

forEachDialect('migration 003-exact-comparison', (t) => {
  async function migratedStore(): Promise<{ store: TaskStore; tables: Tables }> {
    const tables = freshTables();
    const store = await t.openStore({ ...tables, automigrate: true });
    return { store, tables };
  }

  it('is idempotent, and on SQLite and PostgreSQL changes nothing', async function () {
    const { store, tables } = await migratedStore();
    const before = await schemaOf(store.knex, t.dialect, tables);
    await exactComparison.up(store.knex, { tables: tableNames(tables), adapter: adapterForKnex(store.knex) });
    await store.migrateUp();
    expect(await schemaOf(store.knex, t.dialect, tables)).to.deep.equal(before);
  });

  if (t.dialect !== 'mysql') return;

  it('moves tables created with utf8mb4_bin to a NO PAD binary collation, keeping rows and indexes', async function () {
    const { store, tables } = await migratedStore();
    const names = namesOf(tables);
    const knex = store.knex;
    // The schema as migration 001 left it before 003 existed.
    for (const name of names) await knex.raw('ALTER TABLE ?? CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [name]);
    const oldColumns = await mysqlColumns(knex, names);
    expect(new Set(oldColumns.map((column) => column.collation).filter((c) => c !== null))).to.deep.equal(new Set(['utf8mb4_bin']));
    const indexes = await mysqlIndexes(knex, names);

    const { id: taskId } = await store.taskDefinitionCreate({ alias: 'OldCollation' });
    const padded = await store.taskQueueCreate({ taskId, queueName: 'pad ', uniqueKey: 'uk ' });
    // The flaw being fixed: utf8mb4_bin pads, so 'pad' finds the item of queue 'pad '.
    expect(await store.taskQueueCount({ queueName: 'pad' })).to.equal(1);

    await store.migrateUp();

    const columns = await mysqlColumns(knex, names);
    const collations = new Set(columns.map((column) => column.collation).filter((c) => c !== null));
    expect(collations.size, [...collations].join(', ')).to.equal(1);
    const [collation] = [...collations] as string[];
    expect(NO_PAD_BINARY_COLLATIONS as readonly string[]).to.include(collation);
    expect(await mysqlTableCollations(knex, names)).to.deep.equal([collation, collation, collation]);
    const compared = ['alias', 'alias_key', 'queue_name', 'status', 'unique_key', 'unique_key_active', 'claim_token', 'name', 'task_id'];
    for (const column of columns.filter((c) => compared.includes(c.column))) {
      expect(column.collation, `${column.table}.${column.column}`).to.equal(collation);
    }
    // Only the collation moved: types, nullability and indexes are as they were.
    const withoutCollation = (list: MysqlColumn[]) => list.map(({ collation: _, ...rest }) => rest);
    expect(withoutCollation(columns)).to.deep.equal(withoutCollation(oldColumns));
    expect(await mysqlIndexes(knex, names)).to.deep.equal(indexes);

    expect((await store.taskQueueFindById(padded.id))?.queueName).to.equal('pad ');
    expect(await store.taskQueueCount({ queueName: 'pad' })).to.equal(0);
    expect(await store.taskQueueClaim('pad', 10)).to.deep.equal([]);
    await store.taskQueueCreate({ taskId, queueName: 'pad', uniqueKey: 'uk' });
    expect(await store.taskQueueCount()).to.equal(2);

    await store.migrateUp();
    expect(await mysqlColumns(knex, names)).to.deep.equal(columns);
  });
});
