/**
 * The grouped reads for dashboards: counts by queue and by definition in one statement each,
 * and throughput and wait/run-time percentiles from the metrics that processing records and
 * flushes (additively, from any number of stores).
 */
import { expect } from 'chai';
import { TaskStoreError, defineTask, type TaskStore } from '../../lib/index.js';
import { HISTOGRAM_BOUNDS_MS } from '../../lib/queue/queue-metrics.js';
import { TABLES, expectError, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

const HOUR_MS = 3_600_000;

forEachDialect('reads for dashboards', (t) => {
  async function definition(store: TaskStore, handle: () => boolean = () => true, maxAttempts = 1) {
    const task = defineTask({ alias: uniqueAlias('Insight'), maxAttempts, backoff: { type: 'fixed', delayMs: 0 }, handle });
    await store.taskHandlerAdd(task, true);
    return task;
  }

  async function runAll(store: TaskStore, queue: string): Promise<void> {
    while (await store.taskQueueProcessNext(queue)) {
      // until none is due
    }
  }

  it('counts live tasks by queue and status, and by definition, in one read each', async () => {
    const [a, b] = [uniqueQueue('a'), uniqueQueue('b')];
    const ok = await definition(t.store);
    const bad = await definition(t.store, () => false);
    await t.store.enqueueMany(ok, [{}, {}, {}], { queueName: a });
    await t.store.enqueue(bad, {}, { queueName: a });
    const gone = await t.store.enqueue(ok, {}, { queueName: b });
    await t.store.enqueue(bad, {}, { queueName: b });
    await t.store.taskQueueSoftDeleteById(gone.id);
    await t.store.taskQueueProcessNext(a); // one success (claim order: the first 'ok')

    const byQueue = (await t.store.taskQueueCountsByQueue()).filter((row) => row.queueName === a || row.queueName === b);
    expect(byQueue.map((row) => [row.queueName, row.total, row.stats.queued, row.stats.success])).to.deep.equal([
      [a, 4, 3, 1],
      [b, 1, 1, 0],
    ]);
    expect(byQueue[0]?.stats).to.include({ running: 0, failed: 0, canceled: 0, paused: 0 });

    const okDefinition = await t.store.taskDefinitionFindByAlias(ok.alias);
    const badDefinition = await t.store.taskDefinitionFindByAlias(bad.alias);
    const byDefinition = await t.store.taskQueueCountsByDefinition();
    const find = (id: string | undefined) => byDefinition.find((row) => row.taskId === id);
    expect(find(okDefinition?.id)).to.deep.include({ total: 3 });
    expect(find(okDefinition?.id)?.stats).to.include({ queued: 2, success: 1 });
    expect(find(badDefinition?.id)).to.deep.include({ total: 2 });
    const inB = await t.store.taskQueueCountsByDefinition({ queueName: b });
    expect(inB.map((row) => [row.taskId, row.total])).to.deep.equal([[badDefinition?.id, 1]]);
    await expectError(() => t.store.taskQueueCountsByDefinition({ queue: b } as never), 'INVALID_ARGUMENT');
  });

  it('records how attempts ended and how long they waited and ran, and reads them per minute and per queue', async () => {
    const queue = uniqueQueue();
    let calls = 0;
    const flaky = await definition(t.store, () => ++calls % 2 === 0, 2); // fails, then succeeds
    const broken = await definition(t.store, () => false);
    const fine = await definition(t.store);
    await t.store.enqueue(flaky, {}, { queueName: queue });
    await t.store.enqueue(broken, {}, { queueName: queue });
    await t.store.enqueueMany(fine, [{}, {}], { queueName: queue });
    const before = new Date();
    await runAll(t.store, queue);
    await t.store.taskQueueMetricsFlush();

    const since = new Date(before.getTime() - HOUR_MS);
    const throughput = await t.store.taskQueueThroughput({ since, queueName: queue });
    expect(throughput.totals).to.deep.equal({ success: 3, failed: 1, canceled: 0, retried: 1 });
    expect(throughput.bucketMs).to.equal(60_000);
    expect(throughput.buckets.length).to.be.within(60, 62);
    const busy = throughput.buckets.filter((bucket) => bucket.success + bucket.failed + bucket.retried > 0);
    expect(busy.length, 'all in this minute or the next').to.be.within(1, 2);
    expect(busy[0]!.start.getTime()).to.be.at.most(Date.now());

    const [timings, ...others] = await t.store.taskQueueTimings({ since, queueName: queue });
    expect(others).to.deep.equal([]);
    expect(timings).to.deep.include({ queueName: queue, count: 5 });
    for (const percentiles of [timings!.waitMs, timings!.runMs]) {
      for (const value of Object.values(percentiles)) expect(HISTOGRAM_BOUNDS_MS).to.include(value);
    }
    expect(timings!.runMs.p50, 'no-op handlers end within a second').to.be.at.most(1000);

    // A second flush adds nothing new; hourly buckets hold the same totals.
    await t.store.taskQueueMetricsFlush();
    const hourly = await t.store.taskQueueThroughput({ since, bucketMs: HOUR_MS, queueName: queue });
    expect(hourly.totals).to.deep.equal(throughput.totals);
    expect(await t.store.taskQueueTimings({ since: new Date(since.getTime() - HOUR_MS), until: since })).to.deep.equal([]);
  });

  it('adds up what several stores flush into the same minute and queue', async () => {
    const queue = uniqueQueue();
    const other = await t.openStore();
    const task = await definition(t.store);
    await other.taskHandlerAdd(task);
    await t.store.enqueueMany(task, [{}, {}, {}, {}], { queueName: queue });
    await t.store.taskQueueProcessNext(queue);
    await other.taskQueueProcessNext(queue);
    await t.store.taskQueueProcessNext(queue);
    await other.taskQueueProcessNext(queue);
    await Promise.all([t.store.taskQueueMetricsFlush(), other.taskQueueMetricsFlush()]);
    const { totals } = await t.store.taskQueueThroughput({ since: new Date(Date.now() - HOUR_MS), queueName: queue });
    expect(totals.success).to.equal(4);
  });

  it('keeps the counts it could not write and writes them once the table is back', async () => {
    const queue = uniqueQueue();
    const warnings: string[] = [];
    const store = await t.openStore({ logger: { debug() {}, info() {}, warn: (message: string) => warnings.push(message), error() {} } });
    const task = await definition(store);
    await store.enqueueMany(task, [{}, {}], { queueName: queue });
    await runAll(store, queue);
    await store.knex.schema.dropTable(TABLES.metrics);
    await store.taskQueueMetricsFlush();
    expect(warnings.join('\n')).to.match(/recording task metrics failed/);
    await store.migrateUp();
    await store.taskQueueMetricsFlush();
    const { totals } = await store.taskQueueThroughput({ since: new Date(Date.now() - HOUR_MS), queueName: queue });
    expect(totals.success).to.equal(2);
  });

  it('records nothing with metricsIntervalMs 0', async () => {
    const queue = uniqueQueue();
    const store = await t.openStore({ metricsIntervalMs: 0 });
    const task = await definition(store);
    await store.enqueue(task, {}, { queueName: queue });
    await runAll(store, queue);
    await store.taskQueueMetricsFlush();
    expect(await store.knex(TABLES.metrics).where({ queue_name: queue }).count({ n: '*' })).to.satisfy(
      (rows: { n: unknown }[]) => Number(rows[0]?.n) === 0,
    );
  });

  it('refuses a bad period, bucket or key', async () => {
    const since = new Date(Date.now() - HOUR_MS);
    for (const query of [
      { since, bucketMs: 90_000 },
      { since, bucketMs: 0 },
      { since: new Date(), until: since },
      { since: new Date(Date.now() - 2 * 24 * HOUR_MS) },
      { since, queue: 'x' },
      { since: 'yesterday' },
    ]) {
      const error = await expectError(() => t.store.taskQueueThroughput(query as never), 'INVALID_ARGUMENT');
      expect(error).to.be.instanceOf(TaskStoreError);
    }
    await expectError(() => t.store.taskQueueTimings({ since: new Date(), until: since }), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskQueueTimings({ since, bucketMs: 60_000 } as never), 'INVALID_ARGUMENT');
  });
});
