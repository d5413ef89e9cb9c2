/**
 * pg-boss (12.x) on PostgreSQL, with the settings its v12 types document for throughput and
 * wake-up latency:
 *
 * - constructor `useListenNotify: true` and queue `notify: true`: a NOTIFY on insert wakes idle
 *   workers instead of leaving them to their polling interval;
 * - work `pollingIntervalSeconds: 0.5` (the minimum), `burstWhenBatchFull: true` (fetch again
 *   at once while fetches come back full), `batchSize` and `localConcurrency` per variant:
 *   - `pg-boss`: one worker fetching batches of `concurrency` (10 jobs in flight);
 *   - `pg-boss:10x10`: `localConcurrency` 10 workers × `batchSize` 10 (up to 100 in flight),
 *     the fastest combination measured; it exceeds the run's concurrency, so read it as a ceiling.
 *
 * Jobs go in through `send` (single) and `insert` (batch). A batch handler that returns
 * completes its whole batch in one statement; completed jobs stay in the table (state
 * `completed`), so "finished" means no job of the queue is created, retry or active.
 */
import { PgBoss } from 'pg-boss';
import type { ConstructorOptions, Queue, WorkOptions } from 'pg-boss';
import pg from 'pg';
import { LatencyProbe, StartCounter, timeDrain } from '../harness.js';
import type { BenchSettings, BenchSystem, DrainResult } from '../harness.js';
import { packageVersion } from '../environment.js';

export type PgBossVariant = 'batch' | '10x10';

const QUEUE = 'noop';

export class PgBossSystem implements BenchSystem {
  readonly id: string;
  readonly family = 'pg-boss';
  readonly dialect = 'postgres' as const;
  readonly version = packageVersion('pg-boss');
  readonly settings: Readonly<Record<string, unknown>>;
  readonly #url: string;
  readonly #schema: string;
  readonly #bench: BenchSettings;
  readonly #variant: PgBossVariant;
  readonly #queueOptions: Omit<Queue, 'name'> = { notify: true };
  #pool: pg.Pool | undefined;
  #boss: PgBoss | undefined;

  constructor(url: string, bench: BenchSettings, variant: PgBossVariant) {
    this.#url = url;
    this.#bench = bench;
    this.#variant = variant;
    this.id = variant === 'batch' ? 'pg-boss' : `pg-boss:${variant}`;
    this.#schema = variant === 'batch' ? 'bench_pgboss' : `bench_pgboss_${variant}`;
    const { connectionString: _url, ...constructor } = this.#constructorOptions();
    this.settings = { constructor, queue: this.#queueOptions, work: this.#workOptions(bench.concurrency) };
  }

  #constructorOptions(): ConstructorOptions {
    return { connectionString: this.#url, schema: this.#schema, useListenNotify: true };
  }

  /** Options for `work()` so that about `concurrency` jobs run at once (10x10: ten batches of ten). */
  #workOptions(concurrency: number): WorkOptions {
    const common = { pollingIntervalSeconds: 0.5, burstWhenBatchFull: true };
    return this.#variant === 'batch'
      ? { ...common, batchSize: concurrency, localConcurrency: 1 }
      : { ...common, batchSize: 10, localConcurrency: concurrency };
  }

  #requireBoss(): PgBoss {
    if (!this.#boss) throw new Error(`${this.id}: setup() was not called`);
    return this.#boss;
  }

  #requirePool(): pg.Pool {
    if (!this.#pool) throw new Error(`${this.id}: setup() was not called`);
    return this.#pool;
  }

  async setup(): Promise<void> {
    this.#pool = new pg.Pool({ connectionString: this.#url, max: 2 });
    const boss = new PgBoss(this.#constructorOptions());
    boss.on('error', (error: unknown) => process.stderr.write(`${this.id} error: ${String(error)}\n`));
    await boss.start();
    this.#boss = boss;
    if (!(await boss.getQueue(QUEUE))) await boss.createQueue(QUEUE, this.#queueOptions);
  }

  async reset(): Promise<void> {
    // Only this queue lives in the schema, so emptying the partitioned job table is emptying it.
    await this.#requirePool().query(`TRUNCATE ${this.#schema}.job`);
  }

  async analyze(): Promise<void> {
    await this.#requirePool().query(`ANALYZE ${this.#schema}.job`);
  }

  async enqueue(n: number, batch: boolean): Promise<void> {
    const boss = this.#requireBoss();
    if (!batch) {
      for (let i = 0; i < n; i++) await boss.send(QUEUE, { i });
      return;
    }
    for (let from = 0; from < n; from += this.#bench.batchEnqueueSize) {
      const size = Math.min(this.#bench.batchEnqueueSize, n - from);
      await boss.insert(
        QUEUE,
        Array.from({ length: size }, (_, k) => ({ data: { i: from + k } })),
      );
    }
  }

  async #work(concurrency: number, onStart: (jobs: number) => void): Promise<string> {
    return this.#requireBoss().work(QUEUE, this.#workOptions(concurrency), async (jobs) => {
      onStart(jobs.length);
    });
  }

  async drain(n: number, concurrency: number): Promise<DrainResult> {
    const counter = new StartCounter(n);
    const workerId = await this.#work(concurrency, (jobs) => counter.started(jobs));
    try {
      return await timeDrain(n, counter, () => this.#unfinished());
    } finally {
      await this.#requireBoss().offWork(QUEUE, { id: workerId, wait: true });
    }
  }

  async #unfinished(): Promise<number> {
    const { rows } = await this.#requirePool().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${this.#schema}.job WHERE name = $1 AND state IN ('created', 'retry', 'active')`,
      [QUEUE],
    );
    return rows[0]?.n ?? 0;
  }

  async latency(samples: number): Promise<number[]> {
    const probe = new LatencyProbe();
    const boss = this.#requireBoss();
    const workerId = await this.#work(this.#bench.concurrency, () => probe.started());
    try {
      return await probe.measure(samples, () => boss.send(QUEUE, {}));
    } finally {
      await boss.offWork(QUEUE, { id: workerId, wait: true });
    }
  }

  async teardown(): Promise<void> {
    await this.#boss?.stop({ graceful: true, close: true });
    await this.#pool?.end();
    this.#boss = undefined;
    this.#pool = undefined;
  }
}
