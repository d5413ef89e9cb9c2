import { expect } from 'chai';
import { defineTask } from '../../lib/index.js';
import type { TaskQueueItem } from '../../lib/index.js';
import {
  backdateRunning,
  deferred,
  detailMessages,
  expectError,
  forEachDialect,
  uniqueAlias,
  uniqueQueue,
  waitFor,
  within,
} from '../support/index.js';

const TEN_MINUTES = 10 * 60_000;

forEachDialect('unstuck and fencing', (t) => {
  let queue: string;
  let alias: string;

  beforeEach(async function () {
    queue = uniqueQueue();
    alias = uniqueAlias('Stuck');
    await t.store.taskDefinitionCreate({ alias });
  });

  async function claimOne(maxAttempts: number): Promise<TaskQueueItem> {
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { maxAttempts });
    const claimed = await t.store.taskQueueClaimNext(queue);
    expect(claimed?.status).to.equal('running');
    return claimed!;
  }

  describe('taskQueueUnstuck', function () {
    it('leaves fresh running rows alone', async function () {
      const item = await claimOne(3);
      expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(0);
      expect(await t.store.taskQueueFindById(item.id)).to.deep.equal(item);
    });

    it('requeues a stale running row with attempts left', async function () {
      const item = await claimOne(3);
      await backdateRunning(t.store, item.id, TEN_MINUTES);
      expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(1);
      const requeued = await t.store.taskQueueFindById(item.id);
      expect(requeued).to.include({ status: 'queued', attempts: 1, claimToken: null, completedAt: null });
      const again = await t.store.taskQueueClaimNext(queue);
      expect(again?.id).to.equal(item.id);
      expect(again?.attempts).to.equal(2);
      expect(again?.claimToken).to.not.equal(item.claimToken);
    });

    it("fails a stale running row without attempts left, with 'Failed forcefully after N minutes timeout'", async function () {
      const item = await claimOne(1);
      await backdateRunning(t.store, item.id, TEN_MINUTES);
      expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(1);
      const failed = await t.store.taskQueueFindById(item.id);
      expect(failed).to.include({ status: 'failed', claimToken: null });
      expect(failed?.completedAt).to.be.instanceOf(Date);
      expect(detailMessages(failed!.details)).to.include('Failed forcefully after 5 minutes timeout');
      expect(await t.store.taskQueueClaimNext(queue)).to.equal(null);
    });

    it('accepts fractional minutes', async function () {
      const item = await claimOne(2);
      const reclaimed = await waitFor(async () => (await t.store.taskQueueUnstuck(queue, 0.002)) === 1, {
        timeoutMs: 5000,
        message: 'unstuck after 0.002 minutes',
      });
      expect(reclaimed).to.equal(true);
      expect((await t.store.taskQueueFindById(item.id))?.status).to.equal('queued');
    });

    it('judges by the heartbeat when there is one: an old start with a fresh heartbeat is not stuck', async function () {
      const item = await claimOne(2);
      await backdateRunning(t.store, item.id, TEN_MINUTES, { columns: ['started_at'] });
      expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(0);
      expect((await t.store.taskQueueFindById(item.id))?.status).to.equal('running');
    });

    it('only touches the named queue and only running rows', async function () {
      const mine = await claimOne(2);
      const otherQueue = uniqueQueue();
      await t.store.taskDefinitionEnqueueByAlias(otherQueue, alias, {}, { maxAttempts: 2 });
      const theirs = await t.store.taskQueueClaimNext(otherQueue);
      await backdateRunning(t.store, mine.id, TEN_MINUTES);
      await backdateRunning(t.store, theirs!.id, TEN_MINUTES);
      const waiting = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(1);
      expect((await t.store.taskQueueFindById(theirs!.id))?.status).to.equal('running');
      expect(await t.store.taskQueueFindById(waiting.id)).to.deep.equal(waiting);
    });

    it('rejects minutes that are not a positive number', async function () {
      const item = await claimOne(2);
      await backdateRunning(t.store, item.id, TEN_MINUTES);
      for (const minutes of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expectError(() => t.store.taskQueueUnstuck(queue, minutes), 'INVALID_ARGUMENT', 'minutes');
      }
      expect((await t.store.taskQueueFindById(item.id))?.status).to.equal('running');
    });

    it('a live handler heartbeats its row so it is not reclaimed', async function () {
      const worker = await t.openStore({ heartbeatIntervalMs: 20 });
      const reached = deferred();
      const release = deferred();
      const liveAlias = uniqueAlias('Live');
      await worker.taskHandlerAdd(
        defineTask({
          alias: liveAlias,
          maxAttempts: 2,
          async handle() {
            reached.resolve();
            await release.promise;
            return true;
          },
        }),
        true,
      );
      const item = await t.store.taskDefinitionEnqueueByAlias(queue, liveAlias, {});
      const running = worker.taskQueueProcessNext(queue);
      try {
        await within(reached.promise, 10_000, 'handler start');
        await backdateRunning(t.store, item.id, TEN_MINUTES);
        await waitFor(async () => ((await t.store.taskQueueFindById(item.id))?.heartbeatAt?.getTime() ?? 0) > Date.now() - 60_000, {
          message: 'heartbeat refreshed',
        });
        expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(0);
      } finally {
        release.resolve();
      }
      expect((await running)?.status).to.equal('success');
    });
  });

  describe('fencing', function () {
    it('a stale claim cannot finish a task that was reclaimed', async function () {
      const calls: string[] = [];
      await t.store.taskHandlerAdd(
        defineTask({
          alias,
          handle(ctx) {
            calls.push(ctx.task?.claimToken ?? 'none');
            ctx.setOutput(`by ${ctx.task?.claimToken ?? 'none'}`);
            return true;
          },
        }),
        false,
      );
      const stale = await claimOne(3);
      await backdateRunning(t.store, stale.id, TEN_MINUTES);
      expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(1);
      const fresh = await t.store.taskQueueClaimNext(queue);
      expect(fresh?.id).to.equal(stale.id);
      expect(fresh?.claimToken).to.not.equal(stale.claimToken);

      const result = await t.store.taskQueueProcessTask(stale);
      expect(result).to.be.a('boolean');
      const afterStale = await t.store.taskQueueFindById(stale.id);
      expect(afterStale).to.include({ status: 'running', claimToken: fresh!.claimToken, attempts: 2, output: '', completedAt: null });
      expect(afterStale?.details).to.equal(fresh!.details);

      expect(await t.store.taskQueueProcessTask(fresh!)).to.equal(true);
      const done = await t.store.taskQueueFindById(stale.id);
      expect(done).to.include({ status: 'success', output: `by ${fresh!.claimToken}`, claimToken: null });
    });

    it('a handler still running when its task was reclaimed cannot overwrite the newer claim', async function () {
      const reached = deferred();
      const release = deferred();
      const lateAlias = uniqueAlias('Late');
      await t.store.taskHandlerAdd(
        defineTask({
          alias: lateAlias,
          maxAttempts: 3,
          async handle(ctx) {
            if (ctx.attempt > 1) return true;
            reached.resolve();
            await release.promise;
            ctx.setOutput('late output');
            return true;
          },
        }),
        true,
      );
      const item = await t.store.taskDefinitionEnqueueByAlias(queue, lateAlias, {});
      const late = t.store.taskQueueProcessNext(queue);
      let fresh: TaskQueueItem | null;
      try {
        await within(reached.promise, 10_000, 'first attempt start');
        await backdateRunning(t.store, item.id, TEN_MINUTES);
        expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(1);
        const other = await t.openStore();
        fresh = await other.taskQueueClaimNext(queue);
        expect(fresh?.id).to.equal(item.id);
      } finally {
        release.resolve();
      }
      await late;
      const row = await t.store.taskQueueFindById(item.id);
      expect(row).to.include({ status: 'running', claimToken: fresh!.claimToken, attempts: 2, completedAt: null });
      expect(row?.output).to.not.equal('late output');
    });

    it('a stale claim cannot fail a task that was reclaimed', async function () {
      const failAlias = uniqueAlias('Failing');
      await t.store.taskHandlerAdd(defineTask({ alias: failAlias, maxAttempts: 1, handle: () => false }), true);
      await t.store.taskDefinitionEnqueueByAlias(queue, failAlias, {}, { maxAttempts: 3 });
      const stale = (await t.store.taskQueueClaimNext(queue))!;
      await backdateRunning(t.store, stale.id, TEN_MINUTES);
      expect(await t.store.taskQueueUnstuck(queue, 5)).to.equal(1);
      const fresh = (await t.store.taskQueueClaimNext(queue))!;
      await t.store.taskQueueProcessTask(stale);
      expect(await t.store.taskQueueFindById(stale.id)).to.include({ status: 'running', claimToken: fresh.claimToken, attempts: 2 });
    });
  });
});
