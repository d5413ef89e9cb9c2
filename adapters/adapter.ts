/**
 * The contract every database adapter fulfils. Everything that differs between SQLite,
 * PostgreSQL and MySQL/MariaDB lives behind it; the rest of taskstore speaks only this.
 */
import type { Knex } from 'knex';
import type { Dialect } from '../lib/foundation/types.js';
import { queueSettingsTable } from '../lib/foundation/table-names.js';
import { STATEMENT_DEADLINE_CODE, type DeadlineSwitch } from './statement-deadline.js';

/** What a dialect can do; callers branch on these, never on the dialect's name. */
export interface AdapterCapabilities {
  /** UPDATE … RETURNING. */
  readonly returning: boolean;
  /** Writers run in parallel (false: one writer at a time, as in SQLite). */
  readonly concurrentWriters: boolean;
  /** One statement can commit without waiting for the log flush (PostgreSQL synchronous_commit). */
  readonly asyncCommit: boolean;
  /** CREATE INDEX … WHERE: indexes that hold only the rows a query looks for. */
  readonly partialIndexes: boolean;
  /**
   * Another process's finished task reaches this process's change feed (PostgreSQL: the
   * notification runners of a concurrency-limited queue send; SQLite: data_version). Where
   * not, a runner waiting for a free slot of a full queue looks again after a short poll.
   */
  readonly finishWakes: boolean;
  /**
   * A SELECT DISTINCT over an index's leading columns skips from one value to the next (MySQL
   * and MariaDB's loose index scan, SQLite's skip-ahead) instead of reading every entry. Where
   * not (PostgreSQL), the capped grouped counts walk the index with a recursive query instead.
   */
  readonly skipScanDistinct: boolean;
  /**
   * `FORCE INDEX (name)` after a table in FROM (MySQL, MariaDB). The capped counts name the
   * covering index they were built for: MySQL may otherwise take the claim index, which shares
   * its leading columns but not soft_deleted_at, and look up every row.
   */
  readonly forceIndex: boolean;
}

/** Connection settings for broken networks, from the store's options (PostgreSQL and MySQL). */
export interface ConnectionSettings {
  /** A statement with no answer within this many ms closes its connection; 0 = no deadline. */
  readonly statementTimeoutMs: number;
  /** How long opening a connection may take. */
  readonly connectTimeoutMs: number;
  /** The server ends a session idle inside a transaction for this long (PostgreSQL; MariaDB rounds to seconds). */
  readonly idleTransactionTimeoutMs: number;
  /** How long a statement waits for a row lock (MySQL, rounded to seconds). */
  readonly lockWaitTimeoutMs: number;
  /** Suspends the statement deadline of these connections during long work (migrations). */
  readonly deadlines: DeadlineSwitch;
}

/** Resolved table names, validated as plain identifiers. */
export interface TableNames {
  readonly taskDefinition: string;
  readonly taskQueue: string;
  readonly schedule: string;
}

export interface ClaimRequest {
  readonly queueName: string;
  readonly limit: number;
  readonly now: Date;
  /** The claim token written to every claimed row. */
  readonly token: string;
  /** The details line appended to every claimed row ('… : Task started'). */
  readonly startedLine: string;
  /**
   * Commit without waiting for the log flush, where the dialect can (see asyncCommit). A limited
   * claim honours it only where it writes no rate ledger (PostgreSQL's concurrency-only claim).
   */
  readonly asyncCommit: boolean;
  /**
   * Every connection was prepared by taskstore (a URL or a Knex.Config, not the caller's own
   * Knex instance), so session settings such as MySQL's READ COMMITTED are in place.
   */
  readonly preparedSession: boolean;
  /**
   * Claims of the caller whose handlers have returned and whose finishing writes have not
   * landed: a limited claim does not count these rows as running (matched on id and token).
   */
  readonly settled?: readonly { readonly id: string; readonly token: string }[];
}

/** Receives wake-up hints from other processes: a queue name, or '*' for "look again". */
export interface ChangeListener {
  onChange(queueName: string): void;
  /** A running item was canceled in another process: its claim (id, token) is gone. Where the dialect notifies. */
  onCanceled?(id: string, token: string): void;
  /** The settings of this queue ('*': of some queue) changed (pause, resume, limits). */
  onSettingsChange(queueName: string): void;
  onError(error: unknown): void;
}

export interface ChangeFeed {
  close(): Promise<void>;
}

/** The final write of many claimed items ending alike, each matched on its (id, token). */
export interface FinishRequest {
  readonly items: readonly { readonly id: string; readonly token: string }[];
  readonly status: 'queued' | 'success' | 'failed' | 'canceled';
  /**
   * Delete the rows instead of writing the status (only with status 'success': a runner's
   * `removeOnSuccess`). Fenced the same way: only rows that still hold their claim go; output,
   * details and availableAt are not written anywhere.
   */
  readonly remove: boolean;
  readonly output: string;
  /** Details lines to append, already stamped and joined; '' for none. */
  readonly details: string;
  /** For status 'queued' (a retry): when it may run again. */
  readonly availableAt: Date | null;
  readonly now: Date;
  readonly asyncCommit: boolean;
}

/** A raw task_queue row as the driver returns it (snake_case columns). */
export type QueueRow = Record<string, unknown>;

/** A queue settings row as the driver returns it. */
export type SettingsRow = Record<string, unknown>;

export interface LimitedClaimResult {
  /** The claimed rows, in claim order. */
  readonly rows: QueueRow[];
  /** The queue's settings row as this claim saw it; null when the queue has none. */
  readonly settings: SettingsRow | null;
  /** A rate limit held the claim back: the next start may be allowed in this many ms (a hint). */
  readonly waitMs: number | null;
  /** A concurrency limit (the queue's or a group's) held the claim back: a finish frees a slot. */
  readonly full: boolean;
}

export interface Adapter {
  readonly dialect: Dialect;
  readonly capabilities: AdapterCapabilities;

  /**
   * Atomically moves up to `limit` due, queued, live rows of a queue to running, in claim
   * order (priority desc, available_at, id), and returns them in that order. Each row is
   * claimed by exactly one caller however many claim at once.
   */
  claim(knex: Knex, table: string, request: ClaimRequest): Promise<QueueRow[]>;

  /**
   * The claim of a queue with settings (adapters/limited-claim.ts): in one transaction
   * serialised on the queue's settings row, nothing from a paused queue, and no more than its
   * concurrency and rate limits (and each group's) allow. Also correct for a queue without
   * settings, only slower than `claim`.
   */
  claimLimited(knex: Knex, table: string, request: ClaimRequest): Promise<LimitedClaimResult>;

  /**
   * Optional, where the change feed is a notification channel: tells other processes' runners
   * that a queue may have work or a free slot ('queue'), or that its settings changed
   * ('settings'). Inside a transaction, delivered at its commit.
   */
  notify?(knex: Knex, tables: TableNames, kind: 'queue' | 'settings', queueName: string): Promise<void>;

  /**
   * A WHERE condition, always true, that makes the statement's own commit skip the wait for
   * the log flush; null where the dialect has no such thing. Only for state transitions of
   * claimed items, never for enqueues: losing one in a database crash re-runs a task.
   */
  asyncCommitCondition(knex: Knex): Knex.Raw | null;

  /**
   * Optional: inserts new task_queue rows (all with the same columns) in one statement, and
   * returns how many landed. With `skipConflicts`, a row whose unique key is already held is
   * skipped instead of failing the statement. Without this method, knex's multi-row INSERT is
   * used.
   */
  insertQueueRows?(knex: Knex, table: string, rows: readonly QueueRow[], options: { skipConflicts: boolean }): Promise<number>;

  /**
   * Ends the attempts of claimed items that still hold their claim (with `remove`, by deleting
   * their rows); returns the ids it wrote or deleted.
   */
  finish(knex: Knex, table: string, request: FinishRequest): Promise<Set<string>>;

  /** SQL that appends a line to a text column holding newline-separated lines. */
  appendLine(knex: Knex, column: string, line: string): Knex.Raw;

  /** In an upsert's update (knex `.onConflict().merge()`): the stored `column` of `table` plus the value the insert proposed. */
  addedOnConflict(knex: Knex, table: string, column: string): Knex.Raw;

  /**
   * The database's own clock, for lease stamps (`heartbeat_at`) and the sweep's cutoff, so a
   * claim or heartbeat delayed on the way to the server lands fresh, and the application's
   * clock skew does not matter. Null where the database is in-process (SQLite): then the
   * application's clock is the database's.
   */
  databaseNow(knex: Knex): Knex.Raw | null;

  /** A condition: `column` is more than `windowMs` older than the database's clock (or than `cutoff` where it has none). */
  olderThan(knex: Knex, column: string, windowMs: number, cutoff: Date): Knex.Raw;

  /** Runs `work` while holding a database-wide lock named `name` (migrations). */
  withMigrationLock<T>(knex: Knex, name: string, work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;

  /**
   * Watches for new queue rows written by other processes (LISTEN/NOTIFY, or a cheap polled
   * probe). Hints only: runners keep polling as the fallback.
   */
  watchChanges(knex: Knex, tables: TableNames, listener: ChangeListener): ChangeFeed;

  /**
   * Optional: tells every process watching changes (watchChanges' onCanceled) at once that a
   * running item's claim was ended by a cancel. Without it, the holder learns at its next heartbeat.
   */
  notifyCanceled?(knex: Knex, tables: TableNames, id: string, token: string): Promise<void>;

  /** Schema objects beyond tables and indexes (PostgreSQL's notify trigger). Idempotent; true when it created something. */
  installExtras(knex: Knex, tables: TableNames): Promise<boolean>;
  dropExtras(knex: Knex, tables: TableNames): Promise<void>;

  /**
   * The largest statement the server accepts, in bytes (MySQL's max_allowed_packet); null
   * where only memory limits it.
   */
  maxStatementBytes(knex: Knex): Promise<number | null>;

  /** Whether an index of this name exists on the table. */
  hasIndex(knex: Knex, table: string, indexName: string): Promise<boolean>;
  /**
   * Runs a read made of many small correlated index probes (the capped grouped counts of
   * lib/queue/capped-counts.ts), whose planned cost is far above what it reads. PostgreSQL
   * would JIT-compile such a plan, which takes longer than the read: there it runs with
   * `jit = off` (SET LOCAL, in a transaction of its own). Absent: the read just runs.
   */
  probeRead?<T>(knex: Knex, read: (db: Knex) => Promise<T>): Promise<T>;

  /**
   * Makes the text columns of these tables compare exactly, trailing spaces included, so
   * 'pad' and 'pad ' are two queue names and two unique keys (MySQL/MariaDB: a NO PAD binary
   * collation; SQLite and PostgreSQL already compare so). Idempotent; true when it changed a table.
   */
  useExactComparison(knex: Knex, tables: readonly string[]): Promise<boolean>;

  /** Table-level options for CREATE TABLE (charset, collation, engine). */
  configureTable(table: Knex.CreateTableBuilder): void;

  /** A unique index violation. */
  isUniqueViolation(error: unknown): boolean;

  /** A transient error worth retrying the same statement for (deadlock, busy, lock timeout). */
  isTransient(error: unknown): boolean;

  /**
   * The database refused a value the statement carried (its encoding, its size, the
   * statement's size, or a CHECK constraint or trigger on the table), not the connection or a
   * lock: the same write with other values may succeed.
   */
  isValueRejected(error: unknown): boolean;

  /** Rows affected by a knex.raw() statement, from the driver's own result shape. */
  rawRows(result: unknown): Record<string, unknown>[];
}

/** Socket and driver codes of a connection that broke, timed out or was refused. */
const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // mysql2
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  // taskstore's own statement deadline (see statement-deadline.ts)
  STATEMENT_DEADLINE_CODE,
]);

/** What node-postgres and knex say, with no code, when a connection breaks or cannot be had. */
const CONNECTION_MESSAGES = [
  // 'Connection terminated unexpectedly' and '… due to connection timeout' alike
  'Connection terminated',
  'Connection ended unexpectedly',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Knex: Timeout acquiring a connection',
  // mysql2, for a statement on a connection that was closed meanwhile (a ROLLBACK after a deadline)
  "Can't add new command when connection is in closed state",
];

/**
 * The statement never got an answer because the connection broke, was refused or hung: the
 * same statement may be sent again on another connection. Only statements that are safe to
 * repeat are retried on this (guarded writes fenced by a claim token, claims, sweeps), never
 * an enqueue.
 */
export function isConnectionLost(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  // knex prefixes some messages with the statement ('ROLLBACK - …'), so look anywhere in it.
  return typeof message === 'string' && CONNECTION_MESSAGES.some((text) => message.includes(text));
}

/**
 * Retries `work` on transient errors with a jittered backoff: short for a deadlock or a busy
 * database (about 1 s over all attempts), longer for a lost connection (about 10 s), so a
 * database restart or a cut connection does not fail the write. A timeout (the statement
 * deadline, a connect or acquire timeout) is retried once only: a second one means the
 * network, not one connection, is gone, and the caller should hear of it now rather than
 * after many more timeouts.
 */
export async function retryTransient<T>(adapter: Adapter, work: () => Promise<T>, attempts = 8): Promise<T> {
  let timeouts = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (isTimeout(error)) timeouts += 1;
      if (attempt >= attempts || timeouts > 1 || !adapter.isTransient(error)) throw error;
      const baseMs = isConnectionLost(error) ? Math.min(2_500, 40 * 2 ** attempt) : 5 * 2 ** attempt;
      await new Promise((resolve) => setTimeout(resolve, baseMs / 2 + (Math.random() * baseMs) / 2));
    }
  }
}

/** A statement, connect or acquire that gave up waiting (as opposed to a connection refused or reset). */
function isTimeout(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === STATEMENT_DEADLINE_CODE || code === 'ETIMEDOUT' || code === 'PROTOCOL_SEQUENCE_TIMEOUT') return true;
  return typeof message === 'string' && /timeout expired|Timeout acquiring a connection|due to connection timeout/.test(message);
}

/** Claim order as a comparator: the order rows come back from `claim`. */
export function compareClaimOrder(a: QueueRow, b: QueueRow): number {
  const priority = Number(b['priority']) - Number(a['priority']);
  if (priority !== 0) return priority;
  const available = toMillis(a['available_at']) - toMillis(b['available_at']);
  if (available !== 0) return available;
  return String(a['id']) < String(b['id']) ? -1 : String(a['id']) > String(b['id']) ? 1 : 0;
}

function toMillis(value: unknown): number {
  return value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(String(value));
}

/**
 * The fast claim's guard, evaluated once per statement: nothing is taken from a queue whose
 * settings pause or limit it (those go through `claimLimited`). `queueTable` is a validated
 * plain identifier; `quote` is the dialect's identifier quote, `queueParam` its placeholder.
 */
export const settingsGuard = (queueTable: string, quote: string, queueParam = '?'): string =>
  `NOT EXISTS (SELECT 1 FROM ${quote}${queueSettingsTable(queueTable)}${quote} WHERE queue_name = ${queueParam} AND gated)`;

/** The WHERE clause shared by every dialect's claim: due, queued, live rows of one queue. */
export const CLAIMABLE_WHERE = `queue_name = ? AND status = 'queued' AND available_at <= ? AND soft_deleted_at IS NULL`;
export const CLAIM_ORDER_BY = `priority DESC, available_at ASC, id ASC`;
