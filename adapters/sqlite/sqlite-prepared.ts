/**
 * The SQLite hot path's own use of knex's connection: the claim and the finishing write as
 * better-sqlite3 statements prepared once per connection, where knex prepares a statement on
 * every call (and builds the finishing write's SQL anew for every batch size). Bindings are
 * converted as knex converts them: a Date to epoch milliseconds, a boolean to 0 or 1.
 *
 * The connection comes from knex's pool, or from the transaction when `knex` is one, so a
 * statement here waits for the single connection like any other.
 */
import type Database from 'better-sqlite3';
import type { Knex } from 'knex';
import type { QueueRow } from '../adapter.js';

interface SqliteClient {
  acquireConnection(): Promise<Database.Database>;
  releaseConnection(connection: Database.Database): Promise<void> | void;
}

/** Statements by SQL text, per connection; the texts are a few per queue table. */
const prepared = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** Runs one statement that returns rows (a claim, a write with RETURNING). */
export async function preparedAll(knex: Knex, sql: string, bindings: readonly unknown[]): Promise<QueueRow[]> {
  const client = (knex as unknown as { client: SqliteClient }).client;
  const connection = await client.acquireConnection();
  try {
    let statements = prepared.get(connection);
    if (!statements) prepared.set(connection, (statements = new Map()));
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = connection.prepare(sql)));
    return statement.all(bindings.map(sqliteValue)) as QueueRow[];
  } finally {
    await client.releaseConnection(connection);
  }
}

function sqliteValue(value: unknown): unknown {
  if (value instanceof Date) return value.valueOf();
  if (typeof value === 'boolean') return Number(value);
  return value;
}
