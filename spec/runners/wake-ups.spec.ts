/**
 * An idle runner hears of a task enqueued through another store (another connection, as
 * another process would have) from the change feed: NOTIFY on PostgreSQL, data_version on
 * SQLite, the newest id on MySQL. Its poll interval here is a minute, so only the feed can
 * have woken it within the test's bound.
 */
import { expect } from 'chai';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue, waitFor } from '../support/index.js';

forEachDialect('Wake-ups from other stores', (t) => {
  it('an idle runner runs a task enqueued through another store long before its next poll', async () => {
    const queue = uniqueQueue('wake');
    const ran: string[] = [];
    const alias = uniqueAlias('Wake');
    await t.store.taskHandlerAdd(defineTask({ alias, handle: (ctx) => void ran.push(ctx.task!.id) }), true);
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 60 });
    runner.start();
    const other = await t.openStore();
    try {
      await waitFor(async () => (await t.store.taskQueueNextDueAt(queue)) === null, { message: 'the runner is idle' });
      await new Promise((resolve) => setTimeout(resolve, 100)); // past its first (empty) claim: now it waits
      const item = await other.taskDefinitionEnqueueByAlias(queue, alias, {});
      await waitFor(() => ran.includes(item.id), { timeoutMs: 5_000, message: "the other store's task ran, woken by the change feed" });
      expect(ran).to.deep.equal([item.id]);
    } finally {
      await runner.stop();
    }
  });
});
