/**
 * PostgreSQL via pg. Claims are one statement: UPDATE … WHERE id IN (SELECT … FOR UPDATE
 * SKIP LOCKED LIMIT n) RETURNING *, so claimers never block one another.
 */
import type { Knex } from 'knex';
import {
  CLAIMABLE_WHERE,
  CLAIM_ORDER_BY,
  compareClaimOrder,
  type Adapter,
  type ChangeFeed,
  type ChangeListener,
  type ClaimRequest,
  type QueueRow,
  type TableNames,
} from '../adapter.js';
import { dropNotifyTrigger, installNotifyTrigger, listenChangeFeed } from './postgres-change-feed.js';

/**
 * Evaluated once per statement (an InitPlan): sets synchronous_commit off for this
 * statement's own transaction only (is_local), leaving the session's setting alone.
 */
const ASYNC_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL`;

const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03', '57P01', '08006', '08003', '08001']);

export const postgresAdapter: Adapter = {
  dialect: 'postgres',
  capabilities: Object.freeze({ skipLocked: true, returning: true, notify: true, concurrentWriters: true, asyncCommit: true, partialIndexes: true }),

  async claim(knex: Knex, table: string, request: ClaimRequest): Promise<QueueRow[]> {
    const { queueName, limit, now, token, startedLine, asyncCommit } = request;
    const result = await knex.raw(
      `UPDATE ?? SET status = 'running', attempts = attempts + 1, started_at = ?, heartbeat_at = ?,
         updated_at = ?, completed_at = NULL, claim_token = ?,
         details = CASE WHEN details = '' THEN ? ELSE details || ? END
       WHERE id IN (SELECT id FROM ?? WHERE ${CLAIMABLE_WHERE} ORDER BY ${CLAIM_ORDER_BY} LIMIT ? FOR UPDATE SKIP LOCKED)
         ${asyncCommit ? `AND ${ASYNC_COMMIT}` : ''}
       RETURNING *`,
      [table, now, now, now, token, startedLine, `\n${startedLine}`, table, queueName, now, limit],
    );
    return (result.rows as QueueRow[]).sort(compareClaimOrder);
  },

  asyncCommitCondition: (knex: Knex): Knex.Raw => knex.raw(ASYNC_COMMIT),

  appendLine(knex: Knex, column: string, line: string): Knex.Raw {
    return knex.raw(`CASE WHEN ?? = '' THEN ? ELSE ?? || ? END`, [column, line, column, `\n${line}`]);
  },

  async withMigrationLock<T>(knex: Knex, name: string, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    // A transaction-scoped advisory lock: DDL in PostgreSQL is transactional, so the whole
    // migration commits or rolls back with the lock held, on one connection.
    return knex.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [name]);
      return work(trx);
    });
  },

  watchChanges: (knex: Knex, tables: TableNames, listener: ChangeListener): ChangeFeed => listenChangeFeed(knex, tables, listener),
  installExtras: installNotifyTrigger,
  dropExtras: dropNotifyTrigger,

  configureTable(): void {},

  isUniqueViolation: (error: unknown): boolean => codeOf(error) === '23505',
  isTransient: (error: unknown): boolean => TRANSIENT_CODES.has(codeOf(error)),
  rawRows: (result: unknown): Record<string, unknown>[] => (result as { rows: Record<string, unknown>[] }).rows,
};

function codeOf(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? '');
}
