/**
 * The PostgreSQL hot path's own use of knex's pool: a pooled pg connection taken for one
 * statement (or one claim), for named prepared statements, parsed and planned once per
 * connection instead of once per call.
 */
import type { Knex } from 'knex';
import type { QueueRow } from '../adapter.js';

export function codeOf(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? '');
}

export interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] } | string): Promise<{ rows: QueueRow[]; rowCount: number | null }>;
}

export interface PooledClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void> | void;
}

/**
 * The hot path (claims, finishes) as named prepared statements on a pooled connection:
 * parsed and planned once per connection instead of once per call.
 */
export async function run(knex: Knex, name: string, text: string, values: unknown[]) {
  const client = (knex as unknown as { client: PooledClient }).client;
  const connection = await client.acquireConnection();
  try {
    return await connection.query({ name, text, values });
  } finally {
    await client.releaseConnection(connection);
  }
}

export const preparedQuery = async (knex: Knex, name: string, text: string, values: unknown[]): Promise<QueueRow[]> =>
  (await run(knex, name, text, values)).rows;
