import { expect } from 'chai';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import type { TaskHandler, TaskStore } from '../../lib/index.js';
import { deferred, detailMessages, forEachDialect, uniqueAlias, waitFor, within } from '../support/index.js';
import { recordEvents, useFreshQueue } from '../support/runner-helpers.js';

/** 0.03 minutes = a 1.8 s unstuck window; runners heartbeat four times per window. */
const UNSTUCK_MINUTES = 0.03;
const WINDOW_MS = UNSTUCK_MINUTES * 60_000;

forEachDialect('TaskQueueRunner heartbeats', (t) => {
  let queue: string;

  useFreshQueue((name) => {
    queue = name;
  });

  /**
   * A handler that signals its start and holds until released; `runs` counts every run on any
   * store. A second store gets the same handler, so a reclaim there would run it again.
   */
  function longHandler() {
    const started = deferred();
    const release = deferred();
    const runs: { attempt: number }[] = [];
    const handler: TaskHandler = defineTask({
      alias: uniqueAlias('Long'),
      maxAttempts: 3,
      async handle(ctx) {
        runs.push({ attempt: ctx.attempt });
        started.resolve();
        await release.promise;
      },
    });
    return { handler, started, release, runs };
  }

  async function watchingRunner(store: TaskStore) {
    // a second worker on the same queue, sweeping every 0.1 s with the same short window;
    // the start of every sweep it finishes is noted
    const sweeps: number[] = [];
    const unstuck = store.taskQueueUnstuck.bind(store);
    store.taskQueueUnstuck = async (...args: Parameters<TaskStore['taskQueueUnstuck']>) => {
      const began = Date.now();
      const count = await unstuck(...args);
      sweeps.push(began);
      return count;
    };
    const watcher = new TaskQueueRunner(store, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes: UNSTUCK_MINUTES });
    const events = recordEvents(watcher);
    watcher.start();
    return { watcher, events, sweeps };
  }

  /**
   * Waits until the claim of `id` would be stale without its heartbeats, and the second runner
   * has looked: the heartbeat has moved more than a whole unstuck window past the start (it
   * kept beating that long), then a sweep began and finished. That sweep reclaims an item
   * nobody heartbeats.
   */
  async function pastTheWindow(id: string, sweeps: number[]): Promise<void> {
    const beaten = await waitFor(
      async () => {
        const row = await t.store.taskQueueFindById(id);
        const beat = row?.heartbeatAt?.getTime();
        return beat !== undefined && beat - row!.startedAt!.getTime() > WINDOW_MS ? Date.now() : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: 'the heartbeat more than a whole unstuck window past the start' },
    );
    await waitFor(() => sweeps.some((began) => began >= beaten), { timeoutMs: 10_000, message: 'a sweep of the second runner after that' });
  }

  it('keeps a long handler claimed past the unstuck window: not reclaimed, runs once, succeeds', async function () {
    this.timeout(60_000);
    const { handler, started, release, runs } = longHandler();
    await t.store.taskHandlerAdd(handler, true);
    const other = await t.openStore();
    await other.taskHandlerAdd(handler);
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, handler.alias, {});

    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes: UNSTUCK_MINUTES });
    const events = recordEvents(runner);
    runner.start();
    try {
      await within(started.promise, 20_000, 'the long handler starting');
      const { watcher, events: watched, sweeps } = await watchingRunner(other);
      await pastTheWindow(item.id, sweeps);
      const midway = await t.store.taskQueueFindById(item.id);
      expect(midway).to.include({ status: 'running', attempts: 1, claimToken: events.started[0]!.claimToken });
      expect(midway!.heartbeatAt!.getTime(), 'the heartbeat moved on').to.be.above(midway!.startedAt!.getTime());
      release.resolve();
      await waitFor(() => events.succeeded.length === 1, { timeoutMs: 20_000, message: 'the long task succeeded' });
      await watcher.stop();
      expect(watched.started, 'the second runner never ran it').to.deep.equal([]);
    } finally {
      release.resolve();
    }
    await runner.stop();
    expect(runs).to.deep.equal([{ attempt: 1 }]);
    const done = await t.store.taskQueueFindById(item.id);
    expect(done).to.include({ status: 'success', attempts: 1 });
    expect(detailMessages(done!.details).some((line) => line.startsWith('Task reclaimed'))).to.equal(false);
  });

  it('keeps heartbeating while a stop waits for the handler', async function () {
    this.timeout(60_000);
    const { handler, started, release, runs } = longHandler();
    await t.store.taskHandlerAdd(handler, true);
    const other = await t.openStore();
    await other.taskHandlerAdd(handler);
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, handler.alias, {});

    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes: UNSTUCK_MINUTES });
    runner.start();
    try {
      await within(started.promise, 20_000, 'the long handler starting');
      const stopping = runner.stop();
      const { watcher, events: watched, sweeps } = await watchingRunner(other);
      await pastTheWindow(item.id, sweeps);
      expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'running', attempts: 1 });
      release.resolve();
      await within(stopping, 20_000, 'stop after release');
      await watcher.stop();
      expect(watched.started).to.deep.equal([]);
    } finally {
      release.resolve();
    }
    expect(runs).to.deep.equal([{ attempt: 1 }]);
    expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'success', attempts: 1 });
  });

  it('keeps heartbeating the handlers of runOnce() on a runner that was never started', async function () {
    this.timeout(60_000);
    const { handler, started, release, runs } = longHandler();
    await t.store.taskHandlerAdd(handler, true);
    const other = await t.openStore();
    await other.taskHandlerAdd(handler);
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, handler.alias, {});

    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes: UNSTUCK_MINUTES });
    const once = runner.runOnce();
    try {
      await within(started.promise, 20_000, 'the long handler starting');
      const { watcher, events: watched, sweeps } = await watchingRunner(other);
      await pastTheWindow(item.id, sweeps);
      const midway = await t.store.taskQueueFindById(item.id);
      const takenOver = watched.started.map((taken) => taken.attempts);
      release.resolve();
      await watcher.stop();
      expect(takenOver, 'attempts the second runner reclaimed and ran').to.deep.equal([]);
      expect(midway).to.include({ status: 'running', attempts: 1 });
    } finally {
      release.resolve();
      await within(once, 20_000, 'runOnce after release');
    }
    expect(runs).to.deep.equal([{ attempt: 1 }]);
    expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'success', attempts: 1 });
  });
});
