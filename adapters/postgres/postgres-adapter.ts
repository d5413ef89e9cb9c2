/**
 * PostgreSQL via pg. Claims are one statement: UPDATE … WHERE id IN (SELECT … FOR UPDATE
 * SKIP LOCKED LIMIT n) RETURNING *, so claimers never block one another.
 */
import type { Knex } from 'knex';
import {
  CLAIM_ORDER_BY,
  compareClaimOrder,
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
import { claimedRows } from '../claimed-rows.js';
import { claimLimited, type LimitedClaimDialect } from '../limited-claim.js';
import { CLAIM_RETURNING, claimWithinConcurrency } from './postgres-claims.js';
import { codeOf, preparedQuery } from './postgres-pooled.js';
import {
  dropNotifyTrigger,
  installNotifyTrigger,
  listenChangeFeed,
  notifyCanceled,
  notifyChannel,
  settingsChannel,
} from './postgres-change-feed.js';

/**
 * Evaluated once per statement (an InitPlan): sets synchronous_commit off for this
 * statement's own transaction only (is_local), leaving the session's setting alone.
 */
const ASYNC_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL`;

/** The SQL type of each task_queue column, for rows read back out of one JSON parameter. */
const QUEUE_COLUMN_TYPES: Readonly<Record<string, string>> = {
  id: 'text',
  task_id: 'text',
  queue_name: 'text',
  status: 'text',
  parameters: 'text',
  output: 'text',
  details: 'text',
  attempts: 'integer',
  max_attempts: 'integer',
  priority: 'integer',
  unique_key: 'text',
  unique_key_active: 'text',
  group_key: 'text',
  flow_id: 'text',
  flow_key: 'text',
  waiting_parents: 'integer',
  failed_parents: 'integer',
  on_parent_failure: 'text',
  available_at: 'timestamptz',
  started_at: 'timestamptz',
  completed_at: 'timestamptz',
  heartbeat_at: 'timestamptz',
  claim_token: 'text',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
  soft_deleted_at: 'timestamptz',
  trace_context: 'text',
};

/**
 * The finishing write: `unnest` pairs each id with its own token, and keeps the statement text
 * the same for any batch size, so it is prepared once per connection.
 *
 * The rows are found by primary key and fenced by their claim token alone. A token is only
 * ever set together with status 'running' and cleared by every write that leaves it, so a
 * matching token means a running row; and a `status = 'running'` condition here would let
 * the planner pick the partial index of running rows, which it does whenever the table was
 * analyzed while nothing ran (it then expects one running row). Measured with a million
 * finished rows in the table: that plan joined every running row with every finished id and
 * the drain fell to 14% of its rate.
 */
export function finishStatement(table: string, asyncCommit: boolean): string {
  return `UPDATE "${table}" AS t SET status = $1::text, output = $2::text, updated_at = $3, claim_token = NULL,
       details = CASE WHEN $4::text = '' THEN t.details WHEN t.details = '' THEN $4::text ELSE t.details || chr(10) || $4::text END,
       available_at = CASE WHEN $1::text = 'queued' THEN $5::timestamptz ELSE t.available_at END,
       completed_at = CASE WHEN $1::text = 'queued' THEN t.completed_at ELSE $3 END,
       unique_key_active = CASE WHEN $1::text = 'queued' THEN t.unique_key_active ELSE NULL END
     FROM unnest($6::text[], $7::text[]) AS f(id, token)
     WHERE t.id = f.id AND t.claim_token = f.token
       ${asyncCommit ? `AND ${ASYNC_COMMIT}` : ''}
     RETURNING t.id`;
}

/**
 * The finishing write of a runner with `removeOnSuccess`: the same rows, found and fenced the
 * same way as by `finishStatement` (primary key and claim token, nothing about status), deleted
 * instead of updated. Prepared once per connection, like the UPDATE.
 */
export function removeStatement(table: string, asyncCommit: boolean): string {
  return `DELETE FROM "${table}" AS t USING unnest($1::text[], $2::text[]) AS f(id, token)
     WHERE t.id = f.id AND t.claim_token = f.token
       ${asyncCommit ? `AND ${ASYNC_COMMIT}` : ''}
     RETURNING t.id`;
}

/** The parameters of `finishStatement`, in order. */
const finishValues = ({ status, output, now, details, availableAt }: FinishRequest, ids: string[], tokens: string[]): unknown[] => [
  status,
  output,
  now,
  details,
  availableAt,
  ids,
  tokens,
];

/**
 * Limited claims: READ COMMITTED (each statement sees every commit before it), the settings
 * row locked FOR UPDATE, and the server's clock after the lock (clock_timestamp, not the
 * transaction's start) as the start the ledger records.
 */
const limitedClaimDialect: LimitedClaimDialect = {
  transaction: (knex, _request, work) => knex.transaction(work),
  lockSettings: (trx, settingsTable, queueName) => trx(settingsTable).where('queue_name', queueName).forUpdate().first(),
  async now(trx) {
    const result = (await trx.raw('SELECT clock_timestamp() AS now')) as { rows: { now: Date }[] };
    return (result.rows[0] as { now: Date }).now;
  },
  async claimRows(trx, table, ids, request, startedAt) {
    const { token, startedLine } = request;
    const result = (await trx.raw(
      `UPDATE ?? SET status = 'running', attempts = attempts + 1, started_at = ?, heartbeat_at = now(), updated_at = ?,
         completed_at = NULL, claim_token = ?, details = CASE WHEN details = '' THEN ? ELSE details || ? END
       WHERE id IN (${ids.map(() => '?').join(', ')}) AND status = 'queued'
       RETURNING *`,
      [table, startedAt, request.now, token, startedLine, `\n${startedLine}`, ...ids],
    )) as { rows: QueueRow[] };
    return result.rows.sort(compareClaimOrder);
  },
};

/** Claims of up to this many rows have a prepared statement of their own per limit (see claim). */
const LITERAL_LIMIT_MAX = 100;

/**
 * Serialization failure, deadlock, lock not available; the server shutting down, crashed or
 * starting up (57P01–57P03); connection failures (class 08).
 */
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

export const postgresAdapter: Adapter = {
  dialect: 'postgres',
  capabilities: Object.freeze({
    returning: true,
    concurrentWriters: true,
    asyncCommit: true,
    partialIndexes: true,
    finishWakes: true,
    skipScanDistinct: false,
    forceIndex: false,
  }),

  async claim(knex: Knex, table: string, request: ClaimRequest): Promise<QueueRow[]> {
    const { queueName, limit, now, token, startedLine, asyncCommit } = request;
    // The limit is written into the statement (one prepared statement per limit, up to
    // LITERAL_LIMIT_MAX): with `LIMIT $6` the plan cache's generic plan guesses a tenth of the
    // table and joins it by a sequential scan, so every execution was planned anew; with a
    // literal limit the generic plan is the custom one and is kept after five executions.
    const literal = Number.isSafeInteger(limit) && limit >= 1 && limit <= LITERAL_LIMIT_MAX;
    // heartbeat_at from the server's clock: a claim delayed in transit still lands fresh.
    const text = `UPDATE "${table}" SET status = 'running', attempts = attempts + 1, started_at = $1, heartbeat_at = now(),
         updated_at = $1, completed_at = NULL, claim_token = $2,
         details = CASE WHEN details = '' THEN $3 ELSE details || $4 END
       WHERE id IN (SELECT id FROM "${table}" WHERE queue_name = $5 AND status = 'queued' AND available_at <= $1
           AND soft_deleted_at IS NULL AND ${settingsGuard(table, '"', '$5')} ORDER BY ${CLAIM_ORDER_BY}
           LIMIT ${literal ? limit : '$6'} FOR UPDATE SKIP LOCKED)
         ${asyncCommit ? `AND ${ASYNC_COMMIT}` : ''}
       RETURNING ${CLAIM_RETURNING}`;
    const values = [now, token, startedLine, `\n${startedLine}`, queueName, ...(literal ? [] : [limit])];
    const name = `taskstore_claim_${table}_${asyncCommit ? 'a' : 's'}_${literal ? limit : 'n'}`;
    return claimedRows(await preparedQuery(knex, name, text, values), request);
  },

  async claimLimited(knex, table, request) {
    const claimed = await retryTransient(postgresAdapter, () => claimWithinConcurrency(knex, table, request));
    return claimed ?? claimLimited(postgresAdapter, limitedClaimDialect, knex, table, request);
  },

  async notify(knex: Knex, tables: TableNames, kind: 'queue' | 'settings', queueName: string): Promise<void> {
    await knex.raw('SELECT pg_notify(?, ?)', [kind === 'queue' ? notifyChannel(tables) : settingsChannel(tables), queueName]);
  },

  async insertQueueRows(knex: Knex, table: string, rows: readonly QueueRow[], { skipConflicts }): Promise<number> {
    if (rows.length === 0) return 0;
    // One JSON parameter instead of a parameter per value: a 1,000-row batch is one short
    // statement for the server to parse, not 20,000 placeholders.
    const columns = Object.keys(rows[0] as QueueRow);
    const definitions = columns.map((column) => {
      const type = QUEUE_COLUMN_TYPES[column];
      if (!type) throw new Error(`insertQueueRows: unknown column '${column}'`);
      return `"${column}" ${type}`;
    });
    const list = columns.map((column) => `"${column}"`).join(', ');
    const result = await knex.raw(
      `INSERT INTO "${table}" (${list}) SELECT ${list} FROM json_to_recordset(?::json) AS r(${definitions.join(', ')})
       ${skipConflicts ? 'ON CONFLICT DO NOTHING' : ''} RETURNING 1`,
      [JSON.stringify(rows)],
    );
    return (result as { rowCount: number }).rowCount;
  },

  async finish(knex: Knex, table: string, request: FinishRequest): Promise<Set<string>> {
    const { items, asyncCommit } = request;
    if (items.length === 0) return new Set();
    const ids = items.map((item) => item.id);
    const tokens = items.map((item) => item.token);
    const mode = asyncCommit ? 'a' : 's';
    const rows = request.remove
      ? await preparedQuery(knex, `taskstore_remove_${table}_${mode}`, removeStatement(table, asyncCommit), [ids, tokens])
      : await preparedQuery(
          knex,
          `taskstore_finish_${table}_${mode}`,
          finishStatement(table, asyncCommit),
          finishValues(request, ids, tokens),
        );
    return new Set(rows.map((row) => String(row['id'])));
  },

  asyncCommitCondition: (knex: Knex): Knex.Raw => knex.raw(ASYNC_COMMIT),

  appendLine(knex: Knex, column: string, line: string): Knex.Raw {
    return knex.raw(`CASE WHEN ?? = '' THEN ? ELSE ?? || ? END`, [column, line, column, `\n${line}`]);
  },

  addedOnConflict: (knex: Knex, table: string, column: string): Knex.Raw => knex.raw('??.?? + excluded.??', [table, column, column]),

  async withMigrationLock<T>(knex: Knex, name: string, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    // A transaction-scoped advisory lock: DDL in PostgreSQL is transactional, so the whole
    // migration commits or rolls back with the lock held, on one connection.
    return knex.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [name]);
      return work(trx);
    });
  },

  watchChanges: (knex: Knex, tables: TableNames, listener: ChangeListener): ChangeFeed => listenChangeFeed(knex, tables, listener),
  notifyCanceled,
  installExtras: installNotifyTrigger,
  dropExtras: dropNotifyTrigger,

  maxStatementBytes: async (): Promise<null> => null,

  probeRead<T>(knex: Knex, read: (db: Knex) => Promise<T>): Promise<T> {
    return knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL jit = off');
      return read(trx);
    });
  },

  async hasIndex(knex: Knex, table: string, indexName: string): Promise<boolean> {
    const result = await knex.raw('SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexname = ?', [
      table,
      indexName,
    ]);
    return (result as { rows: unknown[] }).rows.length > 0;
  },

  // varchar and text compare exactly (a deterministic collation; only char(n) pads).
  useExactComparison: async (): Promise<boolean> => false,
  configureTable(): void {},

  databaseNow: (knex: Knex): Knex.Raw => knex.raw('now()'),
  olderThan: (knex: Knex, column: string, windowMs: number): Knex.Raw =>
    knex.raw(`?? < now() - (? * interval '1 millisecond')`, [column, windowMs]),

  isUniqueViolation: (error: unknown): boolean => codeOf(error) === '23505',
  isTransient: (error: unknown): boolean => TRANSIENT_CODES.has(codeOf(error)) || isConnectionLost(error),
  // Class 22, data exception (22021 invalid byte sequence, 22P05 untranslatable character,
  // 22001 value too long, …), 23514 check violation and 54000 program limit exceeded.
  isValueRejected: (error: unknown): boolean => /^22[0-9A-Z]{3}$/.test(codeOf(error)) || ['23514', '54000'].includes(codeOf(error)),
  rawRows: (result: unknown): Record<string, unknown>[] => (result as { rows: Record<string, unknown>[] }).rows,
};
