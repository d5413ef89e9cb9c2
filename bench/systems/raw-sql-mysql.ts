/**
 * The MySQL/MariaDB floor (issue #13): hand-written SQL on a mysql2/promise pool with no
 * library around it, the counterpart of the PostgreSQL `raw-sql` system.
 *
 * - one InnoDB table in the bench database (bench/databases.ts), `bench_raw_jobs`, with an
 *   index on `(queue, state, run_at, id)` (MySQL has no partial indexes; taskstore's claim
 *   index likewise starts with queue and status);
 * - every pooled session gets what taskstore gives its own (adapters/mysql/mysql-connection.ts):
 *   UTC, READ COMMITTED, a 5 s lock wait. taskstore sets nothing about durability there, so
 *   commits flush as the server's innodb_flush_log_at_trx_commit says (recorded in the
 *   settings at setup);
 * - enqueue: one INSERT per task, or one multi-row INSERT per batch;
 * - drain: `concurrency` loops, each claiming up to 50 in one READ COMMITTED transaction:
 *   `SELECT id … ORDER BY run_at, id LIMIT 50 FOR UPDATE SKIP LOCKED`, then
 *   `UPDATE … WHERE id IN (…)`, then COMMIT; the no-op handler runs for each row and one
 *   `UPDATE … WHERE id IN (…)` (autocommit) completes the batch (rows kept). Statements go
 *   through mysql2's `execute` (server-side prepared, cached per connection); a deadlock or a
 *   lock wait timeout rolls back and claims again;
 * - latency: the enqueue wakes the claim loop in-process (MySQL has no LISTEN/NOTIFY).
 */
import mysql from 'mysql2/promise';
import { LatencyProbe, StartCounter, nowMs } from '../harness.js';
import type { BenchSettings, BenchSystem, DrainResult } from '../harness.js';
import { ensureMysqlDatabase, mysqlUrl } from '../databases.js';
import { packageVersion } from '../environment.js';
import { ClaimOnSignal, RAW_CLAIM_BATCH, RAW_QUEUE } from './raw-sql-common.js';

const TABLE = 'bench_raw_jobs';

/** taskstore's session settings (prepareMysqlSession), with its default 5 s lock wait. */
const SESSION = [
  `SET time_zone = '+00:00', SESSION innodb_lock_wait_timeout = 5`,
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
];

const DDL = `
CREATE TABLE IF NOT EXISTS ${TABLE} (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  queue VARCHAR(64) NOT NULL,
  payload TEXT NOT NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'queued',
  run_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  attempts INT NOT NULL DEFAULT 0,
  locked_at DATETIME(3) NULL,
  completed_at DATETIME(3) NULL,
  KEY jobs_claimable (queue, state, run_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`;

const INSERT_ONE = `INSERT INTO ${TABLE} (queue, payload) VALUES (?, ?)`;
/** mysql2's `query` expands `VALUES ?` with an array of rows into one multi-row INSERT. */
const INSERT_MANY = `INSERT INTO ${TABLE} (queue, payload) VALUES ?`;

// LIMIT is written into the text: a bound LIMIT through `execute` is refused by some servers.
const CLAIM_SELECT = `
SELECT id FROM ${TABLE}
WHERE queue = ? AND state = 'queued' AND run_at <= NOW(3)
ORDER BY run_at, id
LIMIT ${RAW_CLAIM_BATCH}
FOR UPDATE SKIP LOCKED`;

const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');
const claimUpdate = (count: number): string =>
  `UPDATE ${TABLE} SET state = 'running', locked_at = NOW(3), attempts = attempts + 1 WHERE id IN (${placeholders(count)})`;
const complete = (count: number): string =>
  `UPDATE ${TABLE} SET state = 'completed', completed_at = NOW(3) WHERE id IN (${placeholders(count)})`;

/** 1205 lock wait timeout, 1213 deadlock: roll back and claim again. */
const RETRY_ERRNOS = new Set([1205, 1213]);

type Id = number | string;

export class RawSqlMysqlSystem implements BenchSystem {
  readonly id = 'raw-sql';
  readonly family = 'raw-sql';
  readonly dialect = 'mysql' as const;
  readonly version = `mysql2 ${packageVersion('mysql2')}`;
  readonly settings: Record<string, unknown>;
  readonly #url: string;
  readonly #bench: BenchSettings;
  #pool: mysql.Pool | undefined;
  #retries = 0;

  constructor(bench: BenchSettings, url = mysqlUrl()) {
    this.#url = url;
    this.#bench = bench;
    this.settings = {
      table: TABLE,
      session: 'UTC, READ COMMITTED, innodb_lock_wait_timeout 5 (as taskstore)',
      claimBatch: RAW_CLAIM_BATCH,
      claimLoops: bench.concurrency,
      claim: 'START TRANSACTION; SELECT id … LIMIT 50 FOR UPDATE SKIP LOCKED; UPDATE … WHERE id IN (…); COMMIT',
      complete: 'one UPDATE per claimed batch (rows kept)',
      wakeUp: 'in-process (latency only)',
    };
  }

  #requirePool(): mysql.Pool {
    if (!this.#pool) throw new Error(`${this.id} (mysql): setup() was not called`);
    return this.#pool;
  }

  async setup(): Promise<void> {
    await ensureMysqlDatabase(this.#url);
    const pool = mysql.createPool({
      uri: this.#url,
      connectionLimit: this.#bench.concurrency + 2,
      timezone: 'Z',
      charset: 'utf8mb4',
      supportBigNumbers: true,
    });
    // The core pool hands out callback connections; the session statements queue on a new
    // connection before anything the pool's caller sends on it.
    pool.pool.on('connection', (connection) => {
      for (const statement of SESSION) {
        connection.query(statement, (error: Error | null) => {
          if (error) process.stderr.write(`${this.id} (mysql): ${statement}: ${error.message}\n`);
        });
      }
    });
    this.#pool = pool;
    await pool.query(DDL);
    const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT @@innodb_flush_log_at_trx_commit AS flush, VERSION() AS version');
    this.settings.innodbFlushLogAtTrxCommit = Number(rows[0]?.['flush']);
    this.settings.server = String(rows[0]?.['version']);
  }

  async reset(): Promise<void> {
    await this.#requirePool().query(`TRUNCATE TABLE ${TABLE}`);
  }

  async analyze(): Promise<void> {
    await this.#requirePool().query(`ANALYZE TABLE ${TABLE}`);
  }

  async enqueue(n: number, batch: boolean): Promise<void> {
    const pool = this.#requirePool();
    if (!batch) {
      for (let i = 0; i < n; i++) await pool.execute(INSERT_ONE, [RAW_QUEUE, JSON.stringify({ i })]);
      return;
    }
    for (let from = 0; from < n; from += this.#bench.batchEnqueueSize) {
      const size = Math.min(this.#bench.batchEnqueueSize, n - from);
      const rows = Array.from({ length: size }, (_, k) => [RAW_QUEUE, JSON.stringify({ i: from + k })]);
      await pool.query(INSERT_MANY, [rows]);
    }
  }

  /** One claim transaction: the ids of up to RAW_CLAIM_BATCH rows, now running. */
  async #claim(): Promise<Id[]> {
    const connection = await this.#requirePool().getConnection();
    try {
      for (;;) {
        await connection.query('START TRANSACTION');
        try {
          const [rows] = await connection.execute<mysql.RowDataPacket[]>(CLAIM_SELECT, [RAW_QUEUE]);
          const ids = rows.map((row) => row['id'] as Id);
          if (ids.length > 0) await connection.execute(claimUpdate(ids.length), ids);
          await connection.query('COMMIT');
          return ids;
        } catch (error) {
          await connection.query('ROLLBACK');
          if (!RETRY_ERRNOS.has(Number((error as { errno?: unknown }).errno))) throw error;
          this.#retries += 1;
        }
      }
    } finally {
      connection.release();
    }
  }

  /** Claims up to RAW_CLAIM_BATCH rows, runs the handler on each, completes them. Returns the count. */
  async #claimAndComplete(onStart: () => void): Promise<number> {
    const ids = await this.#claim();
    if (ids.length === 0) return 0;
    for (const _id of ids) onStart();
    await this.#requirePool().execute(complete(ids.length), ids);
    return ids.length;
  }

  async drain(n: number, concurrency: number): Promise<DrainResult> {
    const counter = new StartCounter(n);
    const retriesBefore = this.#retries;
    const loop = async (): Promise<void> => {
      while ((await this.#claimAndComplete(() => counter.started())) > 0) {
        // keep claiming until the queue is empty
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const end = nowMs();
    if (counter.count < n) throw new Error(`${this.id} (mysql): drained ${counter.count} of ${n} tasks`);
    const retries = this.#retries - retriesBefore;
    if (retries > 0) process.stderr.write(`${this.id} (mysql): ${retries} claim(s) rolled back and retried during the drain\n`);
    const elapsedMs = end - (counter.firstStartMs ?? end);
    return { jobsPerSecond: (n / elapsedMs) * 1000, elapsedMs };
  }

  async latency(samples: number): Promise<number[]> {
    const pool = this.#requirePool();
    const probe = new LatencyProbe();
    const wake = new ClaimOnSignal(`${this.id} (mysql)`, async () => {
      while ((await this.#claimAndComplete(() => probe.started())) > 0) {
        // claim until empty
      }
    });
    try {
      return await probe.measure(samples, async () => {
        await pool.execute(INSERT_ONE, [RAW_QUEUE, '{}']);
        wake.signal();
      });
    } finally {
      await wake.settled();
    }
  }

  async teardown(): Promise<void> {
    await this.#pool?.end();
    this.#pool = undefined;
  }
}
