import { expect } from 'chai';
import { PermanentError, defineTask } from '../../lib/index.js';
import type { BackoffOptions, TaskQueueItem } from '../../lib/index.js';
import { detailMessages, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

/** The lifecycle lines of details ('Task …'), ignoring handler and retry notes. */
function taskLines(details: string): string[] {
  return detailMessages(details).filter((line) => line.startsWith('Task '));
}

forEachDialect('retries and backoff', (t) => {
  let queue: string;

  beforeEach(function () {
    queue = uniqueQueue();
  });

  async function failing(
    maxAttempts: number,
    backoff: BackoffOptions,
    outcome: 'false' | 'throw' = 'false',
  ): Promise<{ alias: string; attempts: number[] }> {
    const alias = uniqueAlias('Retry');
    const attempts: number[] = [];
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        maxAttempts,
        backoff,
        handle(ctx) {
          attempts.push(ctx.attempt);
          if (outcome === 'throw') throw new Error(`attempt ${ctx.attempt} broke`);
          return false;
        },
      }),
      true,
    );
    return { alias, attempts };
  }

  /** Processes the next item and checks the retry delay it was given. */
  async function processExpectingRetry(expectedDelayMs: number): Promise<TaskQueueItem> {
    const before = Date.now();
    const item = await t.store.taskQueueProcessNext(queue);
    const after = Date.now();
    expect(item, 'an item was processed').to.not.equal(null);
    expect(item).to.include({ status: 'queued', claimToken: null, completedAt: null });
    expect(item!.availableAt.getTime(), `availableAt ≈ now + ${expectedDelayMs} ms`).to.be.within(
      before + expectedDelayMs - 5,
      after + expectedDelayMs + 1000,
    );
    return item!;
  }

  /** Makes a waiting retry due now, as if its backoff had elapsed. */
  async function makeDue(item: TaskQueueItem): Promise<void> {
    await t.store.taskQueueUpdate({ id: item.id, availableAt: new Date(Date.now() - 1) });
  }

  it('a failure with attempts left goes back to queued, not claimable until the backoff elapses', async function () {
    const { alias, attempts } = await failing(3, { type: 'fixed', delayMs: 60_000 });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const retried = await processExpectingRetry(60_000);
    expect(retried.attempts).to.equal(1);
    expect(taskLines(retried.details)).to.deep.equal(['Task started', 'Task failed']);
    expect(await t.store.taskQueueClaimNext(queue)).to.equal(null);
    expect(attempts).to.deep.equal([1]);
  });

  it('fixed backoff waits the same delay each time, then fails for good', async function () {
    const { alias, attempts } = await failing(3, { type: 'fixed', delayMs: 20_000 });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    await makeDue(await processExpectingRetry(20_000));
    await makeDue(await processExpectingRetry(20_000));
    const before = Date.now();
    const final = await t.store.taskQueueProcessNext(queue);
    expect(final).to.include({ status: 'failed', attempts: 3, maxAttempts: 3, claimToken: null });
    expect(final?.completedAt?.getTime()).to.be.within(before - 1000, Date.now() + 1000);
    expect(attempts).to.deep.equal([1, 2, 3]);
    expect(detailMessages(final!.details).filter((line) => line === 'Task started')).to.have.length(3);
    expect(await t.store.taskQueueClaimNext(queue)).to.equal(null);
  });

  it('linear backoff grows by delayMs per attempt', async function () {
    const { alias } = await failing(4, { type: 'linear', delayMs: 10_000 }, 'throw');
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    await makeDue(await processExpectingRetry(10_000));
    await makeDue(await processExpectingRetry(20_000));
    await processExpectingRetry(30_000);
  });

  it('exponential backoff doubles, capped by maxDelayMs', async function () {
    const { alias } = await failing(5, { type: 'exponential', delayMs: 10_000, maxDelayMs: 25_000 });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    await makeDue(await processExpectingRetry(10_000));
    await makeDue(await processExpectingRetry(20_000));
    await makeDue(await processExpectingRetry(25_000));
    await processExpectingRetry(25_000);
  });

  it('succeeds on a later attempt', async function () {
    const alias = uniqueAlias('Flaky');
    await t.store.taskHandlerAdd(
      defineTask({ alias, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 }, handle: (ctx) => ctx.attempt >= 2 }),
      true,
    );
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const first = await t.store.taskQueueProcessNext(queue);
    expect(first).to.include({ status: 'queued', attempts: 1 });
    const second = await t.store.taskQueueProcessNext(queue);
    expect(second).to.include({ status: 'success', attempts: 2 });
    expect(taskLines(second!.details)).to.deep.equal(['Task started', 'Task failed', 'Task started', 'Task completed']);
  });

  it('the enqueue maxAttempts overrides the definition', async function () {
    const { alias } = await failing(5, { type: 'fixed', delayMs: 0 });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { maxAttempts: 1 });
    expect(await t.store.taskQueueProcessNext(queue)).to.include({ status: 'failed', attempts: 1, maxAttempts: 1 });
  });

  it('the default of one attempt means no retry', async function () {
    const alias = uniqueAlias('Once');
    await t.store.taskHandlerAdd(defineTask({ alias, handle: () => false }), true);
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect(await t.store.taskQueueProcessNext(queue)).to.include({ status: 'failed', attempts: 1, maxAttempts: 1 });
  });

  it('PermanentError fails at once regardless of attempts left', async function () {
    const alias = uniqueAlias('Permanent');
    const attempts: number[] = [];
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        maxAttempts: 5,
        backoff: { type: 'fixed', delayMs: 0 },
        handle(ctx) {
          attempts.push(ctx.attempt);
          throw new PermanentError('bad input, do not retry');
        },
      }),
      true,
    );
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done).to.include({ status: 'failed', attempts: 1 });
    expect(done?.completedAt).to.be.instanceOf(Date);
    expect(await t.store.taskQueueProcessNext(queue)).to.equal(null);
    expect(attempts).to.deep.equal([1]);
  });

  it('a timeout counts as a failed attempt and is retried', async function () {
    const alias = uniqueAlias('Slow');
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        maxAttempts: 2,
        timeoutMs: 30,
        backoff: { type: 'fixed', delayMs: 0 },
        handle: (ctx) => (ctx.attempt === 1 ? new Promise<boolean>(() => undefined) : true),
      }),
      true,
    );
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect(await t.store.taskQueueProcessNext(queue)).to.include({ status: 'queued', attempts: 1 });
    expect(await t.store.taskQueueProcessNext(queue)).to.include({ status: 'success', attempts: 2 });
  });
});
