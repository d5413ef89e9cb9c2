import { expect } from 'chai';
import { TaskQueueRunner } from '../../lib/index.js';
import { deferred, forEachDialect, waitFor, within } from '../support/index.js';
import { handlerRegistrar, recordEvents, useFreshQueue } from '../support/runner-helpers.js';

/** A few turns of the event loop and one timer: enough for handlers to overlap if they could. */
const briefly = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2));

forEachDialect('TaskQueueRunner concurrency', (t) => {
  let queue: string;

  useFreshQueue((name) => {
    queue = name;
  });

  const register = handlerRegistrar(t, 'Conc');

  it('maxConcurrency 1 runs handlers one at a time, in claim order (priority, then creation order)', async function () {
    const log: string[] = [];
    const alias = await register({
      async handle(ctx) {
        const n = ctx.getParam('n');
        log.push(`start ${n}`);
        await briefly();
        log.push(`end ${n}`);
      },
    });
    const priorities = [0, 5, 0, 9, 5, 0, 9, -1];
    for (const [n, priority] of priorities.entries()) await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n }, { priority });
    const expected = [...priorities.entries()].sort(([a, pa], [b, pb]) => pb - pa || a - b).map(([n]) => n);

    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 1, intervalSeconds: 0.1 });
    const events = recordEvents(runner);
    runner.start();
    await waitFor(() => events.succeeded.length === priorities.length, { timeoutMs: 30_000, message: 'every task succeeded' });
    await runner.stop();

    expect(log, 'start/end pairs never interleave, in claim order').to.deep.equal(expected.flatMap((n) => [`start ${n}`, `end ${n}`]));
    expect(events.started.map((item) => Number(item.parameters['n']))).to.deep.equal(expected);
    expect(events.errors).to.deep.equal([]);
  });

  it('maxConcurrency 3 runs at most 3 handlers at once, reaches 3, and finishes all 30', async function () {
    let inFlight = 0;
    let peak = 0;
    const three = deferred();
    const alias = await register({
      async handle() {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        if (inFlight === 3) three.resolve();
        try {
          // the first handlers wait until three are in flight at once, so reaching 3 is proven, not hoped for
          await three.promise;
          await briefly();
        } finally {
          inFlight -= 1;
        }
      },
    });
    await t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: 30 }, (_, n) => ({ n })),
    );

    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 3, intervalSeconds: 0.1 });
    const events = recordEvents(runner);
    runner.start();
    await within(three.promise, 20_000, 'three handlers in flight at once');
    await waitFor(() => events.succeeded.length === 30, { timeoutMs: 60_000, message: 'all 30 tasks succeeded' });
    await runner.stop();

    expect(peak, 'peak of handlers in flight').to.equal(3);
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'success' })).to.equal(30);
    expect(new Set(events.succeeded.map((item) => item.id)).size).to.equal(30);
    expect(events.errors).to.deep.equal([]);
  });

  it('refills a freed slot at once: short tasks all finish while a long one holds the other slot', async function () {
    const long = deferred();
    const longStarted = deferred();
    let shortInFlight = 0;
    let shortPeak = 0;
    const alias = await register({
      async handle(ctx) {
        if (ctx.getParam('kind') === 'long') {
          longStarted.resolve();
          await long.promise;
          return;
        }
        shortInFlight += 1;
        shortPeak = Math.max(shortPeak, shortInFlight);
        await briefly();
        shortInFlight -= 1;
      },
    });
    const longItem = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { kind: 'long' }, { priority: 10 });
    await t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: 12 }, (_, n) => ({ kind: 'short', n })),
    );

    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 2, intervalSeconds: 0.1 });
    const events = recordEvents(runner);
    runner.start();
    try {
      await within(longStarted.promise, 20_000, 'the long task starting');
      await waitFor(() => events.succeeded.length === 12, {
        timeoutMs: 60_000,
        message: 'the 12 short tasks succeeded while the long one is held',
      });
      expect(events.succeeded.map((item) => item.id)).to.not.include(longItem.id);
      expect((await t.store.taskQueueFindById(longItem.id))?.status, 'the long task is still running').to.equal('running');
      expect(shortPeak, 'short tasks had one slot between them').to.equal(1);
    } finally {
      long.resolve();
    }
    await waitFor(() => events.succeeded.length === 13, { timeoutMs: 20_000, message: 'the long task succeeded' });
    await runner.stop();
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'success' })).to.equal(13);
  });
});
