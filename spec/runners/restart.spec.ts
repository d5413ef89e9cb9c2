import { expect } from 'chai';
import { ScheduleRunner, TaskQueueRunner } from '../../lib/index.js';
import { forEachDialect, uniqueQueue, waitFor, within } from '../support/index.js';

forEachDialect('Runner lifecycle shared by both kinds', (t) => {
  const kinds = {
    TaskQueueRunner: () => new TaskQueueRunner(t.store, { queueName: uniqueQueue(), intervalSeconds: 0.1 }),
    ScheduleRunner: () => new ScheduleRunner(t.store, { intervalSeconds: 0.1 }),
  };

  for (const [kind, create] of Object.entries(kinds)) {
    it(`${kind}: start() during a pending stop() starts again once the stop is done`, async function () {
      const runner = create();
      runner.start();
      const stopping = runner.stop();
      runner.start();
      await within(stopping, 20_000, 'the pending stop');
      await waitFor(() => runner.isRunning(), { timeoutMs: 5_000, message: `the ${kind} started again after its stop` });
      await within(runner.stop(), 20_000, 'the final stop');
      expect(runner.isRunning()).to.equal(false);
    });

    it(`${kind}: a second stop() waits for the same stop, and stop() of a stopped runner resolves`, async function () {
      const runner = create();
      runner.start();
      const first = runner.stop();
      expect(runner.stop()).to.equal(first);
      await within(first, 20_000, 'the stop');
      expect(runner.isRunning()).to.equal(false);
      await within(runner.stop(), 5_000, 'stopping a stopped runner');
    });
  }
});
