/**
 * The SQLite floor (issue #13): hand-written SQL on better-sqlite3 with no library around it,
 * the counterpart of the PostgreSQL `raw-sql` system.
 *
 * - its own file, `raw-sql.db` beside taskstore's bench file (bench/databases.ts), opened with
 *   the pragmas taskstore gives every SQLite connection (adapters/sqlite/sqlite-connection.ts):
 *   journal_mode = WAL, synchronous = NORMAL, busy_timeout = 10000, foreign_keys = ON;
 * - one table, integer primary key, a partial index on the claimable rows;
 * - one connection, driven through better-sqlite3's synchronous API, every statement prepared
 *   once: SQLite runs one writer at a time, so more connections would only queue on its lock;
 * - enqueue: one INSERT per task (autocommit), or a batch's INSERTs in one transaction;
 * - drain: one loop (the handlers are no-ops, so concurrency buys nothing on one connection):
 *   claim up to 50 with `UPDATE … WHERE id IN (SELECT id … ORDER BY run_at, id LIMIT 50)
 *   RETURNING` in a BEGIN IMMEDIATE transaction, run the handler for each, complete the batch
 *   with one `UPDATE … WHERE id IN (…)` (rows kept, as a durable queue with history would);
 * - latency: the enqueue wakes the claim loop in-process (no other process is involved).
 */
import Database from 'better-sqlite3';
import { LatencyProbe, StartCounter, nowMs } from '../harness.js';
import type { BenchSettings, BenchSystem, DrainResult } from '../harness.js';
import { ensureSqliteDirectory, sqliteFileBeside } from '../databases.js';
import { packageVersion } from '../environment.js';
import { ClaimOnSignal, RAW_CLAIM_BATCH, RAW_QUEUE } from './raw-sql-common.js';

const FILE = 'raw-sql.db';

/** The same pragmas, in the same order, as taskstore's prepareSqliteConnection. */
const PRAGMAS = ['journal_mode = WAL', 'busy_timeout = 10000', 'synchronous = NORMAL', 'foreign_keys = ON'];

const DDL = `
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued',
  run_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  locked_at INTEGER,
  completed_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_claimable ON jobs (queue, run_at, id) WHERE state = 'queued';
`;

const INSERT = `INSERT INTO jobs (queue, payload, run_at) VALUES (?, ?, ?)`;

const CLAIM = `
UPDATE jobs SET state = 'running', locked_at = ?, attempts = attempts + 1
WHERE id IN (
  SELECT id FROM jobs
  WHERE queue = ? AND state = 'queued' AND run_at <= ?
  ORDER BY run_at, id
  LIMIT ?
)
RETURNING id, payload`;

const complete = (count: number): string =>
  `UPDATE jobs SET state = 'completed', completed_at = ? WHERE id IN (${Array.from({ length: count }, () => '?').join(', ')})`;

interface ClaimedRow {
  id: number;
  payload: string;
}

interface Statements {
  insert: Database.Statement<[string, string, number]>;
  claim: Database.Transaction<(now: number) => ClaimedRow[]>;
  /** One prepared completion per batch size seen (almost always just RAW_CLAIM_BATCH). */
  complete: Map<number, Database.Statement<unknown[]>>;
}

export class RawSqlSqliteSystem implements BenchSystem {
  readonly id = 'raw-sql';
  readonly family = 'raw-sql';
  readonly dialect = 'sqlite' as const;
  readonly version = `better-sqlite3 ${packageVersion('better-sqlite3')}`;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly #bench: BenchSettings;
  #db: Database.Database | undefined;
  #statements: Statements | undefined;

  constructor(bench: BenchSettings) {
    this.#bench = bench;
    this.settings = {
      file: FILE,
      pragmas: PRAGMAS.join(', '),
      claimBatch: RAW_CLAIM_BATCH,
      claimLoops: 1,
      claim: 'UPDATE … WHERE id IN (SELECT … LIMIT 50) RETURNING, in BEGIN IMMEDIATE',
      complete: 'one UPDATE per claimed batch (rows kept)',
      wakeUp: 'in-process (latency only)',
    };
  }

  #require(): { db: Database.Database; statements: Statements } {
    if (!this.#db || !this.#statements) throw new Error(`${this.id} (sqlite): setup() was not called`);
    return { db: this.#db, statements: this.#statements };
  }

  async setup(): Promise<void> {
    await ensureSqliteDirectory();
    const db = new Database(sqliteFileBeside(FILE));
    for (const pragma of PRAGMAS) db.pragma(pragma);
    db.exec(DDL);
    const claim = db.prepare<[number, string, number, number], ClaimedRow>(CLAIM);
    this.#db = db;
    this.#statements = {
      insert: db.prepare(INSERT),
      claim: db.transaction((now: number) => claim.all(now, RAW_QUEUE, now, RAW_CLAIM_BATCH)),
      complete: new Map(),
    };
  }

  async reset(): Promise<void> {
    this.#require().db.exec('DELETE FROM jobs');
  }

  async analyze(): Promise<void> {
    this.#require().db.exec('ANALYZE jobs');
  }

  async enqueue(n: number, batch: boolean): Promise<void> {
    const { db, statements } = this.#require();
    if (!batch) {
      for (let i = 0; i < n; i++) statements.insert.run(RAW_QUEUE, JSON.stringify({ i }), Date.now());
      return;
    }
    const insertMany = db.transaction((from: number, size: number) => {
      const now = Date.now();
      for (let k = 0; k < size; k++) statements.insert.run(RAW_QUEUE, JSON.stringify({ i: from + k }), now);
    });
    for (let from = 0; from < n; from += this.#bench.batchEnqueueSize) {
      insertMany(from, Math.min(this.#bench.batchEnqueueSize, n - from));
    }
  }

  /** Claims up to RAW_CLAIM_BATCH rows, runs the handler on each, completes them. Returns the count. */
  #claimAndComplete(onStart: () => void): number {
    const { db, statements } = this.#require();
    const rows = statements.claim.immediate(Date.now());
    if (rows.length === 0) return 0;
    for (const _row of rows) onStart();
    let completeStatement = statements.complete.get(rows.length);
    if (!completeStatement) {
      completeStatement = db.prepare(complete(rows.length));
      statements.complete.set(rows.length, completeStatement);
    }
    completeStatement.run(Date.now(), ...rows.map((row) => row.id));
    return rows.length;
  }

  async drain(n: number, _concurrency: number): Promise<DrainResult> {
    const counter = new StartCounter(n);
    while (this.#claimAndComplete(() => counter.started()) > 0) {
      // keep claiming until the queue is empty
    }
    const end = nowMs();
    if (counter.count < n) throw new Error(`${this.id} (sqlite): drained ${counter.count} of ${n} tasks`);
    const elapsedMs = end - (counter.firstStartMs ?? end);
    return { jobsPerSecond: (n / elapsedMs) * 1000, elapsedMs };
  }

  async latency(samples: number): Promise<number[]> {
    const { statements } = this.#require();
    const probe = new LatencyProbe();
    const wake = new ClaimOnSignal(`${this.id} (sqlite)`, async () => {
      while (this.#claimAndComplete(() => probe.started()) > 0) {
        // claim until empty
      }
    });
    try {
      return await probe.measure(samples, async () => {
        statements.insert.run(RAW_QUEUE, '{}', Date.now());
        // The wake-up lands after the enqueue call returns, as a runner's in-process signal does.
        setImmediate(() => wake.signal());
      });
    } finally {
      await wake.settled();
    }
  }

  async teardown(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    this.#statements = undefined;
  }
}
