/**
 * MySQL 8+ and MariaDB 10.6+ via mysql2. MySQL has no UPDATE … RETURNING, so a claim is one
 * short READ COMMITTED transaction: SELECT … FOR UPDATE SKIP LOCKED of the whole rows, then an
 * UPDATE of those ids, whose changes are applied to the locked rows in memory instead of
 * reading them back; deadlocks and lock timeouts are retried.
 */
import type { Knex } from 'knex';
import {
  CLAIMABLE_WHERE,
  CLAIM_ORDER_BY,
  isConnectionLost,
  retryTransient,
  settingsGuard,
  type Adapter,
  type ChangeFeed,
  type ChangeListener,
  type ClaimRequest,
  type FinishRequest,
  type QueueRow,
  type TableNames,
} from '../adapter.js';
import { finishWithKnex } from '../knex-finish.js';
import { appendDetailsLine } from '../../lib/foundation/details.js';
import { claimLimited, type LimitedClaimDialect } from '../limited-claim.js';
import { mysqlChangeFeed } from './mysql-change-feed.js';
import { useNoPadCollation } from './mysql-collation.js';

// 1205 lock wait timeout, 1213 deadlock, 1053 server shutdown, 2006/2013 server gone, 4031 idle disconnect.
const TRANSIENT_ERRNOS = new Set([1053, 1205, 1213, 2006, 2013, 4031]);
// 1048 column cannot be null, 1153 packet over max_allowed_packet, 1301 a result (CONCAT)
// over max_allowed_packet, 1366 incorrect string value, 1406 data too long for the column,
// 3819 (MySQL) and 4025 (MariaDB) a CHECK constraint failed; and SQLSTATE class 22 (data
// exception), which a trigger's SIGNAL may raise too.
const REJECTED_VALUE_ERRNOS = new Set([1048, 1153, 1301, 1366, 1406, 3819, 4025]);

/**
 * Limited claims: READ COMMITTED, so every statement after the settings row's lock sees the
 * claims and finishes committed before it (REPEATABLE READ's snapshot would not).
 */
const limitedClaimDialect: LimitedClaimDialect = {
  transaction: (knex, request, work) => knex.transaction(work, request.preparedSession ? {} : { isolationLevel: 'read committed' }),
  lockSettings: (trx, settingsTable, queueName) => trx(settingsTable).where('queue_name', queueName).forUpdate().first(),
  async now(trx) {
    const [rows] = (await trx.raw('SELECT UTC_TIMESTAMP(3) AS now')) as [{ now: Date }[]];
    return (rows[0] as { now: Date }).now;
  },
  async claimRows(trx, table, ids, request, startedAt) {
    const { token, startedLine } = request;
    const marks = ids.map(() => '?').join(', ');
    await trx.raw(
      `UPDATE ?? SET status = 'running', attempts = attempts + 1, started_at = ?, heartbeat_at = UTC_TIMESTAMP(3), updated_at = ?,
         completed_at = NULL, claim_token = ?, details = CASE WHEN details = '' THEN ? ELSE CONCAT(details, ?) END
       WHERE id IN (${marks}) AND status = 'queued'`,
      [table, startedAt, request.now, token, startedLine, `\n${startedLine}`, ...ids],
    );
    const [rows] = (await trx.raw(`SELECT * FROM ?? WHERE id IN (${marks}) AND claim_token = ? ORDER BY ${CLAIM_ORDER_BY}`, [
      table,
      ...ids,
      token,
    ])) as [QueueRow[]];
    return rows;
  },
};

export const mysqlAdapter: Adapter = {
  dialect: 'mysql',
  capabilities: Object.freeze({
    returning: false,
    concurrentWriters: true,
    asyncCommit: false,
    partialIndexes: false,
    finishWakes: false,
    skipScanDistinct: true,
    forceIndex: true,
  }),

  async claim(knex: Knex, table: string, request: ClaimRequest): Promise<QueueRow[]> {
    const { queueName, limit, now, token, startedLine, preparedSession } = request;
    return retryTransient(mysqlAdapter, () =>
      knex.transaction(
        async (trx) => {
          // The whole rows, locked: the claim's own changes are applied to them here instead
          // of reading them back, one statement fewer per claim.
          // The server's clock comes along for heartbeat_at: a claim delayed in transit lands fresh.
          const [locked] = (await trx.raw(
            `SELECT *, UTC_TIMESTAMP(3) AS taskstore_now FROM ?? WHERE ${CLAIMABLE_WHERE} AND ${settingsGuard(table, '`')}
             ORDER BY ${CLAIM_ORDER_BY} LIMIT ? FOR UPDATE SKIP LOCKED`,
            [table, queueName, now, queueName, limit],
          )) as [QueueRow[]];
          if (locked.length === 0) return [];
          const heartbeatAt = locked[0]?.['taskstore_now'] as Date;
          const candidates = locked.map(({ taskstore_now: _, ...row }) => row);
          const ids = candidates.map((row) => String(row['id']));
          await trx.raw(
            `UPDATE ?? SET status = 'running', attempts = attempts + 1, started_at = ?, heartbeat_at = ?,
               updated_at = ?, completed_at = NULL, claim_token = ?,
               details = CASE WHEN details = '' THEN ? ELSE CONCAT(details, ?) END
             WHERE id IN (${ids.map(() => '?').join(', ')})`,
            [table, now, heartbeatAt, now, token, startedLine, `\n${startedLine}`, ...ids],
          );
          return candidates.map((row) => ({
            ...row,
            status: 'running',
            attempts: Number(row['attempts']) + 1,
            started_at: now,
            heartbeat_at: heartbeatAt,
            updated_at: now,
            completed_at: null,
            claim_token: token,
            details: appendDetailsLine(String(row['details']), startedLine),
          }));
        },
        // A session taskstore prepared is READ COMMITTED already: no SET TRANSACTION round trip.
        preparedSession ? {} : { isolationLevel: 'read committed' },
      ),
    );
  },

  claimLimited: (knex, table, request) => claimLimited(mysqlAdapter, limitedClaimDialect, knex, table, request),

  asyncCommitCondition: (): null => null,

  databaseNow: (knex: Knex): Knex.Raw => knex.raw('UTC_TIMESTAMP(3)'),
  olderThan: (knex: Knex, column: string, windowMs: number): Knex.Raw =>
    knex.raw('?? < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND', [column, Math.round(windowMs * 1000)]),

  finish: (knex: Knex, table: string, request: FinishRequest): Promise<Set<string>> => finishWithKnex(mysqlAdapter, knex, table, request),

  appendLine(knex: Knex, column: string, line: string): Knex.Raw {
    return knex.raw(`CASE WHEN ?? = '' THEN ? ELSE CONCAT(??, ?) END`, [column, line, column, `\n${line}`]);
  },

  // MariaDB and MySQL 8 both take VALUES(col) in ON DUPLICATE KEY UPDATE.
  addedOnConflict: (knex: Knex, _table: string, column: string): Knex.Raw => knex.raw('?? + VALUES(??)', [column, column]),

  async withMigrationLock<T>(knex: Knex, name: string, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    // GET_LOCK is held by the session, so the work runs on the same pinned connection.
    // MySQL commits DDL implicitly; the transaction here only pins that connection.
    return knex.transaction(async (trx) => {
      const [rows] = (await trx.raw('SELECT GET_LOCK(?, 120) AS acquired', [name])) as [{ acquired: number }[]];
      if (Number(rows[0]?.acquired) !== 1) throw new Error(`could not acquire migration lock ${name} within 120 s`);
      try {
        return await work(trx);
      } finally {
        await trx.raw('SELECT RELEASE_LOCK(?)', [name]);
      }
    });
  },

  // New rows carry ever-larger UUIDv7 ids: MAX(id) off the primary key is a cheap high-water
  // mark; the settings rows' versions, summed, move with every settings write. Read on a
  // connection of the feed's own every few milliseconds (mysql-change-feed.ts).
  watchChanges: (knex: Knex, tables: TableNames, listener: ChangeListener): ChangeFeed => mysqlChangeFeed(knex, tables, listener),
  installExtras: async (): Promise<boolean> => false,
  dropExtras: async (): Promise<void> => {},

  async maxStatementBytes(knex: Knex): Promise<number | null> {
    const [rows] = (await knex.raw('SELECT @@max_allowed_packet AS packet')) as [{ packet: unknown }[]];
    return Number(rows[0]?.packet);
  },

  async hasIndex(knex: Knex, table: string, indexName: string): Promise<boolean> {
    const [rows] = (await knex.raw(
      'SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1',
      [table, indexName],
    )) as [unknown[]];
    return rows.length > 0;
  },

  useExactComparison: useNoPadCollation,

  configureTable(table: Knex.CreateTableBuilder): void {
    // Binary, but PAD SPACE: migration 003 (useExactComparison) moves the tables to NO PAD.
    table.engine('InnoDB');
    table.charset('utf8mb4');
    table.collate('utf8mb4_bin');
  },

  isUniqueViolation: (error: unknown): boolean => errnoOf(error) === 1062,
  isTransient: (error: unknown): boolean => TRANSIENT_ERRNOS.has(errnoOf(error)) || isConnectionLost(error),
  isValueRejected: (error: unknown): boolean =>
    REJECTED_VALUE_ERRNOS.has(errnoOf(error)) || String((error as { sqlState?: unknown } | null)?.sqlState ?? '').startsWith('22'),
  rawRows: (result: unknown): Record<string, unknown>[] => (result as [Record<string, unknown>[]])[0],
};

function errnoOf(error: unknown): number {
  return Number((error as { errno?: unknown } | null)?.errno ?? 0);
}
