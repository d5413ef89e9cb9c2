/**
 * Not a spec (the name does not end in .spec): leak-check.spec.ts runs this file in a child
 * mocha with only the root hooks, to see the runner leak check fail the tests that leave a
 * runner running, and only those. Every runner here is idle (60 s polls on an empty store).
 */
import { strict as assert } from 'node:assert';
import { ScheduleRunner, TaskQueueRunner, TaskStore } from '../../lib/index.js';

describe('leak fixture', function () {
  let store: TaskStore;
  let forgotten: TaskQueueRunner | undefined;
  let blockRunner: TaskQueueRunner | undefined;

  before(async function () {
    store = await TaskStore.open({ database: 'sqlite::memory:' });
  });
  after(async function () {
    await store.close();
  });

  it('leaves a TaskQueueRunner and a ScheduleRunner running', function () {
    forgotten = new TaskQueueRunner(store, { queueName: 'forgotten', intervalSeconds: 60 });
    forgotten.start();
    new ScheduleRunner(store, { intervalSeconds: 60 }).start();
  });

  it('runs next, and finds the leaked runner stopped by the check', function () {
    assert.equal(forgotten?.isRunning(), false);
  });

  it('stops the runner it starts', async function () {
    const runner = new TaskQueueRunner(store, { queueName: 'tidy', intervalSeconds: 60 });
    runner.start();
    await runner.stop();
  });

  it('fails on its own while its runner runs', function () {
    new TaskQueueRunner(store, { queueName: 'failing', intervalSeconds: 60 }).start();
    throw new Error('a failure of its own');
  });

  describe('a runner for the whole block, stopped by its after hook', function () {
    before(function () {
      blockRunner = new TaskQueueRunner(store, { queueName: 'block', intervalSeconds: 60 });
      blockRunner.start();
    });
    after(async function () {
      await blockRunner?.stop();
    });

    it('sees it running in the first test', function () {
      assert.equal(blockRunner?.isRunning(), true);
    });

    it('and still in the second', function () {
      assert.equal(blockRunner?.isRunning(), true);
    });
  });

  describe('a runner a before hook starts and nothing stops', function () {
    before(function () {
      new ScheduleRunner(store, { intervalSeconds: 60 }).start();
    });

    it('passes', function () {});
  });
});
