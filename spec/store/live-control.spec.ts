/**
 * Live control of running tasks within one process and between stores: cancel (ctx.signal,
 * fencing, lost claims found by heartbeats, prefetched items), progress (validated, fenced,
 * throttled, read back as item.progress) and snooze (no attempt used).
 */
import { expect } from 'chai';
import { ClaimLostError, TaskQueueRunner, defineTask, type LostClaim, type TaskContext, type TaskQueueItem } from '../../lib/index.js';
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
import { recordEvents } from '../support/runner-helpers.js';

forEachDialect('live control: cancel a running task', (t) => {
  it("aborts the handler's ctx.signal with ClaimLostError('canceled'); the row stays canceled whatever the handler returns", async () => {
    const queue = uniqueQueue();
    const alias = uniqueAlias('Cancel');
    const started = deferred<TaskContext>();
    const aborted = deferred<unknown>();
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        async handle(ctx) {
          started.resolve(ctx);
          aborted.resolve(await new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason))));
          return true; // a late success
        },
      }),
      true,
    );
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1 });
    const events = recordEvents(runner);
    runner.start();
    try {
      await within(started.promise, 10_000, 'the handler starting');
      const canceled = await t.store.taskQueueCancelById(item.id);
      expect(canceled).to.include({ status: 'canceled', claimToken: null });
      const reason = await within(aborted.promise, 10_000, 'ctx.signal aborting');
      expect(reason).to.be.instanceOf(ClaimLostError);
      expect(reason).to.include({ reason: 'canceled' });
      await waitFor(() => runner.activeCount === 0, { message: 'the handler settled' });
    } finally {
      await runner.stop();
    }
    const row = await t.store.taskQueueFindById(item.id);
    expect(row).to.include({ status: 'canceled', claimToken: null, attempts: 1 });
    expect(detailMessages(row!.details)).to.include('Task canceled while running').and.not.include('Task completed');
    expect(events.succeeded, 'no success reported').to.deep.equal([]);
    expect(events.failed, 'no failure reported').to.deep.equal([]);
  });

  it('frees the unique key at once, and refuses a finished task with INVALID_STATE', async () => {
    const alias = uniqueAlias('CancelKey');
    await t.store.taskDefinitionCreate({ alias });
    const queue = uniqueQueue();
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { uniqueKey: `k-${alias}` });
    await t.store.taskQueueClaimNext(queue);
    await t.store.taskQueueCancelById(item.id);
    const next = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { uniqueKey: `k-${alias}` });
    expect(next.id).to.not.equal(item.id);
    await expectError(() => t.store.taskQueueCancelById(item.id), 'INVALID_STATE', /it is canceled/);
    await expectError(() => t.store.taskQueueCancelById('no-such-id'), 'NOT_FOUND');
  });

  it("another store's heartbeat finds the claim gone and says why: canceled, or reclaimed by the sweep", async () => {
    const alias = uniqueAlias('Lost');
    await t.store.taskDefinitionCreate({ alias });
    const queue = uniqueQueue();
    const worker = await t.openStore();
    const heard: LostClaim[] = [];
    worker.onClaimLost((lost) => heard.push(lost));
    const [a, b] = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ n: 1 }, { n: 2 }]);
    const claimed = await worker.taskQueueClaim(queue, 2);
    expect(claimed.map((item) => item.id)).to.have.members([a!.id, b!.id]);
    expect(await worker.taskQueueHeartbeat(claimed), 'both held').to.equal(2);
    expect(heard).to.deep.equal([]);

    await t.store.taskQueueCancelById(a!.id);
    await backdateRunning(t.store, b!.id, 10 * 60_000);
    expect(await t.store.taskQueueUnstuck(queue, 1)).to.equal(1);

    expect(await worker.taskQueueHeartbeat(claimed), 'none held').to.equal(0);
    const tokenOf = (id: string) => claimed.find((item) => item.id === id)!.claimToken;
    expect(heard.filter((lost) => lost.id === a!.id)).to.deep.equal([{ id: a!.id, claimToken: tokenOf(a!.id), reason: 'canceled' }]);
    expect(heard.filter((lost) => lost.id === b!.id)).to.deep.equal([{ id: b!.id, claimToken: tokenOf(b!.id), reason: 'reclaimed' }]);
  });

  it('a prefetched item canceled before it starts is never started', async () => {
    const queue = uniqueQueue();
    const alias = uniqueAlias('Prefetched');
    const gate = deferred();
    const ran: string[] = [];
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        async handle(ctx) {
          ran.push(ctx.task!.id);
          if (ran.length === 1) await gate.promise;
        },
      }),
      true,
    );
    const [first, second] = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ n: 1 }, { n: 2 }]);
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, maxConcurrency: 1, prefetch: 1 });
    const events = recordEvents(runner);
    runner.start();
    try {
      await waitFor(async () => (await t.store.taskQueueFindById(second!.id))!.status === 'running', {
        message: 'the second item prefetched',
      });
      await t.store.taskQueueCancelById(second!.id);
      gate.resolve();
      await waitFor(() => events.succeeded.length === 1, { message: 'the first item done' });
    } finally {
      await runner.stop();
    }
    expect(ran).to.deep.equal([first!.id]);
    expect(events.started.map((item) => item.id)).to.deep.equal([first!.id]);
    expect((await t.store.taskQueueFindById(second!.id))!.status).to.equal('canceled');
  });
});

forEachDialect('live control: progress', (t) => {
  /** Counts the progress writes this store sends (statements that set progress_percent). */
  function countProgressWrites(): { count: () => number; stop: () => void } {
    let writes = 0;
    const listener = (query: { sql?: string }) => {
      if (typeof query.sql === 'string' && /^update/i.test(query.sql.trim()) && query.sql.includes('progress_percent')) writes += 1;
    };
    t.store.knex.on('query', listener);
    return { count: () => writes, stop: () => t.store.knex.off('query', listener) };
  }

  it('is written through the claim, throttled (many reports, few writes, the latest last), and read back as item.progress', async () => {
    const alias = uniqueAlias('Progress');
    const first = deferred();
    const burst = deferred();
    const finish = deferred();
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        async handle(ctx) {
          ctx.setProgress(10, { step: 'fetch' });
          first.resolve();
          await burst.promise;
          for (let n = 11; n <= 60; n++) ctx.setProgress(n, { step: 'resize', n });
          await finish.promise;
        },
      }),
      true,
    );
    const queue = uniqueQueue();
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect(item.progress, 'a new item has none').to.equal(null);
    const writes = countProgressWrites();
    const done = t.store.taskQueueProcessNext(queue);
    try {
      await first.promise;
      const reported = await waitFor(async () => (await t.store.taskQueueFindById(item.id))!.progress, { message: 'the first report' });
      expect(reported).to.deep.include({ percent: 10, data: { step: 'fetch' } });
      expect(reported.updatedAt).to.be.instanceOf(Date);
      burst.resolve();
      const last = await waitFor(
        async () => {
          const progress = (await t.store.taskQueueFindById(item.id))!.progress;
          return progress?.percent === 60 ? progress : null;
        },
        { message: 'the latest report written at the end of the window' },
      );
      expect(last.data).to.deep.equal({ step: 'resize', n: 60 });
      // 51 reports: the first at once, then at most one per window (a leading and a trailing one at most).
      expect(writes.count()).to.be.within(2, 3);
      finish.resolve();
      const final = await done;
      expect(final).to.include({ status: 'success' });
      expect(final!.progress, 'kept after the attempt').to.deep.include({ percent: 60 });
      const listed = await t.store.taskQueueList({ id: item.id });
      expect(listed[0]!.progress).to.deep.equal(final!.progress);
    } finally {
      writes.stop();
      first.resolve();
      burst.resolve();
      finish.resolve();
    }
  });

  it('refuses bad reports with INVALID_ARGUMENT and writes nothing', async () => {
    const alias = uniqueAlias('BadProgress');
    const refusals: string[] = [];
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        handle(ctx) {
          const bad: [unknown, unknown][] = [
            [101, undefined],
            [-1, undefined],
            [Number.NaN, undefined],
            ['50', undefined],
            [50, { f: () => 1 }],
            [50, 'x'.repeat(9000)],
            [50, 10n],
          ];
          for (const [percent, data] of bad) {
            try {
              (ctx.setProgress as (percent: unknown, data?: unknown) => void)(percent, data);
              refusals.push('accepted');
            } catch (error) {
              refusals.push((error as { code?: string }).code ?? String(error));
            }
          }
        },
      }),
      true,
    );
    const queue = uniqueQueue();
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await t.store.taskQueueProcessNext(queue);
    expect(refusals).to.deep.equal(Array(7).fill('INVALID_ARGUMENT'));
    expect(done).to.include({ status: 'success', progress: null });
  });

  it('is fenced: a reclaimed worker reports in vain', async () => {
    const alias = uniqueAlias('FencedProgress');
    const reclaimed = deferred();
    const reported = deferred();
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        async handle(ctx) {
          await reclaimed.promise;
          ctx.setProgress(77, { late: true });
          reported.resolve();
          return true;
        },
      }),
      true,
    );
    const queue = uniqueQueue();
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { maxAttempts: 2 });
    const claimed = (await t.store.taskQueueClaimNext(queue)) as TaskQueueItem;
    const writes = countProgressWrites();
    const run = t.store.taskQueueExecute(claimed, { heartbeatIntervalMs: 0 });
    try {
      await backdateRunning(t.store, item.id, 10 * 60_000);
      expect(await t.store.taskQueueUnstuck(queue, 1)).to.equal(1);
      const again = (await t.store.taskQueueClaimNext(queue)) as TaskQueueItem;
      expect(again.claimToken).to.not.equal(claimed.claimToken);
      reclaimed.resolve();
      await reported.promise;
      const result = await run;
      expect(result!.recorded, 'the late finish is fenced too').to.equal(false);
      await waitFor(() => writes.count() === 1, { message: "the old worker's progress write sent" });
    } finally {
      writes.stop();
      reclaimed.resolve();
    }
    const row = await t.store.taskQueueFindById(item.id);
    expect(row).to.include({ status: 'running', progress: null });
  });
});

forEachDialect('live control: snooze', (t) => {
  it('puts the task back to queued at now + ms without using an attempt, with a details line; it runs again and succeeds', async () => {
    const alias = uniqueAlias('Snooze');
    const attempts: number[] = [];
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        handle(ctx) {
          attempts.push(ctx.attempt);
          if (attempts.length === 1) {
            ctx.setOutput('waiting for the upstream');
            return ctx.snooze(60_000);
          }
          return true;
        },
      }),
      true,
    );
    const queue = uniqueQueue();
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { maxAttempts: 1 });
    const before = Date.now();
    const snoozed = await t.store.taskQueueProcessNext(queue);
    const after = Date.now();
    expect(snoozed).to.include({ status: 'queued', attempts: 0, claimToken: null, output: 'waiting for the upstream' });
    expect(snoozed!.availableAt.getTime()).to.be.within(before + 60_000, after + 60_000);
    expect(detailMessages(snoozed!.details).at(-1)).to.equal('Task snoozed for 60 s (no attempt used)');
    expect(await t.store.taskQueueClaimNext(queue), 'not due before its time').to.equal(null);

    await t.store.taskQueueUpdate({ id: item.id, availableAt: new Date() });
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done).to.include({ status: 'success', attempts: 1 });
    expect(attempts, 'ctx.attempt: the snooze used none').to.deep.equal([1, 1]);
  });

  it('under a runner: no event for the snooze, the task runs again when due', async () => {
    const alias = uniqueAlias('RunnerSnooze');
    let runs = 0;
    await t.store.taskHandlerAdd(defineTask({ alias, handle: (ctx) => (++runs === 1 ? ctx.snooze(150) : true) }), true);
    const queue = uniqueQueue();
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 5 });
    const events = recordEvents(runner);
    runner.start();
    try {
      await waitFor(() => events.succeeded.length === 1, { message: 'the snoozed task succeeding' });
    } finally {
      await runner.stop();
    }
    expect(events.failed).to.deep.equal([]);
    expect(events.started.map((started) => started.id)).to.deep.equal([item.id, item.id]);
    expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'success', attempts: 1 });
  });

  it('a bad duration fails the attempt with INVALID_ARGUMENT', async () => {
    const alias = uniqueAlias('BadSnooze');
    await t.store.taskHandlerAdd(defineTask({ alias, handle: (ctx) => ctx.snooze(-1) }), true);
    const queue = uniqueQueue();
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done).to.include({ status: 'failed', attempts: 1 });
    expect(done!.details).to.match(/ctx\.snooze: ms must be a non-negative number/);
  });
});
