/**
 * The floor a PostgreSQL queue library can approach: hand-written SQL with no library around it.
 *
 * - one table with a partial index on the claimable rows;
 * - enqueue: INSERT (one row, or `unnest` of a batch) plus one pg_notify per statement;
 * - drain: `concurrency` loops, each claiming up to 50 rows with
 *   `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT 50) RETURNING`, running the no-op
 *   handler for each, then completing the batch with one UPDATE (rows are kept, as a durable
 *   queue with history would);
 * - latency: a LISTEN connection; each notification triggers the same claim/complete until empty.
 */
import pg from 'pg';
import { LatencyProbe, StartCounter, nowMs } from '../harness.js';
import type { BenchSettings, BenchSystem, DrainResult } from '../harness.js';
import { packageVersion } from '../environment.js';

const SCHEMA = 'bench_raw';
const QUEUE = 'noop';
const CHANNEL = 'bench_raw_jobs';
const CLAIM_BATCH = 50;

const DDL = `
CREATE SCHEMA IF NOT EXISTS ${SCHEMA};
CREATE TABLE IF NOT EXISTS ${SCHEMA}.jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue text NOT NULL,
  payload jsonb NOT NULL,
  state text NOT NULL DEFAULT 'queued',
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts int NOT NULL DEFAULT 0,
  locked_at timestamptz,
  completed_at timestamptz
);
CREATE INDEX IF NOT EXISTS jobs_claimable ON ${SCHEMA}.jobs (queue, run_at, id) WHERE state = 'queued';
`;

const INSERT_ONE = `
WITH ins AS (INSERT INTO ${SCHEMA}.jobs (queue, payload) VALUES ($1, $2) RETURNING 1)
SELECT pg_notify('${CHANNEL}', $1) FROM ins`;

const INSERT_MANY = `
WITH ins AS (INSERT INTO ${SCHEMA}.jobs (queue, payload) SELECT $1, p FROM unnest($2::jsonb[]) AS p RETURNING 1)
SELECT pg_notify('${CHANNEL}', $1) FROM (SELECT count(*) FROM ins) AS c`;

const CLAIM = `
UPDATE ${SCHEMA}.jobs SET state = 'running', locked_at = now(), attempts = attempts + 1
WHERE id IN (
  SELECT id FROM ${SCHEMA}.jobs
  WHERE queue = $1 AND state = 'queued' AND run_at <= now()
  ORDER BY run_at, id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)
RETURNING id, payload`;

const COMPLETE = `UPDATE ${SCHEMA}.jobs SET state = 'completed', completed_at = now() WHERE id = ANY($1::bigint[])`;

interface ClaimedRow {
  id: string;
  payload: unknown;
}

export class RawSqlSystem implements BenchSystem {
  readonly id = 'raw-sql';
  readonly family = 'raw-sql';
  readonly dialect = 'postgres' as const;
  readonly version = `node-postgres ${packageVersion('pg')}`;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly #url: string;
  readonly #bench: BenchSettings;
  #pool: pg.Pool | undefined;

  constructor(url: string, bench: BenchSettings) {
    this.#url = url;
    this.#bench = bench;
    this.settings = {
      claimBatch: CLAIM_BATCH,
      claimLoops: bench.concurrency,
      complete: 'one UPDATE per claimed batch (rows kept)',
      wakeUp: 'LISTEN/NOTIFY (latency only)',
    };
  }

  #requirePool(): pg.Pool {
    if (!this.#pool) throw new Error(`${this.id}: setup() was not called`);
    return this.#pool;
  }

  async setup(): Promise<void> {
    this.#pool = new pg.Pool({ connectionString: this.#url, max: this.#bench.concurrency + 2 });
    await this.#pool.query(DDL);
  }

  async reset(): Promise<void> {
    await this.#requirePool().query(`TRUNCATE ${SCHEMA}.jobs`);
  }

  async analyze(): Promise<void> {
    await this.#requirePool().query(`ANALYZE ${SCHEMA}.jobs`);
  }

  async enqueue(n: number, batch: boolean): Promise<void> {
    const pool = this.#requirePool();
    if (!batch) {
      for (let i = 0; i < n; i++) await pool.query(INSERT_ONE, [QUEUE, JSON.stringify({ i })]);
      return;
    }
    for (let from = 0; from < n; from += this.#bench.batchEnqueueSize) {
      const size = Math.min(this.#bench.batchEnqueueSize, n - from);
      const payloads = Array.from({ length: size }, (_, k) => JSON.stringify({ i: from + k }));
      await pool.query(INSERT_MANY, [QUEUE, payloads]);
    }
  }

  /** Claims up to CLAIM_BATCH rows, runs the handler on each, completes them. Returns the count. */
  async #claimAndComplete(onStart: () => void): Promise<number> {
    const pool = this.#requirePool();
    const { rows } = await pool.query<ClaimedRow>(CLAIM, [QUEUE, CLAIM_BATCH]);
    if (rows.length === 0) return 0;
    for (const _row of rows) onStart();
    await pool.query(COMPLETE, [rows.map((row) => row.id)]);
    return rows.length;
  }

  async drain(n: number, concurrency: number): Promise<DrainResult> {
    const counter = new StartCounter(n);
    const loop = async (): Promise<void> => {
      while ((await this.#claimAndComplete(() => counter.started())) > 0) {
        // keep claiming until the queue is empty
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const end = nowMs();
    if (counter.count < n) throw new Error(`${this.id}: drained ${counter.count} of ${n} tasks`);
    const elapsedMs = end - (counter.firstStartMs ?? end);
    return { jobsPerSecond: (n / elapsedMs) * 1000, elapsedMs };
  }

  async latency(samples: number): Promise<number[]> {
    const probe = new LatencyProbe();
    const listener = new pg.Client({ connectionString: this.#url });
    await listener.connect();
    let draining: Promise<void> | undefined;
    let again = false;
    const drainOnNotify = async (): Promise<void> => {
      do {
        again = false;
        while ((await this.#claimAndComplete(() => probe.started())) > 0) {
          // claim until empty
        }
      } while (again);
    };
    listener.on('notification', () => {
      if (draining) {
        again = true;
        return;
      }
      draining = drainOnNotify()
        .catch((error: unknown) => {
          process.stderr.write(`${this.id} claim failed: ${String(error)}\n`);
        })
        .finally(() => {
          draining = undefined;
        });
    });
    await listener.query(`LISTEN ${CHANNEL}`);
    try {
      const pool = this.#requirePool();
      return await probe.measure(samples, () => pool.query(INSERT_ONE, [QUEUE, '{}']));
    } finally {
      await listener.end();
      await draining;
    }
  }

  async teardown(): Promise<void> {
    await this.#pool?.end();
    this.#pool = undefined;
  }
}
