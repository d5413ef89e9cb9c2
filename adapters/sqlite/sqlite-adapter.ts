/**
 * SQLite via better-sqlite3, in WAL mode with a busy timeout. A claim is one guarded
 * UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING *: SQLite runs one writer at a time, so
 * the statement itself is the lock, across connections and processes alike. The limited claim
 * of a queue whose only limit is its concurrency is one IMMEDIATE transaction of prepared
 * statements (sqlite-limited-claim.ts); other limits take the shared path (limited-claim.ts).
 */
import type { Knex } from 'knex';
import { queueSettingsTable } from '../../lib/foundation/table-names.js';
import {
  CLAIMABLE_WHERE,
  CLAIM_ORDER_BY,
  compareClaimOrder,
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
import { claimedRows } from '../claimed-rows.js';
import { claimLimited, type LimitedClaimDialect } from '../limited-claim.js';
import { sqliteChangeFeed } from './sqlite-change-feed.js';
import { claimWithinConcurrency } from './sqlite-limited-claim.js';
import { CLAIMED_PAIRS, CLAIM_RETURNING, CLAIM_SET, preparedAll } from './sqlite-prepared.js';

/** SQLite runs one writer at a time: taking the write lock first serialises the limited claims. */
const limitedClaimDialect: LimitedClaimDialect = {
  transaction: (knex, _request, work) => knex.transaction(work),
  async lockSettings(trx, settingsTable, queueName) {
    // A write that matches nothing: it takes the write lock (waiting out the busy timeout)
    // without changing the file, so other processes' data_version does not move.
    await trx.raw('UPDATE ?? SET version = version WHERE 0', [settingsTable]);
    return trx(settingsTable).where('queue_name', queueName).first();
  },
  now: async () => new Date(),
  async claimRows(trx, table, ids, request, startedAt) {
    const { token, startedLine } = request;
    const rows = (await trx.raw(
      `UPDATE ?? SET ${CLAIM_SET} WHERE id IN (${ids.map(() => '?').join(', ')}) AND status = 'queued' RETURNING *`,
      [table, startedAt, startedAt, request.now, token, startedLine, `\n${startedLine}`, ...ids],
    )) as QueueRow[];
    return rows.sort(compareClaimOrder);
  },
};

/**
 * The finishing write of a batch, one statement text for any batch size: the (id, claim
 * token) pairs arrive as one JSON array. Fenced by the token, as every dialect's finish is.
 */
function finishStatement(table: string): string {
  return `UPDATE "${table}" SET status = ?, output = ?, updated_at = ?, claim_token = NULL,
      details = CASE WHEN ? = '' THEN details WHEN details = '' THEN ? ELSE details || char(10) || ? END,
      available_at = CASE WHEN ? = 'queued' THEN ? ELSE available_at END,
      completed_at = CASE WHEN ? = 'queued' THEN completed_at ELSE ? END,
      unique_key_active = CASE WHEN ? = 'queued' THEN unique_key_active ELSE NULL END
    WHERE ${CLAIMED_PAIRS}
    RETURNING id`;
}

/** The finishing write of successes under `removeOnSuccess`: the rows that still hold their claims go. */
function removeStatement(table: string): string {
  return `DELETE FROM "${table}" WHERE ${CLAIMED_PAIRS} RETURNING id`;
}

export const sqliteAdapter: Adapter = {
  dialect: 'sqlite',
  capabilities: Object.freeze({
    returning: true,
    concurrentWriters: false,
    asyncCommit: false,
    partialIndexes: true,
    finishWakes: true,
    skipScanDistinct: true,
    forceIndex: false,
  }),

  async claim(knex: Knex, table: string, request: ClaimRequest): Promise<QueueRow[]> {
    const { queueName, limit, now, token, startedLine } = request;
    const rows = await retryTransient(sqliteAdapter, () =>
      preparedAll(
        knex,
        `UPDATE "${table}" SET ${CLAIM_SET}
         WHERE id IN (SELECT id FROM "${table}" WHERE ${CLAIMABLE_WHERE} AND ${settingsGuard(table, '"')} ORDER BY ${CLAIM_ORDER_BY} LIMIT ?)
           AND status = 'queued'
         RETURNING ${CLAIM_RETURNING}`,
        [now, now, now, token, startedLine, `\n${startedLine}`, queueName, now, queueName, limit],
      ),
    );
    return claimedRows(rows, request);
  },

  // A queue whose only limit is its concurrency: one synchronous IMMEDIATE transaction of
  // prepared statements (sqlite-limited-claim.ts); any other limits: the shared path.
  async claimLimited(knex, table, request) {
    const claimed = await retryTransient(sqliteAdapter, () => claimWithinConcurrency(knex, table, request));
    return claimed ?? claimLimited(sqliteAdapter, limitedClaimDialect, knex, table, request);
  },

  asyncCommitCondition: (): null => null,

  async finish(knex: Knex, table: string, request: FinishRequest): Promise<Set<string>> {
    const { items, status, output, details, availableAt, now } = request;
    if (items.length === 0) return new Set();
    const pairs = JSON.stringify(items.map((item) => [item.id, item.token]));
    if (request.remove) {
      const removed = await preparedAll(knex, removeStatement(table), [pairs, pairs]);
      return new Set(removed.map((row) => String(row['id'])));
    }
    const rows = await preparedAll(knex, finishStatement(table), [
      status,
      output,
      now,
      details,
      details,
      details,
      status,
      availableAt,
      status,
      now,
      status,
      pairs,
      pairs,
    ]);
    return new Set(rows.map((row) => String(row['id'])));
  },

  appendLine(knex: Knex, column: string, line: string): Knex.Raw {
    return knex.raw(`CASE WHEN ?? = '' THEN ? ELSE ?? || ? END`, [column, line, column, `\n${line}`]);
  },

  addedOnConflict: (knex: Knex, table: string, column: string): Knex.Raw => knex.raw('??.?? + excluded.??', [table, column, column]),

  async withMigrationLock<T>(knex: Knex, _name: string, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    // One writer at a time is SQLite's own rule; a process that loses the race gets
    // SQLITE_BUSY and tries again, and the migrations themselves are idempotent.
    return retryTransient(sqliteAdapter, () => knex.transaction(work), 20);
  },

  // data_version moves whenever another connection (another process) commits; reading it
  // touches no table. Our own commits wake our runners directly.
  watchChanges: (knex: Knex, tables: TableNames, listener: ChangeListener): ChangeFeed =>
    sqliteChangeFeed(knex, queueSettingsTable(tables.taskQueue), listener),
  installExtras: async (): Promise<boolean> => false,
  dropExtras: async (): Promise<void> => {},

  maxStatementBytes: async (): Promise<null> => null,

  async hasIndex(knex: Knex, table: string, indexName: string): Promise<boolean> {
    const rows = await knex.raw(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?`, [table, indexName]);
    return sqliteAdapter.rawRows(rows).length > 0;
  },

  // The BINARY collation compares exactly.
  useExactComparison: async (): Promise<boolean> => false,
  configureTable(): void {},

  databaseNow: (): null => null,
  olderThan: (knex: Knex, column: string, _windowMs: number, cutoff: Date): Knex.Raw => knex.raw('?? < ?', [column, cutoff.getTime()]),

  isUniqueViolation: (error: unknown): boolean =>
    String(codeOf(error)).startsWith('SQLITE_CONSTRAINT_UNIQUE') || String(codeOf(error)) === 'SQLITE_CONSTRAINT_PRIMARYKEY',
  isTransient: (error: unknown): boolean =>
    String(codeOf(error)).startsWith('SQLITE_BUSY') || String(codeOf(error)).startsWith('SQLITE_LOCKED'),
  // A string or blob over SQLITE_MAX_LENGTH (1,000,000,000 bytes by default), or a CHECK
  // constraint or a trigger's RAISE(ABORT) refusing the row.
  isValueRejected: (error: unknown): boolean =>
    ['SQLITE_TOOBIG', 'SQLITE_CONSTRAINT_CHECK', 'SQLITE_CONSTRAINT_TRIGGER'].includes(String(codeOf(error))),
  rawRows: (result: unknown): Record<string, unknown>[] => (Array.isArray(result) ? (result as Record<string, unknown>[]) : []),
};

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code ?? '';
}
