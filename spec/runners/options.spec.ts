import { expect } from 'chai';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import type { TaskQueueRunnerOptions } from '../../lib/index.js';
import { expectError, expectThrows, forEachDialect, uniqueAlias } from '../support/index.js';

forEachDialect('TaskQueueRunner options', (t) => {
  const BAD_VALUES: [keyof TaskQueueRunnerOptions, unknown][] = [
    ['intervalSeconds', 0],
    ['intervalSeconds', -1],
    ['intervalSeconds', Number.NaN],
    ['intervalSeconds', Number.POSITIVE_INFINITY],
    ['intervalSeconds', '10'],
    // Longer than a Node timer holds (2^31 - 1 ms): it would fire after 1 ms.
    ['intervalSeconds', 2_147_484],
    ['unstuckMinutes', 35_792],
    ['unstuckMinutes', 0],
    ['unstuckMinutes', -0.5],
    ['unstuckMinutes', Number.NaN],
    ['unstuckMinutes', null],
    ['maxConcurrency', 0],
    ['maxConcurrency', -1],
    ['maxConcurrency', Number.NaN],
    ['maxConcurrency', 1.5],
    ['maxConcurrency', '2'],
    ['prefetch', -1],
    ['prefetch', 0.5],
    ['prefetch', Number.NaN],
    ['removeOnSuccess', 'yes'],
    ['removeOnSuccess', 1],
    ['removeOnSuccess', null],
    ['queueName', '   '],
    ['queueName', 42],
  ];

  for (const [option, value] of BAD_VALUES) {
    it(`throws INVALID_ARGUMENT naming ${option} for ${option}: ${typeof value === 'string' ? `'${value}'` : String(value)}`, function () {
      expectThrows(() => new TaskQueueRunner(t.store, { [option]: value } as TaskQueueRunnerOptions), 'INVALID_ARGUMENT', option);
    });
  }

  it('throws INVALID_ARGUMENT naming an unknown option', function () {
    expectThrows(
      () => new TaskQueueRunner(t.store, { concurrency: 2 } as unknown as TaskQueueRunnerOptions),
      'INVALID_ARGUMENT',
      'concurrency',
    );
  });

  it('throws INVALID_ARGUMENT for options that are not a plain object', function () {
    for (const options of [null, [], 'emails', 5]) {
      expectThrows(() => new TaskQueueRunner(t.store, options as unknown as TaskQueueRunnerOptions), 'INVALID_ARGUMENT', 'options');
    }
  });

  it('resolves documented defaults, and undefined values count as absent', function () {
    for (const runner of [
      new TaskQueueRunner(t.store),
      new TaskQueueRunner(t.store, { intervalSeconds: undefined, maxConcurrency: undefined }),
    ]) {
      expect(runner.queueName).to.equal('default');
      expect(runner.options).to.include({
        queueName: 'default',
        pollIntervalMs: 10_000,
        unstuckMinutes: 1,
        maxConcurrency: 1,
        prefetch: 0,
        removeOnSuccess: false,
      });
      expect(runner.isRunning()).to.equal(false);
    }
  });

  it('accepts fractions for intervalSeconds and unstuckMinutes', function () {
    const runner = new TaskQueueRunner(t.store, {
      queueName: 'emails',
      intervalSeconds: 0.25,
      unstuckMinutes: 0.02,
      maxConcurrency: 7,
      prefetch: 3,
      removeOnSuccess: true,
    });
    expect(runner.options).to.include({
      queueName: 'emails',
      pollIntervalMs: 250,
      unstuckMinutes: 0.02,
      maxConcurrency: 7,
      prefetch: 3,
      removeOnSuccess: true,
    });
    // heartbeats stay well inside the unstuck window (1.2 s here)
    expect(runner.options.heartbeatIntervalMs).to.be.above(0).and.below(1200);
  });

  it("works the 'default' queue when queueName is ''", async function () {
    const alias = uniqueAlias('Dflt');
    const ran: string[] = [];
    await t.store.taskHandlerAdd(defineTask({ alias, handle: (ctx) => void ran.push(ctx.task!.id) }), true);
    const viaEmpty = await t.store.taskDefinitionEnqueueByAlias('', alias, {});
    const viaName = await t.store.taskDefinitionEnqueueByAlias('default', alias, {});
    const runner = new TaskQueueRunner(t.store, { queueName: '' });
    expect(runner.queueName).to.equal('default');
    await runner.runOnce();
    expect(ran.sort()).to.deep.equal([viaEmpty.id, viaName.id].sort());
    expect(await t.store.taskQueueCount({ queueName: 'default', status: 'success' })).to.equal(2);
  });

  it('start() on a closed store throws INVALID_STATE and leaves the runner stopped', async function () {
    const closed = await t.openStore();
    await closed.close();
    const runner = new TaskQueueRunner(closed, { queueName: 'closed' });
    expectThrows(() => runner.start(), 'INVALID_STATE', 'closed');
    expect(runner.isRunning()).to.equal(false);
  });

  it('stop() rejects a bad graceMs with INVALID_ARGUMENT (a rejection, like every async method)', async function () {
    const runner = new TaskQueueRunner(t.store, { queueName: 'grace', intervalSeconds: 60 });
    runner.start();
    for (const graceMs of [-1, Number.NaN, 2 ** 31]) await expectError(() => runner.stop({ graceMs }), 'INVALID_ARGUMENT', 'graceMs');
    expect(runner.isRunning(), 'a rejected stop leaves the runner running').to.equal(true);
    await runner.stop();
    expect(runner.isRunning()).to.equal(false);
  });
});
