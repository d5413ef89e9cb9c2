/**
 * taskstore itself, on every dialect, through its public API: TaskStore for enqueues and a
 * TaskQueueRunner for the drain and the latency phases. Three variants:
 *
 * - `taskstore`: the runner's defaults, with maxConcurrency = the bench concurrency.
 * - `taskstore:fast`: the documented fast settings for many short tasks (docs/runners.md):
 *   prefetch of 9 × the concurrency, so claims are larger and fewer.
 * - `taskstore:durable` (issue #13): the fast settings on a store opened with
 *   `synchronousStateWrites: true`, so on PostgreSQL every claim, heartbeat and finishing
 *   write waits for its WAL flush like the enqueues do (the default lets those state writes
 *   commit with synchronous_commit off). It is measured on every dialect so the tables stay
 *   uniform, although the option changes nothing on SQLite and MySQL/MariaDB: there every
 *   write already commits under the one durability setting taskstore gives the connection
 *   (SQLite: WAL with synchronous = NORMAL; MySQL: the server's
 *   innodb_flush_log_at_trx_commit), so on those dialects it is the same workload as
 *   `taskstore:fast` and the difference between the two rows is run-to-run noise.
 * - `taskstore:removing` (issue #13's retention policy): the `taskstore:durable` settings (fast
 *   runner settings, `synchronousStateWrites: true`) plus the runner's `removeOnSuccess`, so
 *   every finishing write is a DELETE of the task's row instead of the UPDATE that keeps it.
 *   The drain's completion check counts queued and running rows, which a removed row leaves
 *   like a finished one; the history drain's rows are written straight into the table, so they
 *   stay, and only the drained tasks' rows go.
 * - `taskstore:limited` (issue #14): the runner's defaults, as `taskstore`, with the queue
 *   limited to as many running tasks as the runner has slots (`queueConfigure(queue,
 *   { concurrency })`), so every claim is a limited claim serialised on the queue's settings
 *   row; its target compares it with `taskstore`, the same runner unlimited. (Prefetch does not
 *   apply under such a limit: a prefetched row counts as running, so a runner never claims more
 *   than the limit leaves it.) The other variants clear the queue's settings first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineTask, TaskQueueRunner, TaskStore } from '../../lib/index.js';
import { LatencyProbe, StartCounter, deferred, timeDrain } from '../harness.js';
import type { BenchSettings, BenchSystem, Dialect, DrainResult } from '../harness.js';
import { ensureMysqlDatabase, ensurePostgresDatabase, ensureSqliteDirectory, mysqlUrl, pgUrl, sqliteFile } from '../databases.js';
import { packageVersion } from '../environment.js';

export const TASKSTORE_QUEUE = 'bench';
export const TASKSTORE_ALIAS = 'noop';

export type TaskstoreVariant = 'default' | 'fast' | 'durable' | 'removing' | 'limited';

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
  #handlerStarts = 0;
  /** How long a drain may take before it fails (the long drains of bench/rss.ts raise it). */
  drainTimeoutMs = 600_000;

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
      wakeUp:
        dialect === 'postgres'
          ? 'LISTEN/NOTIFY + in-process'
          : dialect === 'sqlite'
            ? 'in-process + 4 ms data_version probe'
            : 'in-process + 25 ms change probe',
      ...(variant === 'limited' ? { queueConcurrency: bench.concurrency } : {}),
      ...(this.#durable ? { synchronousStateWrites: true } : {}),
      ...(this.#durable && dialect !== 'postgres' ? { note: 'synchronousStateWrites changes nothing on this dialect' } : {}),
    };
  }

  /** The variants whose store waits for the log flush of every state write. */
  get #durable(): boolean {
    return this.#variant === 'durable' || this.#variant === 'removing';
  }

  #runnerExtras(concurrency: number): { prefetch?: number; removeOnSuccess?: boolean } {
    if (this.#variant === 'default' || this.#variant === 'limited') return {};
    return this.#variant === 'removing' ? { prefetch: concurrency * 9, removeOnSuccess: true } : { prefetch: concurrency * 9 };
  }

  /** Handler calls since setup(), over every phase: bench/rss.ts follows a long drain with it. */
  get handlerStarts(): number {
    return this.#handlerStarts;
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
    const store = await TaskStore.open({ database: this.database, synchronousStateWrites: this.#durable });
    this.#store = store;
    if (this.#variant === 'limited') await store.queueConfigure(TASKSTORE_QUEUE, { concurrency: this.#bench.concurrency });
    else await store.queueConfigure(TASKSTORE_QUEUE, { concurrency: null, groupConcurrency: null, rateLimit: null, groupRateLimit: null });
    await store.queueResume(TASKSTORE_QUEUE);
    await store.taskHandlerAdd(
      defineTask({
        alias: TASKSTORE_ALIAS,
        handle: () => {
          this.#handlerStarts += 1;
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
      // Two counts, each served by its partial index (claimable rows, running rows), so the
      // poll does not scan the finished history it is meant to be measured against. A task
      // whose row was removed on success (taskstore:removing) is in neither, as a finished one.
      const unfinished = async () =>
        (await store.taskQueueCount({ queueName: TASKSTORE_QUEUE, status: 'queued' })) +
        (await store.taskQueueCount({ queueName: TASKSTORE_QUEUE, status: 'running' }));
      return await timeDrain(n, counter, unfinished, this.drainTimeoutMs);
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

  /** Another OS process enqueues one task at a time; the handler here marks its start. */
  async crossProcessLatency(samples: number): Promise<number[]> {
    const wallClock = (): number => performance.timeOrigin + performance.now();
    const child = fork(fileURLToPath(new URL('./taskstore-enqueuer.js', import.meta.url)), [this.database]);
    const runner = this.#runner(this.#bench.concurrency);
    try {
      await nextMessage(child, 'ready');
      runner.start();
      const result: number[] = [];
      for (let i = 0; i < samples; i++) {
        const started = deferred<number>();
        this.#onStart = () => started.resolve(wallClock());
        const enqueued = nextMessage(child, 'enqueued');
        child.send({ type: 'enqueue' });
        const { startedAt } = (await enqueued) as { startedAt: number };
        result.push((await started.promise) - startedAt);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return result;
    } finally {
      this.#onStart = () => {};
      child.send({ type: 'stop' });
      await runner.stop();
    }
  }

  /** Finished rows written straight into the table: the history a long-running queue keeps. */
  async fillHistory(rows: number): Promise<void> {
    const store = this.#requireStore();
    const table = store.tableNames.taskQueue;
    const definition = await store.taskDefinitionFindByAlias(TASKSTORE_ALIAS);
    const taskId = definition?.id ?? '';
    const columns =
      'id, task_id, queue_name, status, parameters, output, details, attempts, max_attempts, priority, available_at, completed_at, created_at, updated_at';
    if (this.dialect === 'postgres') {
      await store.knex.raw(
        `INSERT INTO ?? (${columns}) SELECT gen_random_uuid()::text, ?, ?, 'success', '{}', '', '', 1, 1, 0, now(), now(), now(), now() FROM generate_series(1, ?)`,
        [table, taskId, TASKSTORE_QUEUE, rows],
      );
    } else if (this.dialect === 'sqlite') {
      const now = Date.now();
      await store.knex.raw(
        `INSERT INTO ?? (${columns}) WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
         SELECT lower(hex(randomblob(16))), ?, ?, 'success', '{}', '', '', 1, 1, 0, ?, ?, ?, ? FROM n`,
        [table, rows, taskId, TASKSTORE_QUEUE, now, now, now, now],
      );
    } else {
      // MySQL/MariaDB: seed a thousand rows, then double them until there are enough.
      const now = new Date();
      const seed = Array.from({ length: Math.min(1000, rows) }, (_, i) => ({
        id: `history-${i}`,
        task_id: taskId,
        queue_name: TASKSTORE_QUEUE,
        status: 'success',
        parameters: '{}',
        output: '',
        details: '',
        attempts: 1,
        max_attempts: 1,
        priority: 0,
        available_at: now,
        completed_at: now,
        created_at: now,
        updated_at: now,
      }));
      await store.knex(table).insert(seed);
      for (let have = seed.length; have < rows;) {
        const add = Math.min(have, rows - have);
        await store.knex.raw(
          `INSERT INTO ?? (${columns}) SELECT UUID(), task_id, queue_name, status, parameters, output, details, attempts, max_attempts, priority, available_at, completed_at, created_at, updated_at FROM ?? WHERE status = 'success' LIMIT ?`,
          [table, table, add],
        );
        have += add;
      }
    }
  }

  async teardown(): Promise<void> {
    await this.#store?.close();
    this.#store = undefined;
  }
}

/** Resolves with the next IPC message of the given type from the child (rejects on its errors). */
export function nextMessage(child: ChildProcess, type: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string; message?: string }) => {
      if (message.type === 'error') reject(new Error(message.message));
      else if (message.type === type) resolve(message);
      else return;
      child.off('message', onMessage);
    };
    child.on('message', onMessage);
  });
}
