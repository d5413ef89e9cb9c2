/**
 * Fan-in across processes, on every dialect: 200 parent steps finished by 4 runners in 2 OS
 * processes release their one child exactly once, in the transaction of the last parent's
 * finishing write. The child's handler writes a ledger row per run.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { defineTask } from '../../lib/index.js';
import { TABLES, detailMessages, forEachDialect, uniqueAlias, uniqueQueue, uniqueTable, within } from '../support/index.js';

const FLOW_WORKER = fileURLToPath(new URL('../support/flow-worker.js', import.meta.url));

interface Worker {
  kill(): void;
  ready: Promise<void>;
  report: Promise<{ parents: number; errors: string[] }>;
}

function startWorker(args: string[]): Worker {
  const child = spawn(process.execPath, [FLOW_WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const report = new Promise<{ parents: number; errors: string[] }>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`flow-worker exited ${code}\n${stderr}`));
      else resolve(JSON.parse(stdout.split('\n')[1]!) as { parents: number; errors: string[] });
    });
  });
  report.catch(() => {});
  return { kill: () => child.kill('SIGKILL'), ready: Promise.race([ready, report.then(() => undefined)]), report };
}

forEachDialect('flows: fan-in across processes', (t) => {
  let ledger: string;

  beforeEach(async function () {
    ledger = uniqueTable('ledger');
    await t.store.knex.schema.createTable(ledger, (table: Knex.CreateTableBuilder) => {
      table.string('task_id', 36).notNullable();
      table.integer('parents').notNullable();
      table.integer('succeeded').notNullable();
    });
  });

  afterEach(async function () {
    await t.store.knex.schema.dropTableIfExists(ledger);
  });

  it('200 parents finished by 4 runners in 2 processes release the child exactly once', async function () {
    this.timeout(120_000);
    const PARENTS = 200;
    const queue = uniqueQueue();
    const parentAlias = uniqueAlias('Parent');
    const childAlias = uniqueAlias('Child');
    for (const alias of [parentAlias, childAlias]) await t.store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);

    const keys = Array.from({ length: PARENTS }, (_, n) => `p${n}`);
    const enqueue = async () =>
      (
        await t.store.flowEnqueue({
          queueName: queue,
          steps: [
            ...keys.map((key, n) => ({ key, alias: parentAlias, params: { n } })),
            { key: 'child', alias: childAlias, dependsOn: keys },
          ],
        })
      ).id;
    let flowId = '';
    const args = [t.url, queue, parentAlias, childAlias, ledger, String(PARENTS + 1)];
    const workers = [startWorker(args), startWorker(args)];
    const reports = await (async () => {
      try {
        await within(Promise.all(workers.map((worker) => worker.ready)), 60_000, 'both workers ready');
        flowId = await enqueue();
        return await within(Promise.all(workers.map((worker) => worker.report)), 100_000, 'both workers done');
      } finally {
        for (const worker of workers) worker.kill();
      }
    })();

    const flow = (await t.store.flowFindById(flowId))!;

    expect(reports.flatMap((report) => report.errors)).to.deep.equal([]);
    expect(reports.reduce((sum, report) => sum + report.parents, 0)).to.equal(PARENTS);
    for (const report of reports) expect(report.parents, 'each process finished parents').to.be.greaterThan(0);

    const runs = (await t.store.knex(ledger).select('task_id', 'parents', 'succeeded')) as Record<string, unknown>[];
    expect(
      runs.map((run) => ({ task: run['task_id'], parents: Number(run['parents']), succeeded: Number(run['succeeded']) })),
    ).to.deep.equal([{ task: flow.items['child']!.id, parents: PARENTS, succeeded: PARENTS }]);
    expect(flow.status).to.equal('succeeded');
    const child = flow.items['child']!;
    expect(child).to.include({ status: 'success', attempts: 1 });
    expect(detailMessages(child.details)).to.deep.equal(['Task started', 'Task completed']);
    const [row] = (await t.store.knex(TABLES.queue).where({ id: child.id }).select('waiting_parents', 'failed_parents')) as Record<
      string,
      unknown
    >[];
    expect({ waiting: Number(row!['waiting_parents']), failed: Number(row!['failed_parents']) }).to.deep.equal({ waiting: 0, failed: 0 });
    const edges = (await t.store.knex(TABLES.dependency).where({ child_id: child.id }).select('resolved')) as { resolved: unknown }[];
    expect(edges).to.have.length(PARENTS);
    expect(edges.every((edge) => Boolean(edge.resolved))).to.equal(true);
  });
});
