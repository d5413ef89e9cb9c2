/**
 * The unstuck sweep runs beside the claims, never in front of them: a sweep stuck behind a
 * row lock (a frozen worker's open transaction) must not stop a healthy runner from claiming
 * and finishing the queue's other tasks. Before, every claim waited for the sweep, and on
 * MariaDB a healthy worker finished nothing for minutes.
 */
import { expect } from 'chai';
import type { Knex } from 'knex';
import { TaskQueueRunner } from '../../lib/index.js';
import { backdateRunning, forEachDialect, uniqueQueue, waitFor, within } from '../support/index.js';
import { handlerRegistrar } from '../support/runner-helpers.js';

forEachDialect('TaskQueueRunner: the sweep beside the claims', (t) => {
  // SQLite has one writer at a time: a held write lock stops every statement alike, so there
  // is no sweep to hold apart from the claims.
  if (t.dialect === 'sqlite') return;
  const register = handlerRegistrar(t, 'Sweep');

  it('claims and finishes other tasks while the sweep waits on a row a frozen session holds', async function () {
    const queue = uniqueQueue();
    const ran: string[] = [];
    const alias = await register({ maxAttempts: 3, handle: (ctx) => void ran.push(ctx.task!.id) });
    // A task a frozen worker claimed long ago: stale, so the sweep wants it.
    const stuck = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const [claimed] = await t.store.taskQueueClaim(queue, 1);
    expect(claimed?.id).to.equal(stuck.id);
    await backdateRunning(t.store, stuck.id, 10 * 60_000);
    // The frozen worker's session holds the row's lock in an open transaction.
    const other = await t.openStore();
    const held = deferredTransaction(other.knex);
    await within(held.ready, 10_000, 'the lock is held');
    await held.trx('task_queue').where({ id: stuck.id }).update({ output: 'held' });

    const items = await t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: 10 }, (_, n) => ({ n })),
    );
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes: 1, maxConcurrency: 2 });
    const errors: Error[] = [];
    runner.on('error', (error) => errors.push(error));
    runner.start();
    try {
      await waitFor(async () => (await t.store.taskQueueCount({ queueName: queue, status: 'success' })) === items.length, {
        timeoutMs: 20_000,
        message: 'the other tasks finished while the sweep was blocked',
      });
      expect((await t.store.taskQueueFindById(stuck.id))?.status, 'the held row is still running').to.equal('running');
      // The frozen session ends: the sweep gets the row, and the runner runs it.
      await held.release();
      await waitFor(async () => (await t.store.taskQueueFindById(stuck.id))?.status === 'success', {
        timeoutMs: 20_000,
        message: 'the stuck task was reclaimed and run once the lock was gone',
      });
    } finally {
      await held.release();
      await runner.stop();
    }
    expect(ran.filter((id) => id === stuck.id)).to.have.length(1);
  });
});

/** A transaction held open until `release()` (rolled back then). */
function deferredTransaction(knex: Knex): { trx: Knex.Transaction; ready: Promise<void>; release(): Promise<void> } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const holder: { trx: Knex.Transaction; ready: Promise<void>; release(): Promise<void> } = {
    trx: undefined as unknown as Knex.Transaction,
    ready: readyPromise,
    release: async () => {
      release();
      await done.catch(() => undefined);
    },
  };
  const done = knex.transaction(async (trx) => {
    holder.trx = trx;
    ready();
    await released;
    await trx.rollback();
  });
  return holder;
}
