/**
 * Pause and resume seen by a runner on another store (as another process sees them: through
 * the change feed, PostgreSQL's notification or the polled probe): it gives back its
 * prefetch, claims nothing more while its running tasks finish, and after the resume every
 * task runs exactly once. A runner waiting on a full concurrency limit claims again when a
 * slot frees.
 */
import { expect } from 'chai';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import { deferred, forEachDialect, uniqueAlias, waitFor } from '../support/index.js';
import { recordEvents, sleep, useFreshQueue } from '../support/runner-helpers.js';

forEachDialect('pause and resume across stores', (t) => {
  let queue: string;

  useFreshQueue((name) => {
    queue = name;
  });

  it('a pause stops another store’s runner claiming and takes back its prefetch; resume loses nothing', async function () {
    this.timeout(60_000);
    const alias = uniqueAlias('Pausable');
    const hold = deferred();
    const other = await t.openStore();
    const handler = defineTask({ alias, handle: () => hold.promise.then(() => true) });
    await t.store.taskDefinitionCreate({ alias });
    await other.taskHandlerAdd(handler);
    const items = await t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: 20 }, (_, n) => ({ n })),
    );
    // A poll interval far longer than the test: only the change feed can tell it of the pause.
    const runner = new TaskQueueRunner(other, { queueName: queue, maxConcurrency: 2, prefetch: 3, intervalSeconds: 60 });
    const events = recordEvents(runner);
    runner.start();
    try {
      await waitFor(async () => (await t.store.taskQueueStats({ queueName: queue })).running === 5, {
        message: '2 running + 3 prefetched',
      });
      await t.store.queuePause(queue);
      await waitFor(async () => (await t.store.taskQueueStats({ queueName: queue })).running === 2, {
        timeoutMs: 10_000,
        message: 'the prefetch given back',
      });
      hold.resolve();
      await waitFor(() => events.succeeded.length === 2, { message: 'the two running tasks finish' });
      await sleep(300);
      expect(events.started, 'no start after the pause').to.have.length(2);
      expect(await t.store.taskQueueStats({ queueName: queue })).to.include({ queued: 18, running: 0, success: 2 });

      await t.store.queueResume(queue);
      await waitFor(() => events.succeeded.length === 20, { timeoutMs: 20_000, message: 'every task after the resume' });
    } finally {
      hold.resolve();
      await runner.stop();
    }
    expect(events.succeeded.map((item) => item.id).sort()).to.deep.equal(items.map((item) => item.id).sort());
    expect(events.errors).to.deep.equal([]);
  });

  it('a runner waiting on a full concurrency limit claims again when another store’s task finishes', async function () {
    this.timeout(60_000);
    const alias = uniqueAlias('Slots');
    const hold = deferred();
    const other = await t.openStore();
    await t.store.taskHandlerAdd(defineTask({ alias, handle: () => hold.promise.then(() => true) }), true);
    await other.taskHandlerAdd(defineTask({ alias, handle: () => true }));
    await t.store.queueConfigure(queue, { concurrency: 1 });
    await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}]);
    const holder = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 60 });
    const holderEvents = recordEvents(holder);
    holder.start();
    await waitFor(() => holderEvents.started.length === 1, { message: 'the holder takes the only slot' });
    const waiter = new TaskQueueRunner(other, { queueName: queue, intervalSeconds: 60 });
    const waiterEvents = recordEvents(waiter);
    waiter.start();
    try {
      await sleep(200);
      expect(waiterEvents.started, 'nothing starts while the slot is held').to.have.length(0);
      // The holder claims nothing more; its task finishes and frees the slot.
      const stopping = holder.stop();
      hold.resolve();
      await stopping;
      // A poll interval of a minute: only the finish's wake-up (or the short poll where
      // finishes do not reach the change feed) lets the waiter claim within the test.
      await waitFor(() => waiterEvents.succeeded.length === 2, { timeoutMs: 20_000, message: 'the waiter runs the other two' });
    } finally {
      hold.resolve();
      await waiter.stop();
    }
    expect(holderEvents.succeeded).to.have.length(1);
    expect(waiterEvents.errors).to.deep.equal([]);
  });
});
