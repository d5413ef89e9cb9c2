/**
 * Flow control across OS processes (docs/flow-control.md): three processes, each with a runner
 * of 10 slots, on one limited queue. Every handler records its start and end on the one
 * machine's clock; the overlaps never exceed the queue's or a group's concurrency limit, the
 * starts recorded by the claims never exceed the rate limits in any window, and every task
 * runs exactly once. A crashed worker's slot comes back with its task's reclaim.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import { TABLES, forEachDialect, uniqueAlias, waitFor, within } from '../support/index.js';
import { recordEvents, startHangingWorker, useFreshQueue } from '../support/runner-helpers.js';

const LIMITS_WORKER = fileURLToPath(new URL('../support/limits-worker.js', import.meta.url));

interface Run {
  id: string;
  group: string | null;
  start: number;
  end: number;
}

function runWorker(url: string, queue: string, alias: string, handlerMs: number): Promise<{ runs: Run[]; errors: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [LIMITS_WORKER, url, queue, alias, String(handlerMs)], { timeout: 110_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`limits-worker failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim()) as { runs: Run[]; errors: string[] });
    });
  });
}

/** The most runs that overlap at any moment (an end at the same instant as a start does not overlap). */
function maxOverlap(runs: readonly Run[]): number {
  const edges = runs.flatMap((run) => [
    { at: run.start, step: 1 },
    { at: run.end, step: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let max = 0;
  for (const edge of edges) max = Math.max(max, (now += edge.step));
  return max;
}

/** The fewest milliseconds between a start and the `count`-th start after it: at least the period when at most `count` fall in any window. */
function tightestWindow(starts: readonly number[], count: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let tightest = Infinity;
  for (let i = 0; i + count < sorted.length; i++) tightest = Math.min(tightest, sorted[i + count]! - sorted[i]!);
  return tightest;
}

forEachDialect('flow control across processes', (t) => {
  let queue: string;
  let alias: string;

  useFreshQueue((name) => {
    queue = name;
  });

  beforeEach(async function () {
    alias = uniqueAlias('Flow');
    await t.store.taskDefinitionCreate({ alias });
  });

  const enqueue = (count: number, group?: string) =>
    t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: count }, (_, n) => ({ n })),
      group === undefined ? {} : { group },
    );

  async function runThreeWorkers(handlerMs: number): Promise<Run[]> {
    const reports = await Promise.all([1, 2, 3].map(() => runWorker(t.url, queue, alias, handlerMs)));
    expect(reports.flatMap((report) => report.errors)).to.deep.equal([]);
    return reports.flatMap((report) => report.runs);
  }

  function expectExactlyOnce(runs: readonly Run[], ids: readonly string[]): void {
    expect(runs.map((run) => run.id).sort()).to.deep.equal([...ids].sort());
  }

  it('3 processes × 10 slots never run more than the queue limit (4) or a group limit (1) at once', async function () {
    this.timeout(120_000);
    await t.store.queueConfigure(queue, { concurrency: 4, groupConcurrency: 1 });
    const items = [...(await enqueue(10, 'g1')), ...(await enqueue(10, 'g2')), ...(await enqueue(40))];
    const runs = await runThreeWorkers(25);
    expectExactlyOnce(
      runs,
      items.map((item) => item.id),
    );
    expect(maxOverlap(runs), 'tasks running at once').to.be.at.most(4);
    for (const group of ['g1', 'g2']) {
      expect(maxOverlap(runs.filter((run) => run.group === group)), `tasks of ${group} running at once`).to.equal(1);
    }
  });

  it('3 processes × 10 slots never run more than a queue limit alone (3) at once', async function () {
    this.timeout(120_000);
    await t.store.queueConfigure(queue, { concurrency: 3 });
    const items = await enqueue(45);
    const runs = await runThreeWorkers(15);
    expectExactlyOnce(
      runs,
      items.map((item) => item.id),
    );
    expect(maxOverlap(runs), 'tasks running at once').to.be.at.most(3);
    // Some overlap there was: the limit was used, not only respected by running one at a time.
    expect(maxOverlap(runs), 'tasks running at once').to.be.at.least(2);
  });

  it('a runner with prefetch claims no more than the queue limit leaves it, counting its unfinished tasks: no claim finds the limit full', async function () {
    this.timeout(60_000);
    await t.store.queueConfigure(queue, { concurrency: 5 });
    await t.store.taskHandlerAdd(defineTask({ alias, handle: () => {} }), true);
    await enqueue(60);
    const claims: { items: number; full: boolean }[] = [];
    const claim = t.store.queueClaim.bind(t.store);
    t.store.queueClaim = async (...args: Parameters<typeof claim>) => {
      const result = await claim(...args);
      claims.push({ items: result.items.length, full: result.full });
      return result;
    };
    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 5, prefetch: 20, intervalSeconds: 5 });
    const events = recordEvents(runner);
    try {
      runner.start();
      await waitFor(() => events.succeeded.length === 60, { timeoutMs: 45_000, message: 'all 60 tasks done' });
    } finally {
      await runner.stop();
      delete (t.store as { queueClaim?: unknown }).queueClaim;
    }
    expect(events.errors).to.deep.equal([]);
    expect(
      claims.filter((entry) => entry.items === 0 && entry.full),
      'claims that found the limit full',
    ).to.deep.equal([]);
    expect(claims.reduce((sum, entry) => sum + entry.items, 0)).to.equal(60);
  });

  it('3 processes never start more than the rate limit allows in any window', async function () {
    this.timeout(120_000);
    await t.store.queueConfigure(queue, { rateLimit: { count: 4, periodMs: 400 } });
    const items = await enqueue(16);
    const runs = await runThreeWorkers(5);
    expectExactlyOnce(
      runs,
      items.map((item) => item.id),
    );
    const rows = (await t.store.knex(TABLES.queue).where({ queue_name: queue }).select('started_at')) as { started_at: unknown }[];
    const starts = rows.map((row) => new Date(row.started_at as Date | number).getTime());
    // Recorded by each claim on the database's clock, after the queue's lock: 1 ms for rounding.
    expect(tightestWindow(starts, 4)).to.be.at.least(399);
  });

  it('3 processes never start more than a group rate limit allows in any window', async function () {
    this.timeout(120_000);
    await t.store.queueConfigure(queue, { groupRateLimit: { count: 2, periodMs: 300 } });
    const items = [...(await enqueue(6, 'a')), ...(await enqueue(6, 'b'))];
    const runs = await runThreeWorkers(5);
    expectExactlyOnce(
      runs,
      items.map((item) => item.id),
    );
    for (const group of ['a', 'b']) {
      const rows = (await t.store.knex(TABLES.queue).where({ queue_name: queue, group_key: group }).select('started_at')) as {
        started_at: unknown;
      }[];
      expect(
        tightestWindow(
          rows.map((row) => new Date(row.started_at as Date | number).getTime()),
          2,
        ),
        group,
      ).to.be.at.least(299);
    }
  });

  it("a crashed worker's slot comes back with its task's reclaim: the limited queue still completes", async function () {
    this.timeout(90_000);
    const hangAlias = uniqueAlias('Hang');
    await t.store.queueConfigure(queue, { concurrency: 1 });
    const done: string[] = [];
    await t.store.taskHandlerAdd(defineTask({ alias: hangAlias, maxAttempts: 2, handle: (ctx) => void done.push(ctx.task!.id) }), true);
    const items = await t.store.taskDefinitionEnqueueManyByAlias(queue, hangAlias, [{}, {}, {}], { maxAttempts: 2 });

    const { started, kill } = startHangingWorker(t.url, queue, hangAlias);
    try {
      await within(started, 30_000, 'the child starting its handler');
      // The hung task holds the only slot: no claim gets anything.
      expect(await t.store.taskQueueClaim(queue, 5)).to.deep.equal([]);
    } finally {
      await kill();
    }

    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes: 0.01, maxConcurrency: 5 });
    const events = recordEvents(runner);
    runner.start();
    await waitFor(() => events.succeeded.length === 3, { timeoutMs: 30_000, message: 'all three tasks done after the reclaim' });
    await runner.stop();
    expect([...done].sort()).to.deep.equal(items.map((item) => item.id).sort());
    expect(events.errors).to.deep.equal([]);
  });
});
