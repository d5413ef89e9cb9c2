/**
 * `npm run bench:node-cost` — node's own CPU per task over a fast drain, for one or more builds
 * of taskstore side by side (issue #14: what a feature costs a drain that does not use it). Each
 * build is the `dist/` folder of a checkout (`npm run build` there), opened in a child process
 * of its own, so two versions of the library never share a process; the builds take turns, round
 * after round, and the table gives each build's figures and medians.
 *
 *   node bench/dist/bench/node-cost.js --dist ../before/dist,dist [--rounds 7] [--jobs 20000]
 *                                      [--database postgres://…] [--prefetch 90]
 *
 * A round enqueues `jobs` no-op tasks in batches of 1,000 into an emptied queue table, ANALYZEs
 * it, drains it with a runner of 10 slots and the given prefetch, and reads
 * `process.cpuUsage()` around the drain (after a 2,000-task warm-up drain in the same process).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { buildsInTurn } from './build-turns.js';
import { pgUrl } from './databases.js';
import { median } from './harness.js';
import type * as Library from '../lib/index.js';

type Library = typeof Library;

const USAGE = `usage: node bench/dist/bench/node-cost.js --dist DIR[,DIR…] [options]
  --dist LIST      comma-separated dist/ folders of taskstore builds (required)
  --rounds N       rounds; each build drains once per round (default 7)
  --jobs N         tasks per drain (default 20000)
  --prefetch N     the runner's prefetch (default 90, the fast settings)
  --database URL   where to drain (default the bench's PostgreSQL database)
  --help`;

interface Drain {
  jobsPerSecond: number;
  nodeUsPerTask: number;
}

/** One drain in this process, of the build at `dist` (the child's side). */
async function drainOnce(dist: string, database: string, jobs: number, prefetch: number): Promise<Drain> {
  const lib = (await import(pathToFileURL(resolve(dist, 'lib/index.js')).href)) as Library;
  const store = await lib.TaskStore.open({ database });
  const table = store.tableNames.taskQueue;
  let started = 0;
  let target = 0;
  let done: () => void = () => {};
  await store.taskHandlerAdd(
    lib.defineTask({
      alias: 'noop',
      handle: () => {
        started += 1;
        if (started === target) done();
      },
    }),
    true,
  );
  const sqlite = database.startsWith('sqlite');
  const run = async (count: number): Promise<Drain> => {
    if (sqlite) await store.knex(table).delete();
    else await store.knex.raw('TRUNCATE TABLE ??', [table]);
    for (let from = 0; from < count; from += 1000) {
      const params = Array.from({ length: Math.min(1000, count - from) }, (_, k) => ({ i: from + k }));
      await store.taskDefinitionEnqueueManyByAlias('node-cost', 'noop', params);
    }
    await store.knex.raw(database.startsWith('mysql') ? 'ANALYZE TABLE ??' : 'ANALYZE ??', [table]);
    started = 0;
    target = count;
    const finished = new Promise<void>((resolveDrain) => (done = resolveDrain));
    const runner = new lib.TaskQueueRunner(store, { queueName: 'node-cost', maxConcurrency: 10, intervalSeconds: 10, prefetch });
    const cpu = process.cpuUsage();
    const start = performance.now();
    runner.start();
    await finished;
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    await runner.stop();
    return { jobsPerSecond: (count / ms) * 1000, nodeUsPerTask: (used.user + used.system) / count };
  };
  try {
    await run(2000);
    return await run(jobs);
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dist: { type: 'string' },
      rounds: { type: 'string', default: '7' },
      jobs: { type: 'string', default: '20000' },
      prefetch: { type: 'string', default: '90' },
      database: { type: 'string', default: pgUrl() },
      child: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.dist) {
    process.stdout.write(`${USAGE}\n`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const jobs = Number(values.jobs);
  const prefetch = Number(values.prefetch);
  if (values.child) {
    process.stdout.write(JSON.stringify(await drainOnce(values.dist, values.database, jobs, prefetch)));
    return;
  }
  const builds = values.dist.split(',').map((dist) => resolve(dist));
  process.stdout.write(`load average at the start: ${loadavg()[0]?.toFixed(2)}\n`);
  const childArgs = ['--jobs', String(jobs), '--prefetch', String(prefetch), '--database', values.database];
  const results = buildsInTurn<Drain>(builds, Number(values.rounds), childArgs, (round, dist, drain) =>
    process.stdout.write(
      `round ${round} ${dist}: ${Math.round(drain.jobsPerSecond)} jobs/s, node ${drain.nodeUsPerTask.toFixed(1)} µs/task\n`,
    ),
  );
  process.stdout.write(
    `load average at the end: ${loadavg()[0]?.toFixed(2)}\n\n| build | node µs/task, median (range) | jobs/s, median (range) |\n|---|---|---|\n`,
  );
  for (const [dist, drains] of results) {
    const us = drains.map((drain) => drain.nodeUsPerTask);
    const rates = drains.map((drain) => drain.jobsPerSecond);
    process.stdout.write(
      `| ${dist} | ${median(us).toFixed(1)} (${Math.min(...us).toFixed(1)}–${Math.max(...us).toFixed(1)}) | ${Math.round(median(rates))} (${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}) |\n`,
    );
  }
}

await main();
