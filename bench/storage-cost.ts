/**
 * `npm run bench:storage-cost` — what the queue table's own statements cost per task, with no
 * runner around them: a loop of the adapter's claim (batch rows) and the batched success
 * write of what it claimed, one after the other, until the queue is empty. It tells how much
 * of a drain is the database's work on taskstore's table, and what each index of that table
 * adds to it (`--without-index`), next to the raw-SQL floor of `npm run bench` (a narrow table
 * with one index).
 *
 *   node bench/dist/bench/storage-cost.js [--database URL] [--jobs 20000] [--batch 50] [--rounds 5]
 *                                         [--without-index SUFFIX[,SUFFIX…]] [--remove]
 *
 * The tables are the store's own, under names of their own (`storage_cost_*`). The default
 * database is a new SQLite file in .tmp/bench, made afresh each run; indexes are dropped only
 * there (`--without-index` is refused with `--database`), so no queue of anyone's loses one. Each round enqueues `jobs` tasks in
 * batches of 1,000, ANALYZEs, and times the loop: wall time and node's CPU per task (on SQLite
 * the two are the database's work plus the adapter's, in this process).
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { adapterForKnex } from '../adapters/index.js';
import { defineTask, TaskStore } from '../lib/index.js';
import { ensureSqliteDirectory, sqliteFileBeside } from './databases.js';
import { median } from './harness.js';

const USAGE = `usage: node bench/dist/bench/storage-cost.js [options]
  --database URL          where (default: a new SQLite file .tmp/bench/storage-cost.db)
  --jobs N                tasks per round (default 20000)
  --batch N               rows per claim (default 50)
  --rounds N              rounds; medians are printed (default 5)
  --without-index LIST    drop these indexes of the queue table first, named by what follows
                          the table name (e.g. task_id_status_idx,status_queue_idx); only
                          on the default SQLite file
  --remove                the success write deletes the rows (removeOnSuccess) instead of
                          updating them
  --help`;

const PREFIX = 'storage_cost';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      jobs: { type: 'string', default: '20000' },
      batch: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '5' },
      'without-index': { type: 'string', default: '' },
      remove: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const jobs = Number(values.jobs);
  const batch = Number(values.batch);
  let database = values.database;
  if (database !== undefined && values['without-index'] !== '') throw new Error('--without-index works on the default SQLite file only');
  if (database === undefined) {
    const file = sqliteFileBeside('storage-cost.db');
    await ensureSqliteDirectory(file);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    database = `sqlite:${file}`;
  }
  const store = await TaskStore.open({
    database,
    taskDefinitionTableName: `${PREFIX}_definition`,
    taskQueueTableName: `${PREFIX}_queue`,
    scheduleTableName: `${PREFIX}_schedule`,
  });
  const { knex } = store;
  const table = store.tableNames.taskQueue;
  const adapter = adapterForKnex(knex);
  try {
    for (const suffix of values['without-index'].split(',').filter((name) => name !== '')) {
      const index = `${table}_${suffix}`;
      if (!(await adapter.hasIndex(knex, table, index))) throw new Error(`no index ${index} on ${table}`);
      await knex.schema.alterTable(table, (builder) => builder.dropIndex([], index));
    }
    await store.taskHandlerAdd(defineTask({ alias: 'noop', handle: () => {} }), true);
    process.stdout.write(`${adapter.dialect}, ${jobs} tasks, claims of ${batch}, load average ${loadavg()[0]?.toFixed(2)}\n`);
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let round = 1; round <= Number(values.rounds); round++) {
      await knex(table).delete();
      for (let from = 0; from < jobs; from += 1000) {
        const params = Array.from({ length: Math.min(1000, jobs - from) }, (_, k) => ({ i: from + k }));
        await store.taskDefinitionEnqueueManyByAlias('storage-cost', 'noop', params);
      }
      await knex.raw(adapter.dialect === 'mysql' ? 'ANALYZE TABLE ??' : 'ANALYZE ??', [table]);
      let done = 0;
      let claims = 0;
      const usage = process.cpuUsage();
      const start = performance.now();
      for (;;) {
        const now = new Date();
        const token = `t${round}-${claims++}`;
        const rows = await adapter.claim(knex, table, {
          queueName: 'storage-cost',
          limit: batch,
          now,
          token,
          startedLine: `${now.toISOString()} : Task started`,
          asyncCommit: false,
          preparedSession: true,
        });
        if (rows.length === 0) break;
        done += rows.length;
        await adapter.finish(knex, table, {
          items: rows.map((row) => ({ id: String(row['id']), token })),
          status: 'success',
          output: '',
          details: `${new Date().toISOString()} : Task completed`,
          availableAt: null,
          now: new Date(),
          asyncCommit: false,
          remove: values.remove,
        });
      }
      const ms = performance.now() - start;
      const used = process.cpuUsage(usage);
      if (done !== jobs) throw new Error(`round ${round}: claimed ${done} of ${jobs}`);
      wall.push((ms * 1000) / jobs);
      cpu.push((used.user + used.system) / jobs);
      process.stdout.write(`round ${round}: ${wall.at(-1)?.toFixed(1)} µs/task wall, node ${cpu.at(-1)?.toFixed(1)} µs/task\n`);
    }
    process.stdout.write(
      `median: ${median(wall).toFixed(1)} µs/task wall (${Math.round(1e6 / median(wall))} tasks/s in one loop), node ${median(cpu).toFixed(1)} µs/task\n`,
    );
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
