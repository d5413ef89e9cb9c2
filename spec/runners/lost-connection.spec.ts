import { expect } from 'chai';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import type { Dialect } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue, waitFor } from '../support/index.js';
import { recordEvents, sleep } from '../support/runner-helpers.js';

/**
 * Ends every other server connection to the database at `url` (the runner store's pool),
 * from a connection of its own; returns how many were ended.
 */
async function killOtherConnections(dialect: Exclude<Dialect, 'sqlite'>, url: string): Promise<number> {
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      const result = await client.query<{ ended: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      return result.rows.filter((row) => row.ended).length;
    } finally {
      await client.end();
    }
  }
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 5000 });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()',
    );
    for (const row of rows) await connection.query(`KILL ${Number(row['id'])}`);
    return rows.length;
  } finally {
    await connection.end();
  }
}

forEachDialect('TaskQueueRunner after a lost database connection', (t) => {
  // SQLite has no server connection to lose: this block registers tests for PostgreSQL and MySQL only.
  if (t.dialect === 'sqlite') return;
  const dialect = t.dialect;

  it('keeps processing new tasks after its server connections were killed while it polled', async function () {
    this.timeout(90_000);
    const queue = uniqueQueue();
    const alias = uniqueAlias('Lost');
    const ran: string[] = [];
    await t.store.taskHandlerAdd(defineTask({ alias, handle: (ctx) => void ran.push(ctx.task!.id) }), true);
    // the runner works on its own store, so every connection it holds is one to kill
    const runnerStore = await t.openStore();
    await runnerStore.taskHandlerAdd(defineTask({ alias, handle: (ctx) => void ran.push(ctx.task!.id) }));
    const runner = new TaskQueueRunner(runnerStore, { queueName: queue, intervalSeconds: 0.1, maxConcurrency: 2 });
    const events = recordEvents(runner);
    runner.start();

    const before = await runnerStore.taskDefinitionEnqueueByAlias(queue, alias, {});
    await waitFor(() => ran.length === 1, { timeoutMs: 20_000, message: 'a task before the kill' });
    await sleep(300); // idle, polling every 0.1 s

    for (let round = 0; round < 2; round += 1) {
      const killed = await killOtherConnections(dialect, t.url);
      expect(killed, 'server connections ended').to.be.at.least(1);
      await sleep(300); // the runner polls through its broken pool meanwhile
    }

    // enqueued from another store: the runner finds them by polling its (recovered) pool
    const enqueuer = await t.openStore();
    const after = await enqueuer.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}]);
    await waitFor(() => ran.length === 4, { timeoutMs: 45_000, message: 'tasks enqueued after the kill ran' });
    expect(runner.isRunning()).to.equal(true);

    // and through its own store as well (the enqueue wakes it)
    const viaOwn = await runnerStore.taskDefinitionEnqueueByAlias(queue, alias, {});
    await waitFor(() => ran.length === 5, { timeoutMs: 45_000, message: 'a task enqueued through the recovered store ran' });
    await runner.stop();

    expect(ran.sort()).to.deep.equal([before, ...after, viaOwn].map((item) => item.id).sort());
    expect(await enqueuer.taskQueueCount({ queueName: queue, status: 'success' })).to.equal(5);
    for (const error of events.errors) expect(error, String(error)).to.be.instanceOf(Error);
  });

  it('under load: connections killed mid-drain, every task still ends in success and the process survives', async function () {
    this.timeout(120_000);
    const queue = uniqueQueue();
    const alias = uniqueAlias('LoadKill');
    const total = 400;
    const runs = new Map<number, number>();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const runnerStore = await t.openStore();
      await runnerStore.taskHandlerAdd(
        defineTask({
          alias,
          maxAttempts: 5,
          handle: async (ctx) => {
            const index = Number(ctx.params['index']);
            runs.set(index, (runs.get(index) ?? 0) + 1);
            await sleep(20);
          },
        }),
        true,
      );
      // A short unstuck window: a task whose finishing write was cut off is swept back quickly.
      const runner = new TaskQueueRunner(runnerStore, {
        queueName: queue,
        intervalSeconds: 0.1,
        maxConcurrency: 5,
        prefetch: 20,
        unstuckMinutes: 0.05,
      });
      const events = recordEvents(runner);
      const enqueuer = await t.openStore();
      await enqueuer.taskDefinitionEnqueueManyByAlias(
        queue,
        alias,
        Array.from({ length: total }, (_, index) => ({ index })),
      );
      runner.start();

      await waitFor(() => runs.size >= 30, { timeoutMs: 30_000, message: 'the drain under way' });
      // Kill often, so that some kills land on statements in flight (claims, finishing
      // writes, heartbeats), not only on idle pooled connections; and only while at least half
      // the drain is still to come, so every kill lands mid-drain however fast the machine
      // (a fixed 20 rounds outlasted a drain that recovered quickly).
      let killed = 0;
      let killedMidDrain = 0;
      for (let round = 0; round < 20 && runs.size < total / 2; round += 1) {
        const ended = await killOtherConnections(dialect, t.url);
        killed += ended;
        if (runs.size < total) killedMidDrain += ended;
        await sleep(30);
      }
      expect(killed, 'server connections ended').to.be.at.least(1);
      expect(killedMidDrain, 'connections ended before the drain finished').to.be.at.least(1);

      // counted through a store opened after the kills, so its own pool was never cut
      const checker = await t.openStore();
      await waitFor(async () => (await checker.taskQueueCount({ queueName: queue, status: 'success' })) === total, {
        timeoutMs: 90_000,
        intervalMs: 100,
        message: 'every task succeeded after the kills',
      });
      expect(runner.isRunning()).to.equal(true);
      await runner.stop();

      expect([...runs.keys()].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: total }, (_, index) => index));
      expect(await checker.taskQueueCount({ queueName: queue, statuses: ['queued', 'running', 'failed'] })).to.equal(0);
      for (const error of events.errors) expect(error, String(error)).to.be.instanceOf(Error);
      expect(unhandled, 'unhandled rejections').to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
