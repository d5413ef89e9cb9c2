/**
 * A runner wakes for due times, not only for its poll: a delayed task or a retry starts when
 * it becomes due, long before a poll interval of a minute would have passed. No timing is
 * asserted beyond "well before the poll interval".
 */
import { expect } from 'chai';
import { TaskQueueRunner } from '../../lib/index.js';
import { forEachDialect, uniqueQueue, waitFor } from '../support/index.js';
import { handlerRegistrar } from '../support/runner-helpers.js';

/** Long enough that a task run within `WELL_BEFORE_MS` cannot have waited for a poll. */
const POLL_SECONDS = 120;
const WELL_BEFORE_MS = 20_000;

forEachDialect('TaskQueueRunner: due times', (t) => {
  const register = handlerRegistrar(t, 'Due');

  async function idleRunner(queue: string): Promise<TaskQueueRunner> {
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: POLL_SECONDS });
    runner.start();
    await runner.runOnce(); // it has looked, found nothing, and gone to sleep
    return runner;
  }

  it('runs a task enqueued with a delay once it is due, not at the next poll', async function () {
    const queue = uniqueQueue();
    const alias = await register({ handle: () => true });
    const runner = await idleRunner(queue);
    try {
      const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { delayMs: 300 });
      await waitFor(async () => (await t.store.taskQueueFindById(item.id))?.status === 'success', {
        timeoutMs: WELL_BEFORE_MS,
        message: 'the delayed task ran when due',
      });
      const done = await t.store.taskQueueFindById(item.id);
      expect(done!.startedAt!.getTime(), 'not before it was due').to.be.at.least(item.availableAt.getTime());
    } finally {
      await runner.stop();
    }
  });

  it('runs a retry when its backoff has passed, not at the next poll', async function () {
    const queue = uniqueQueue();
    let attempts = 0;
    const alias = await register({
      maxAttempts: 2,
      backoff: { type: 'fixed', delayMs: 300 },
      handle: () => {
        attempts += 1;
        if (attempts === 1) throw new Error('first attempt fails');
        return true;
      },
    });
    const runner = await idleRunner(queue);
    try {
      const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      await waitFor(async () => (await t.store.taskQueueFindById(item.id))?.status === 'success', {
        timeoutMs: WELL_BEFORE_MS,
        message: 'the retry ran when its backoff had passed',
      });
      expect(attempts).to.equal(2);
    } finally {
      await runner.stop();
    }
  });

  it('runs a delayed task enqueued through another store (another process) once it is due', async function () {
    const queue = uniqueQueue();
    const alias = await register({ handle: () => true });
    const runner = await idleRunner(queue);
    const other = await t.openStore();
    try {
      const item = await other.taskDefinitionEnqueueByAlias(queue, alias, {}, { delayMs: 300 });
      await waitFor(async () => (await t.store.taskQueueFindById(item.id))?.status === 'success', {
        timeoutMs: WELL_BEFORE_MS,
        message: "the other store's delayed task ran when due",
      });
    } finally {
      await runner.stop();
    }
  });

  it('taskQueueNextDueAt: the earliest availableAt of the queue’s live queued items, or null', async function () {
    const queue = uniqueQueue();
    const alias = await register({ handle: () => true });
    expect(await t.store.taskQueueNextDueAt(queue)).to.equal(null);
    const later = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { delayMs: 60_000 });
    const sooner = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { delayMs: 30_000 });
    await t.store.taskDefinitionEnqueueByAlias(uniqueQueue(), alias, {}, { delayMs: 1_000 }); // another queue
    expect((await t.store.taskQueueNextDueAt(queue))?.getTime()).to.equal(sooner.availableAt.getTime());
    await t.store.taskQueueSoftDeleteById(sooner.id);
    expect((await t.store.taskQueueNextDueAt(queue))?.getTime()).to.equal(later.availableAt.getTime());
  });
});
