/**
 * taskstore/otel metrics on every dialect, read with the SDK's MeterProvider and a reader that
 * collects on demand: attempts counted by queue and status, their duration and wait as
 * histograms in seconds, and the queue depth gauge from one grouped read per collection.
 * Tasks run through a TaskQueueRunner here (the batched finish), and spans still link.
 */
import { expect } from 'chai';
import { defineTask, TaskQueueRunner, type TaskStore } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue, waitFor } from '../support/index.js';
import { createTelemetry, pointsOf, useAsyncContext, type Histogram, type Telemetry } from './telemetry.js';

forEachDialect('otel metrics', (t) => {
  useAsyncContext();
  let telemetry: Telemetry;
  let store: TaskStore;
  let queue: string;

  beforeEach(async function () {
    telemetry = createTelemetry();
    store = await t.openStore({ hooks: [telemetry.hooks] });
    queue = uniqueQueue();
  });

  afterEach(async function () {
    await telemetry.shutdown();
  });

  async function runAll(count: number): Promise<void> {
    const runner = new TaskQueueRunner(store, { queueName: queue, maxConcurrency: 2, intervalSeconds: 0.1 });
    let ended = 0;
    runner.on('task:success', () => (ended += 1));
    runner.on('task:failure', () => (ended += 1));
    runner.start();
    try {
      await waitFor(() => ended === count, { timeoutMs: 30_000, message: `${count} tasks ended` });
    } finally {
      await runner.stop();
    }
  }

  it('counts processed attempts by queue and status, with duration and wait histograms in seconds', async function () {
    const ok = uniqueAlias('Ok');
    const bad = uniqueAlias('Bad');
    await store.taskHandlerAdd(
      defineTask({ alias: ok, handle: () => new Promise((resolve) => setTimeout(() => resolve(true), 20)) }),
      true,
    );
    await store.taskHandlerAdd(
      defineTask({
        alias: bad,
        maxAttempts: 1,
        handle: () => {
          throw new Error('no');
        },
      }),
      true,
    );
    await store.taskDefinitionEnqueueManyByAlias(queue, ok, [{}, {}]);
    await store.taskDefinitionEnqueueByAlias(queue, bad, {});
    await runAll(3);

    const collected = await telemetry.collect();
    const processed = collected.get('taskstore.tasks.processed');
    expect(
      pointsOf(processed, { 'messaging.destination.name': queue }).map((point) => [point.attributes['taskstore.task.status'], point.value]),
    ).to.have.deep.members([
      ['success', 2],
      ['failed', 1],
    ]);

    const duration = collected.get('taskstore.task.duration');
    expect(duration?.descriptor.unit).to.equal('s');
    const successDuration = pointsOf<Histogram>(duration, { 'messaging.destination.name': queue, 'taskstore.task.status': 'success' });
    expect(successDuration.map((point) => point.value.count)).to.deep.equal([2]);
    // Each success took its handler's 20 ms at least, and not minutes: the unit is seconds.
    expect(successDuration[0]?.value.min).to.be.within(0.015, 30);
    expect(
      pointsOf<Histogram>(duration, { 'messaging.destination.name': queue, 'taskstore.task.status': 'failed' })[0]?.value.count,
    ).to.equal(1);

    const wait = collected.get('taskstore.task.wait');
    expect(wait?.descriptor.unit).to.equal('s');
    const waits = pointsOf<Histogram>(wait, { 'messaging.destination.name': queue });
    expect(waits.map((point) => point.value.count)).to.deep.equal([3]);
    expect(waits[0]?.value.min).to.be.at.least(0);
    expect(waits[0]?.value.max).to.be.below(30);

    // The runner's path traces as well: each attempt links to its send span.
    const sends = telemetry.spans().filter((span) => span.name === `send ${queue}`);
    const processes = telemetry.spans().filter((span) => span.name === `process ${queue}`);
    expect(processes).to.have.length(3);
    const sendIds = new Set(sends.map((span) => span.spanContext().spanId));
    expect(processes.every((span) => sendIds.has(span.links[0]?.context.spanId ?? ''))).to.equal(true);
  });

  it('reports the queue depth by queue and status with one grouped read per collection, and stops after close', async function () {
    const alias = uniqueAlias('Depth');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    await store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}]);
    await store.taskDefinitionEnqueueByAlias(queue, alias, {}, { delayMs: 60_000 });
    expect((await store.taskQueueProcessNext(queue))?.status).to.equal('success');
    const other = uniqueQueue();
    await store.taskDefinitionEnqueueByAlias(other, alias, {});

    let reads = 0;
    const read = store.taskQueueCountsByQueue.bind(store);
    store.taskQueueCountsByQueue = () => {
      reads += 1;
      return read();
    };
    const depth = (await telemetry.collect()).get('taskstore.queue.depth');
    expect(reads).to.equal(1);
    const byStatus = Object.fromEntries(
      pointsOf(depth, { 'messaging.destination.name': queue }).map((point) => [point.attributes['taskstore.task.status'], point.value]),
    );
    expect(byStatus).to.include({ queued: 3, success: 1, running: 0, failed: 0 });
    expect(
      pointsOf(depth, { 'messaging.destination.name': other, 'taskstore.task.status': 'queued' }).map((point) => point.value),
    ).to.deep.equal([1]);

    await telemetry.collect();
    expect(reads).to.equal(2);
    // A closed store is no longer read (the SDK's cumulative gauge may still repeat its last values).
    await store.close();
    await telemetry.collect();
    expect(reads).to.equal(2);
  });
});
