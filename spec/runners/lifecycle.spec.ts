import { expect } from 'chai';
import { TaskQueueRunner } from '../../lib/index.js';
import { backdateRunning, deferred, detailMessages, forEachDialect, uniqueQueue, waitFor, within } from '../support/index.js';
import { handlerRegistrar, recordEvents, sleep, useFreshQueue } from '../support/runner-helpers.js';

forEachDialect('TaskQueueRunner lifecycle', (t) => {
  let queue: string;

  useFreshQueue((name) => {
    queue = name;
  });

  const register = handlerRegistrar(t, 'Life');

  async function statuses(ids: string[]): Promise<{ status: string; attempts: number }[]> {
    const rows = await Promise.all(ids.map((id) => t.store.taskQueueFindById(id)));
    return rows.map((row) => ({ status: row!.status, attempts: row!.attempts }));
  }

  describe('start and stop', function () {
    it('is running from start() until stop() resolves; a second start() is a no-op', async function () {
      const ran: string[] = [];
      const alias = await register({ handle: (ctx) => void ran.push(ctx.task!.id) });
      const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, maxConcurrency: 2 });
      expect(runner.isRunning()).to.equal(false);
      runner.start();
      runner.start();
      expect(runner.isRunning()).to.equal(true);
      const items = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}]);
      await waitFor(async () => (await t.store.taskQueueCount({ queueName: queue, status: 'success' })) === 3, {
        timeoutMs: 20_000,
        message: 'three tasks succeeded',
      });
      await runner.stop();
      expect(runner.isRunning()).to.equal(false);
      expect(ran.sort()).to.deep.equal(items.map((item) => item.id).sort());
      await runner.stop(); // stopping a stopped runner resolves
      expect(runner.isRunning()).to.equal(false);
    });

    it('graceful stop waits for a held handler, claims nothing more, then resolves with the task succeeded', async function () {
      const release = deferred();
      const started = deferred<string>();
      const ran: string[] = [];
      const alias = await register({
        async handle(ctx) {
          ran.push(ctx.task!.id);
          started.resolve(ctx.task!.id);
          await release.promise;
        },
      });
      const held = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, maxConcurrency: 4 });
      const events = recordEvents(runner);
      runner.start();
      try {
        expect(await within(started.promise, 20_000, 'the handler starting')).to.equal(held.id);

        let stopped = false;
        const stopping = runner.stop().then(() => {
          stopped = true;
        });
        // enqueued through the same store after stop() was called: nothing may wake the runner now
        const later = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}]);
        // a stop() that did not wait would resolve within a few ticks, and a runner still
        // listening would claim within one round trip of that enqueue
        await sleep(50);
        expect(stopped, 'stop() resolved while a handler was still held').to.equal(false);
        expect(runner.isRunning(), 'isRunning() while stopping').to.equal(true);
        expect(await statuses(later.map((item) => item.id))).to.deep.equal(later.map(() => ({ status: 'queued', attempts: 0 })));

        release.resolve();
        await within(stopping, 20_000, 'stop() after the held handler finished');
        expect(runner.isRunning()).to.equal(false);
        expect(await t.store.taskQueueFindById(held.id)).to.include({ status: 'success', attempts: 1 });
        expect(events.succeeded.map((item) => item.id)).to.deep.equal([held.id]);
        expect(await statuses(later.map((item) => item.id)), 'nothing was claimed after stop()').to.deep.equal(
          later.map(() => ({ status: 'queued', attempts: 0 })),
        );
        expect(ran).to.deep.equal([held.id]);
      } finally {
        release.resolve();
      }
    });

    it('stop({ graceMs }) aborts ctx.signal; the aborted tasks fail or retry by their attempts left', async function () {
      const signals: AbortSignal[] = [];
      const alias = await register({
        backoff: { type: 'fixed', delayMs: 60_000 },
        handle(ctx) {
          signals.push(ctx.signal);
          return new Promise<boolean>((_, reject) => {
            ctx.signal.addEventListener('abort', () => reject(new Error(`aborted: ${String(ctx.signal.reason)}`)), { once: true });
          });
        },
      });
      const lastAttempt = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { kind: 'last' }, { maxAttempts: 1, priority: 2 });
      const moreLeft = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { kind: 'more' }, { maxAttempts: 3, priority: 1 });
      const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, maxConcurrency: 2 });
      const events = recordEvents(runner);
      runner.start();
      await waitFor(() => signals.length === 2, { timeoutMs: 20_000, message: 'both handlers waiting on their signal' });
      expect(signals.map((signal) => signal.aborted)).to.deep.equal([false, false]);

      await within(runner.stop({ graceMs: 50 }), 20_000, 'stop({ graceMs: 50 })');
      expect(runner.isRunning()).to.equal(false);
      expect(signals.map((signal) => signal.aborted)).to.deep.equal([true, true]);

      const failed = await t.store.taskQueueFindById(lastAttempt.id);
      expect(failed).to.include({ status: 'failed', attempts: 1, claimToken: null });
      expect(failed!.details).to.include('aborted');
      const retried = await t.store.taskQueueFindById(moreLeft.id);
      expect(retried).to.include({ status: 'queued', attempts: 1, claimToken: null });
      expect(retried!.availableAt.getTime()).to.be.above(Date.now());
      expect(events.failed.map((entry) => entry.item.id)).to.deep.equal([lastAttempt.id]);
      expect(events.retried.map((entry) => entry.item.id)).to.deep.equal([moreLeft.id]);
      expect(events.failed[0]!.error.message).to.include('aborted');
    });

    it('stop gives prefetched, unstarted items back to the queue with their attempt restored', async function () {
      const release = deferred();
      const ran: string[] = [];
      const alias = await register({
        async handle(ctx) {
          ran.push(ctx.task!.id);
          await release.promise;
        },
      });
      const items = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
      const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, maxConcurrency: 1, prefetch: 3 });
      runner.start();
      try {
        await waitFor(async () => ran.length === 1 && (await t.store.taskQueueCount({ queueName: queue, status: 'running' })) === 4, {
          timeoutMs: 20_000,
          message: 'one handler running and three items claimed ahead',
        });
        const stopping = runner.stop();
        await waitFor(async () => (await t.store.taskQueueCount({ queueName: queue, status: 'queued' })) === 3, {
          timeoutMs: 20_000,
          message: 'the prefetched items given back while the handler is still held',
        });
        release.resolve();
        await within(stopping, 20_000, 'stop');
      } finally {
        release.resolve();
      }
      expect(ran).to.deep.equal([items[0]!.id]);
      expect(await statuses(items.map((item) => item.id))).to.deep.equal([
        { status: 'success', attempts: 1 },
        { status: 'queued', attempts: 0 },
        { status: 'queued', attempts: 0 },
        { status: 'queued', attempts: 0 },
      ]);
    });

    it('stop then start resumes: tasks enqueued while stopped run after the restart', async function () {
      const ran: string[] = [];
      const alias = await register({ handle: (ctx) => void ran.push(ctx.task!.id) });
      const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.02 });
      runner.start();
      const first = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      await waitFor(() => ran.length === 1, { timeoutMs: 20_000, message: 'the first task ran' });
      await runner.stop();
      expect(runner.isRunning()).to.equal(false);

      const whileStopped = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}]);
      await sleep(60); // three of its poll intervals: a runner still polling would have claimed them
      expect(await statuses(whileStopped.map((item) => item.id))).to.deep.equal(
        whileStopped.map(() => ({ status: 'queued', attempts: 0 })),
      );

      runner.start();
      expect(runner.isRunning()).to.equal(true);
      await waitFor(async () => (await t.store.taskQueueCount({ queueName: queue, status: 'success' })) === 4, {
        timeoutMs: 20_000,
        message: 'the tasks enqueued while stopped succeeded after the restart',
      });
      await runner.stop();
      expect(ran.sort()).to.deep.equal([first, ...whileStopped].map((item) => item.id).sort());
    });

    it('a handler that first reads ctx.signal after the grace period finds it aborted', async function () {
      // Two handlers: 'clock' reads its signal at once, and its abort marks the end of the
      // grace period; 'late' waits for that, then reads ctx.signal for the first time.
      const started = { clock: deferred(), late: deferred() };
      const graceOver = deferred();
      const late = deferred<boolean>();
      const alias = await register({
        async handle(ctx) {
          if (ctx.getParam('role') === 'clock') {
            ctx.signal.addEventListener('abort', () => graceOver.resolve(), { once: true });
            started.clock.resolve();
          } else {
            started.late.resolve();
          }
          await graceOver.promise;
          if (ctx.getParam('role') === 'late') late.resolve(ctx.signal.aborted);
          return true;
        },
      });
      const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, maxConcurrency: 2 });
      runner.start();
      await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ role: 'clock' }, { role: 'late' }]);
      await within(Promise.all([started.clock.promise, started.late.promise]), 20_000, 'both handlers started');
      await within(runner.stop({ graceMs: 20 }), 20_000, 'stop({ graceMs: 20 })');
      expect(await late.promise).to.equal(true);
    });

    it('after stop({ graceMs: 0 }) aborted a handler, a restart hands out a fresh ctx.signal', async function () {
      const signals: AbortSignal[] = [];
      const alias = await register({
        handle(ctx) {
          signals.push(ctx.signal);
          return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        },
      });
      const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1 });
      runner.start();
      await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      await waitFor(() => signals.length === 1, { timeoutMs: 20_000, message: 'the first handler started' });
      await within(runner.stop({ graceMs: 0 }), 20_000, 'stop({ graceMs: 0 })');
      expect(signals[0]!.aborted).to.equal(true);

      runner.start();
      await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      await waitFor(() => signals.length === 2, { timeoutMs: 20_000, message: 'a handler started after the restart' });
      expect(signals[1]!.aborted, 'the restarted runner hands out a fresh signal').to.equal(false);
      await within(runner.stop({ graceMs: 0 }), 20_000, 'second stop');
    });
  });

  describe('runOnce', function () {
    it('drains what is due without start() and resolves after the handlers finished', async function () {
      let inFlight = 0;
      const finished: string[] = [];
      const alias = await register({
        async handle(ctx) {
          inFlight += 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
          inFlight -= 1;
          finished.push(ctx.task!.id);
        },
      });
      const due = await t.store.taskDefinitionEnqueueManyByAlias(
        queue,
        alias,
        Array.from({ length: 12 }, (_, n) => ({ n })),
      );
      const notYet = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { delayMs: 60_000 });
      const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 3 });
      const events = recordEvents(runner);

      await within(runner.runOnce(), 30_000, 'runOnce');
      expect(runner.isRunning()).to.equal(false);
      expect(inFlight, 'no handler still running').to.equal(0);
      expect(finished.sort()).to.deep.equal(due.map((item) => item.id).sort());
      expect(await statuses(due.map((item) => item.id)), 'final writes are done when runOnce resolves').to.deep.equal(
        due.map(() => ({ status: 'success', attempts: 1 })),
      );
      expect(events.succeeded).to.have.length(12);
      expect(await t.store.taskQueueFindById(notYet.id)).to.include({ status: 'queued', attempts: 0 });
    });

    it('resolves at once on an empty queue', async function () {
      const runner = new TaskQueueRunner(t.store, { queueName: queue });
      await within(runner.runOnce(), 20_000, 'runOnce on an empty queue');
      expect(runner.isRunning()).to.equal(false);
      expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(0);
    });

    it('sweeps stuck items back first and runs them again', async function () {
      const attempts: number[] = [];
      const alias = await register({ maxAttempts: 2, handle: (ctx) => void attempts.push(ctx.attempt) });
      await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      const stuck = (await t.store.taskQueueClaimNext(queue))!;
      await backdateRunning(t.store, stuck.id, 10 * 60_000);
      const runner = new TaskQueueRunner(t.store, { queueName: queue, unstuckMinutes: 5 });
      await within(runner.runOnce(), 20_000, 'runOnce');
      expect(attempts).to.deep.equal([2]);
      const done = await t.store.taskQueueFindById(stuck.id);
      expect(done).to.include({ status: 'success', attempts: 2 });
      expect(detailMessages(done!.details)).to.include('Task reclaimed: no heartbeat for 5 minutes');
    });
  });

  describe('queues and wake-ups', function () {
    it("a runner for queue 'a' never touches queue 'b'", async function () {
      const a = uniqueQueue('a');
      const b = uniqueQueue('b');
      const ran: string[] = [];
      const alias = await register({ handle: (ctx) => void ran.push(ctx.task!.queueName) });
      await t.store.taskDefinitionEnqueueByAlias(b, alias, {});
      const staleInB = (await t.store.taskQueueClaimNext(b))!;
      await backdateRunning(t.store, staleInB.id, 10 * 60_000);
      const inA = await t.store.taskDefinitionEnqueueManyByAlias(a, alias, [{}, {}, {}]);
      const inB = await t.store.taskDefinitionEnqueueManyByAlias(b, alias, [{}, {}, {}]);

      const runner = new TaskQueueRunner(t.store, { queueName: a, intervalSeconds: 0.1, unstuckMinutes: 1, maxConcurrency: 3 });
      runner.start();
      await waitFor(async () => (await t.store.taskQueueCount({ queueName: a, status: 'success' })) === 3, {
        timeoutMs: 20_000,
        message: "queue 'a' drained",
      });
      await t.store.taskDefinitionEnqueueByAlias(b, alias, {}); // an enqueue to 'b' through the same store
      await runner.runOnce(); // a forced sweep, scoped to 'a'
      await runner.stop();

      expect(ran).to.deep.equal([a, a, a]);
      expect(await statuses(inA.map((item) => item.id))).to.deep.equal(inA.map(() => ({ status: 'success', attempts: 1 })));
      const queuedInB = await t.store.taskQueueList({ queueName: b, status: 'queued' });
      expect(queuedInB).to.have.length(4);
      expect(queuedInB.every((item) => item.attempts === 0)).to.equal(true);
      expect(queuedInB.map((item) => item.id)).to.include.members(inB.map((item) => item.id));
      expect(await t.store.taskQueueFindById(staleInB.id), "another queue's stale item is left to its own runners").to.include({
        status: 'running',
        attempts: 1,
      });
    });

    it('an enqueue through the same store wakes an idle runner long before its 60 s poll', async function () {
      const ran: string[] = [];
      const alias = await register({ handle: (ctx) => void ran.push(ctx.task!.id) });
      const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 60 });
      const events = recordEvents(runner);
      runner.start();
      const first = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      await waitFor(() => ran.length === 1, { timeoutMs: 10_000, message: 'the first task ran' });
      await sleep(300); // let the runner go idle on its 60 s wait

      const second = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
      await waitFor(() => ran.length === 2, { timeoutMs: 10_000, message: 'the enqueue woke the runner (its poll is 60 s away)' });
      const [third] = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}]);
      await waitFor(() => ran.length === 3, { timeoutMs: 10_000, message: 'an enqueueMany woke the runner' });
      await runner.stop();
      expect(ran).to.deep.equal([first.id, second.id, third!.id]);
      expect(events.errors).to.deep.equal([]);
    });
  });
});
