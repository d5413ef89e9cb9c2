/**
 * graphile-worker (0.18) on PostgreSQL, in two variants:
 *
 * - `graphile-worker`: the library's defaults, with `concurrentJobs` raised to the run's
 *   concurrency and `maxPoolSize` at the documented recommendation (concurrentJobs + 2).
 * - `graphile-worker:batched`: the batching options its performance page documents:
 *   `localQueue.size` 50, `completeJobBatchDelay` 0, `failJobBatchDelay` 0.
 *
 * Jobs go in through WorkerUtils (`addJob` / `addJobs`); completion deletes the job row, so
 * "finished" means the row is gone.
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import type { Runner, WorkerUtils } from 'graphile-worker';
import pg from 'pg';
import { LatencyProbe, StartCounter, timeDrain } from '../harness.js';
import type { BenchSettings, BenchSystem, DrainResult } from '../harness.js';
import { packageVersion } from '../environment.js';

export type GraphileVariant = 'default' | 'batched';

const TASK = 'noop';
const silentLogger = new Logger(() => () => {});

export class GraphileWorkerSystem implements BenchSystem {
  readonly id: string;
  readonly family = 'graphile-worker';
  readonly dialect = 'postgres' as const;
  readonly version = packageVersion('graphile-worker');
  readonly settings: Readonly<Record<string, unknown>>;
  readonly #url: string;
  readonly #schema: string;
  readonly #bench: BenchSettings;
  readonly #variant: GraphileVariant;
  #pool: pg.Pool | undefined;
  #utils: WorkerUtils | undefined;

  constructor(url: string, bench: BenchSettings, variant: GraphileVariant) {
    this.#url = url;
    this.#bench = bench;
    this.#variant = variant;
    this.id = variant === 'default' ? 'graphile-worker' : `graphile-worker:${variant}`;
    this.#schema = variant === 'default' ? 'bench_graphile' : `bench_graphile_${variant}`;
    const { connectionString: _url, ...settings } = this.#workerOptions(bench.concurrency);
    this.settings = settings;
  }

  /** The `preset.worker` options for a runner with `concurrency` handlers. */
  #workerOptions(concurrency: number): GraphileConfig.WorkerOptions {
    const base: GraphileConfig.WorkerOptions = {
      connectionString: this.#url,
      schema: this.#schema,
      concurrentJobs: concurrency,
      maxPoolSize: Math.max(10, concurrency + 2),
    };
    if (this.#variant === 'default') return base;
    return { ...base, localQueue: { size: 50 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 };
  }

  #requirePool(): pg.Pool {
    if (!this.#pool) throw new Error(`${this.id}: setup() was not called`);
    return this.#pool;
  }

  #requireUtils(): WorkerUtils {
    if (!this.#utils) throw new Error(`${this.id}: setup() was not called`);
    return this.#utils;
  }

  async setup(): Promise<void> {
    this.#pool = new pg.Pool({ connectionString: this.#url, max: 2 });
    this.#utils = await makeWorkerUtils({
      preset: { worker: { connectionString: this.#url, schema: this.#schema, maxPoolSize: 4 } },
      logger: silentLogger,
    });
    await this.#utils.migrate();
  }

  async reset(): Promise<void> {
    await this.#requirePool().query(`TRUNCATE ${this.#schema}._private_jobs`);
  }

  async analyze(): Promise<void> {
    await this.#requirePool().query(`ANALYZE ${this.#schema}._private_jobs`);
  }

  async enqueue(n: number, batch: boolean): Promise<void> {
    const utils = this.#requireUtils();
    if (!batch) {
      for (let i = 0; i < n; i++) await utils.addJob(TASK, { i });
      return;
    }
    for (let from = 0; from < n; from += this.#bench.batchEnqueueSize) {
      const size = Math.min(this.#bench.batchEnqueueSize, n - from);
      await utils.addJobs(Array.from({ length: size }, (_, k) => ({ identifier: TASK, payload: { i: from + k } })));
    }
  }

  async #startRunner(concurrency: number, onStart: () => void): Promise<Runner> {
    return run({
      preset: { worker: this.#workerOptions(concurrency) },
      logger: silentLogger,
      noHandleSignals: true,
      taskList: {
        [TASK]: async () => {
          onStart();
        },
      },
    });
  }

  async drain(n: number, concurrency: number): Promise<DrainResult> {
    const counter = new StartCounter(n);
    const runner = await this.#startRunner(concurrency, () => counter.started());
    try {
      return await timeDrain(n, counter, () => this.#unfinished());
    } finally {
      await runner.stop();
    }
  }

  async #unfinished(): Promise<number> {
    const { rows } = await this.#requirePool().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.#schema}._private_jobs`);
    return rows[0]?.n ?? 0;
  }

  async latency(samples: number): Promise<number[]> {
    const probe = new LatencyProbe();
    const runner = await this.#startRunner(this.#bench.concurrency, () => probe.started());
    const utils = this.#requireUtils();
    try {
      return await probe.measure(samples, () => utils.addJob(TASK, {}));
    } finally {
      await runner.stop();
    }
  }

  async teardown(): Promise<void> {
    await this.#utils?.release();
    await this.#pool?.end();
    this.#utils = undefined;
    this.#pool = undefined;
  }
}
