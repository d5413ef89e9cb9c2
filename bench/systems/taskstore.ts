/**
 * taskstore itself, on every dialect, through its public API: TaskStore for enqueues and a
 * TaskQueueRunner for the drain and the latency phases. Two variants:
 *
 * - `taskstore`: the runner's defaults, with maxConcurrency = the bench concurrency.
 * - `taskstore:fast`: the documented fast settings for many short tasks (docs/runners.md):
 *   prefetch of 4 × the concurrency, so claims are larger and fewer.
 */
import { defineTask, TaskQueueRunner, TaskStore } from '../../lib/index.js';
import { LatencyProbe, StartCounter, timeDrain } from '../harness.js';
import type { BenchSettings, BenchSystem, Dialect, DrainResult } from '../harness.js';
import { ensureMysqlDatabase, ensurePostgresDatabase, ensureSqliteDirectory, mysqlUrl, pgUrl, sqliteFile } from '../databases.js';
import { packageVersion } from '../environment.js';

export const TASKSTORE_QUEUE = 'bench';
export const TASKSTORE_ALIAS = 'noop';

export type TaskstoreVariant = 'default' | 'fast';

export class TaskstoreSystem implements BenchSystem {
  readonly id: string;
  readonly family = 'taskstore';
  readonly dialect: Dialect;
  readonly version: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly #bench: BenchSettings;
  readonly #variant: TaskstoreVariant;
  #store: TaskStore | undefined;
  #onStart: () => void = () => {};

  constructor(dialect: Dialect, bench: BenchSettings, variant: TaskstoreVariant = 'default') {
    this.dialect = dialect;
    this.#bench = bench;
    this.#variant = variant;
    this.id = variant === 'default' ? 'taskstore' : `taskstore:${variant}`;
    this.version = `taskstore (working tree), knex ${packageVersion('knex')}`;
    this.settings = {
      maxConcurrency: bench.concurrency,
      ...this.#runnerExtras(bench.concurrency),
      intervalSeconds: 10,
      wakeUp: dialect === 'postgres' ? 'LISTEN/NOTIFY + in-process' : 'in-process + 25 ms change probe',
    };
  }

  #runnerExtras(concurrency: number): { prefetch?: number } {
    return this.#variant === 'fast' ? { prefetch: concurrency * 4 } : {};
  }

  #requireStore(): TaskStore {
    if (!this.#store) throw new Error(`${this.id}: setup() was not called`);
    return this.#store;
  }

  #runner(concurrency: number): TaskQueueRunner {
    return new TaskQueueRunner(this.#requireStore(), {
      queueName: TASKSTORE_QUEUE,
      maxConcurrency: concurrency,
      intervalSeconds: 10,
      ...this.#runnerExtras(concurrency),
    });
  }

  /** The `database` option for `TaskStore.open()` on this dialect (a dedicated bench database). */
  get database(): string {
    switch (this.dialect) {
      case 'sqlite':
        return `sqlite:${sqliteFile()}`;
      case 'postgres':
        return pgUrl();
      case 'mysql':
        return mysqlUrl();
    }
  }

  /** Creates the bench database (or the SQLite file's directory) if it is missing. */
  async ensureDatabase(): Promise<void> {
    switch (this.dialect) {
      case 'sqlite':
        return ensureSqliteDirectory();
      case 'postgres':
        return ensurePostgresDatabase();
      case 'mysql':
        return ensureMysqlDatabase();
    }
  }

  async setup(): Promise<void> {
    await this.ensureDatabase();
    const store = await TaskStore.open({ database: this.database });
    this.#store = store;
    await store.taskHandlerAdd(
      defineTask({
        alias: TASKSTORE_ALIAS,
        handle: () => {
          this.#onStart();
        },
      }),
      true,
    );
  }

  async reset(): Promise<void> {
    const store = this.#requireStore();
    const table = store.tableNames.taskQueue;
    if (this.dialect === 'sqlite') await store.knex(table).delete();
    else await store.knex.raw('TRUNCATE TABLE ??', [table]);
  }

  async analyze(): Promise<void> {
    const store = this.#requireStore();
    await store.knex.raw(this.dialect === 'mysql' ? 'ANALYZE TABLE ??' : 'ANALYZE ??', [store.tableNames.taskQueue]);
  }

  async enqueue(n: number, batch: boolean): Promise<void> {
    const store = this.#requireStore();
    if (!batch) {
      for (let i = 0; i < n; i++) await store.taskDefinitionEnqueueByAlias(TASKSTORE_QUEUE, TASKSTORE_ALIAS, { i });
      return;
    }
    for (let from = 0; from < n; from += this.#bench.batchEnqueueSize) {
      const size = Math.min(this.#bench.batchEnqueueSize, n - from);
      const paramsList = Array.from({ length: size }, (_, k) => ({ i: from + k }));
      await store.taskDefinitionEnqueueManyByAlias(TASKSTORE_QUEUE, TASKSTORE_ALIAS, paramsList);
    }
  }

  async drain(n: number, concurrency: number): Promise<DrainResult> {
    const store = this.#requireStore();
    const counter = new StartCounter(n);
    this.#onStart = () => counter.started();
    const runner = this.#runner(concurrency);
    runner.start();
    try {
      return await timeDrain(n, counter, () => store.taskQueueCount({ queueName: TASKSTORE_QUEUE, statuses: ['queued', 'running'] }));
    } finally {
      await runner.stop();
      this.#onStart = () => {};
    }
  }

  async latency(samples: number): Promise<number[]> {
    const store = this.#requireStore();
    const probe = new LatencyProbe();
    this.#onStart = () => probe.started();
    const runner = this.#runner(this.#bench.concurrency);
    runner.start();
    try {
      return await probe.measure(samples, () => store.taskDefinitionEnqueueByAlias(TASKSTORE_QUEUE, TASKSTORE_ALIAS, {}));
    } finally {
      await runner.stop();
      this.#onStart = () => {};
    }
  }

  async teardown(): Promise<void> {
    await this.#store?.close();
    this.#store = undefined;
  }
}
