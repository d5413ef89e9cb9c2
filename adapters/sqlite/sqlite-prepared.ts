/**
 * The SQLite hot path's own use of knex's connection: the claims and the finishing write as
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
import { CLAIM_COLUMNS, CLAIM_TIMESTAMP_COLUMNS } from '../claimed-rows.js';

/** What a claim sets on each row it takes; bindings: the start (three times), the token, the details line, and it after a newline. */
export const CLAIM_SET = `status = 'running', attempts = attempts + 1, started_at = ?, heartbeat_at = ?, updated_at = ?, completed_at = NULL,
  claim_token = ?, details = CASE WHEN details = '' THEN ? ELSE details || ? END`;

/** The claim's RETURNING list: what the claim does not set itself (see CLAIM_COLUMNS). */
export const CLAIM_RETURNING = [...CLAIM_COLUMNS, ...CLAIM_TIMESTAMP_COLUMNS].join(', ');

/** The rows of a batch of claims, by (id, claim token) pairs given as one JSON array (twice). */
export const CLAIMED_PAIRS = `id IN (SELECT json_extract(value, '$[0]') FROM json_each(?))
      AND (id, claim_token) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`;

interface SqliteClient {
  acquireConnection(): Promise<Database.Database>;
  releaseConnection(connection: Database.Database): Promise<void> | void;
}

/** Statements by SQL text, per connection; the texts are a few per queue table. */
const prepared = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** The statement of this SQL text on this connection, prepared the first time it is asked for. */
export type Prepare = (sql: string) => Database.Statement;

/**
 * Runs `work` (synchronous: nothing else uses the connection meanwhile) on knex's connection,
 * with its statements prepared once per connection; the connection goes back to the pool
 * whether or not `work` throws.
 */
export async function withPrepared<T>(knex: Knex, work: (prepare: Prepare, connection: Database.Database) => T): Promise<T> {
  const client = (knex as unknown as { client: SqliteClient }).client;
  const connection = await client.acquireConnection();
  try {
    let statements = prepared.get(connection);
    if (!statements) prepared.set(connection, (statements = new Map()));
    const cache = statements;
    const prepare: Prepare = (sql) => {
      let statement = cache.get(sql);
      if (!statement) cache.set(sql, (statement = connection.prepare(sql)));
      return statement;
    };
    return work(prepare, connection);
  } finally {
    await client.releaseConnection(connection);
  }
}

/** Runs one statement that returns rows (a claim, a write with RETURNING). */
export function preparedAll(knex: Knex, sql: string, bindings: readonly unknown[]): Promise<QueueRow[]> {
  return withPrepared(knex, (prepare) => prepare(sql).all(sqliteValues(bindings)) as QueueRow[]);
}

/** Bindings as knex converts them for SQLite. */
export function sqliteValues(bindings: readonly unknown[]): unknown[] {
  return bindings.map(sqliteValue);
}

function sqliteValue(value: unknown): unknown {
  if (value instanceof Date) return value.valueOf();
  if (typeof value === 'boolean') return Number(value);
  return value;
}
