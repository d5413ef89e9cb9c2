import { expect } from 'chai';
import type { Knex } from 'knex';
import { TaskQueueRunner } from '../../lib/index.js';
import { forEachDialect, waitFor } from '../support/index.js';
import { handlerRegistrar, recordEvents, sleep, useFreshQueue } from '../support/runner-helpers.js';

/**
 * A runner's slot frees when the handler settles, before its finishing write lands. When the
 * database is slow to take those writes, the runner must stop claiming rather than pile up
 * claimed rows whose results wait in memory. Slow finishing writes are made by a trigger that
 * sleeps on every running → success row update (claims are not slowed).
 */
forEachDialect('TaskQueueRunner backpressure from slow finishing writes', (t) => {
  // SQLite runs every statement synchronously in-process: a slow write there stalls claims
  // too, so there is no backlog to bound. This block registers tests for PostgreSQL and MySQL.
  if (t.dialect === 'sqlite') return;
  const dialect = t.dialect;
  let queue: string;

  useFreshQueue((name) => {
    queue = name;
  });

  const register = handlerRegistrar(t, 'Slow');

  async function slowFinishes(table: string, seconds: number): Promise<() => Promise<void>> {
    const knex = t.store.knex;
    if (dialect === 'postgres') {
      await knex.raw(`CREATE OR REPLACE FUNCTION slow_finish_fn() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(${seconds}); RETURN NEW; END $$`);
      await knex.raw(
        `CREATE TRIGGER slow_finish BEFORE UPDATE ON ?? FOR EACH ROW
        WHEN (OLD.status = 'running' AND NEW.status = 'success') EXECUTE FUNCTION slow_finish_fn()`,
        [table],
      );
      return async () => {
        await knex.raw('DROP TRIGGER IF EXISTS slow_finish ON ??', [table]);
      };
    }
    await knex.raw(
      `CREATE TRIGGER slow_finish BEFORE UPDATE ON ?? FOR EACH ROW
      BEGIN IF OLD.status = 'running' AND NEW.status = 'success' THEN SET @slept = SLEEP(${seconds}); END IF; END`,
      [table],
    );
    return async () => {
      await knex.raw('DROP TRIGGER IF EXISTS slow_finish');
    };
  }

  it('stops claiming while a full capacity of results waits for its write, and still finishes every task', async function () {
    this.timeout(60_000);
    const total = 60;
    const alias = await register({ handle: () => {} });
    await t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: total }, (_, n) => ({ n })),
    );
    const table = t.store.tableNames.taskQueue;
    const undo = await slowFinishes(table, 0.03);
    try {
      const maxConcurrency = 2;
      const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency, intervalSeconds: 0.1 });
      const events = recordEvents(runner);
      const observer = await t.openStore();
      let peakClaimed = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          peakClaimed = Math.max(peakClaimed, await observer.taskQueueCount({ queueName: queue, status: 'running' }));
          await sleep(10);
        }
      })();
      runner.start();
      try {
        await waitFor(async () => (await observer.taskQueueCount({ queueName: queue, status: 'success' })) === total, {
          timeoutMs: 50_000,
          intervalMs: 50,
          message: 'every task succeeded',
        });
      } finally {
        watching = false;
        await watch;
      }
      await runner.stop();
      // Handlers take no time, so without backpressure nearly all 60 would be claimed while
      // the first writes sleep. Bound: the unwritten results (< capacity when a claim starts),
      // the handlers running (≤ capacity) and one claim (≤ capacity).
      expect(peakClaimed, 'claimed rows seen at once').to.be.at.most(3 * maxConcurrency);
      expect(peakClaimed, 'the observer saw claimed rows').to.be.at.least(1);
      expect(events.succeeded).to.have.length(total);
      expect(events.errors).to.deep.equal([]);
    } finally {
      await undo();
    }
  });

  it("a runner of a concurrency-limited queue starts its next task while the last one's finishing write waits", async function () {
    this.timeout(60_000);
    await t.store.queueConfigure(queue, { concurrency: 1 });
    const table = t.store.tableNames.taskQueue;
    const locker = await t.openStore();
    let lock: Knex.Transaction | undefined;
    const started: number[] = [];
    const alias = await register({
      handle: async (ctx) => {
        const n = Number(ctx.params['n']);
        started.push(n);
        // The first task's row is locked before its handler returns: its finishing write waits on the lock.
        if (n === 0) {
          lock = await locker.knex.transaction();
          await lock(table).where('id', first).forUpdate().select('id');
        }
      },
    });
    const items = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ n: 0 }, { n: 1 }], { priority: 0 });
    const first = items[0]!.id;
    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 1, intervalSeconds: 0.2 });
    const events = recordEvents(runner);
    runner.start();
    try {
      await waitFor(() => started.length === 2, { timeoutMs: 15_000, message: 'the second task started' });
      // It started while the first one's write still waited: that row is running to everyone else.
      expect((await locker.taskQueueFindById(first))?.status).to.equal('running');
    } finally {
      await lock?.commit();
    }
    await waitFor(() => events.succeeded.length === 2, { timeoutMs: 15_000, message: 'both tasks succeeded' });
    await runner.stop();
    expect(started).to.deep.equal([0, 1]);
    expect(events.errors).to.deep.equal([]);
  });
});
