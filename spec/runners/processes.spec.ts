import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TaskQueueRunner, defineTask } from '../../lib/index.js';
import { TABLES, detailMessages, forEachDialect, uniqueAlias, waitFor, within } from '../support/index.js';
import { recordEvents, startHangingWorker, useFreshQueue } from '../support/runner-helpers.js';

const RUNNER_WORKER = fileURLToPath(new URL('../support/runner-worker.js', import.meta.url));

interface DrainReport {
  ids: string[];
  failures: string[];
  retries: string[];
  errors: string[];
}

function runDrainWorker(url: string, queue: string, alias: string): Promise<DrainReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [RUNNER_WORKER, url, queue, alias, 'drain', '1'],
      { timeout: 170_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`runner-worker failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim()) as DrainReport);
      },
    );
  });
}

forEachDialect('TaskQueueRunner across processes', (t) => {
  let queue: string;

  useFreshQueue((name) => {
    queue = name;
  });

  it('4 processes × 2 runners run each of 5,000 tasks exactly once', async function () {
    this.timeout(180_000);
    const TASKS = 5000;
    const alias = uniqueAlias('Multi');
    await t.store.taskHandlerAdd(defineTask({ alias, maxAttempts: 1, handle: () => true }), true);
    const enqueued = await t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: TASKS }, (_, n) => ({ n })),
    );
    expect(enqueued).to.have.length(TASKS);

    const reports = await Promise.all(Array.from({ length: 4 }, () => runDrainWorker(t.url, queue, alias)));

    const seen = reports.flatMap((report) => report.ids);
    const counts = new Map<string, number>();
    for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
    const twice = [...counts].filter(([, count]) => count > 1).map(([id]) => id);
    const errors = reports.flatMap((report) => report.errors);
    expect(twice, `ids run more than once (runner errors: ${JSON.stringify(errors)})`).to.deep.equal([]);
    const expected = enqueued.map((item) => item.id);
    expect(seen.length, `successes seen across processes (runner errors: ${JSON.stringify(errors)})`).to.equal(TASKS);
    expect([...seen].sort()).to.deep.equal([...expected].sort());
    expect(
      reports.flatMap((report) => [...report.failures, ...report.retries]),
      'failures and retries',
    ).to.deep.equal([]);

    const rows = (await t.store
      .knex(TABLES.queue)
      .where({ queue_name: queue })
      .select('status', 'attempts')
      .count({ count: '*' })
      .groupBy('status', 'attempts')) as { status: string; attempts: number | string; count: number | string }[];
    expect(rows.map((row) => ({ status: row.status, attempts: Number(row.attempts), count: Number(row.count) }))).to.deep.equal([
      { status: 'success', attempts: 1, count: TASKS },
    ]);
  });

  it('a task whose process was SIGKILLed mid-handler is reclaimed and runs again to success', async function () {
    this.timeout(90_000);
    const alias = uniqueAlias('Killed');
    const attempts: number[] = [];
    await t.store.taskHandlerAdd(defineTask({ alias, maxAttempts: 2, handle: (ctx) => void attempts.push(ctx.attempt) }), true);
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { maxAttempts: 2 });

    const { started, kill } = startHangingWorker(t.url, queue, alias);
    try {
      expect(await within(started, 30_000, 'the child starting its handler')).to.equal(item.id);
      expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'running', attempts: 1 });
    } finally {
      await kill();
    }

    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes: 0.02 });
    const events = recordEvents(runner);
    runner.start();
    await waitFor(() => events.succeeded.length === 1, { timeoutMs: 30_000, message: 'the reclaimed task ran again to success' });
    await runner.stop();

    expect(attempts).to.deep.equal([2]);
    const done = await t.store.taskQueueFindById(item.id);
    expect(done).to.include({ status: 'success', attempts: 2 });
    const messages = detailMessages(done!.details);
    expect(messages.filter((line) => line === 'Task started')).to.have.length(2);
    expect(messages.some((line) => line.startsWith('Task reclaimed'))).to.equal(true);
  });
});
