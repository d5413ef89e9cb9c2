/**
 * `npm run bench:idle-load` — what one idle runner costs while nothing happens (issue #13: a
 * faster change probe must not raise it). For one or more builds of taskstore side by side, each
 * the `dist/` folder of a checkout (`npm run build` there), in a child process of its own; the
 * builds take turns, round after round, and the table gives each build's medians.
 *
 *   node bench/dist/bench/idle-load.js --database mysql://root@127.0.0.1:3306/test_b
 *                                      [--dist none,../before/dist,dist] [--rounds 5]
 *                                      [--warmup-seconds 2] [--seconds 10] [--pickups 10]
 *                                      [--gap-ms 1500]
 *
 * A round opens a store on the database, starts one `TaskQueueRunner` with the defaults (on
 * the bench's queue) on an empty queue, waits the warm-up, then over the window reads:
 *
 * - node: the child's own CPU (`process.cpuUsage()`);
 * - mysqld: the whole MariaDB/MySQL server's CPU (utime + stime of `pidof mariadbd` or
 *   `pidof mysqld` from /proc/<pid>/stat, 10 ms ticks), which includes whatever else the
 *   server does meanwhile;
 * - store's threads: the CPU of the server threads serving this store's connections alone
 *   (MariaDB's `information_schema.PROCESSLIST.TID`, from /proc/<pid>/task/<tid>/schedstat, in
 *   ns), so other clients of a shared server do not blur the figure; '–' where the server has
 *   no TID column (MySQL).
 *
 * Each as % of one CPU. Then, the pickup after a quiet period: `--pickups` times, after
 * `--gap-ms` without any enqueue, another process (bench/systems/taskstore-enqueuer.ts)
 * enqueues one task, timed from the enqueue's start to the handler's start (wall clock across
 * the two processes). `--dist none` measures a child that opens nothing: the server's
 * background while the rounds ran. Without `--dist`, the library this bench was built with.
 */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { mysqlUrl } from './databases.js';
import { median, percentile } from './harness.js';
import { buildsInTurn } from './build-turns.js';
import { nextMessage, TASKSTORE_ALIAS, TASKSTORE_QUEUE } from './systems/taskstore.js';
import type * as Library from '../lib/index.js';

type Library = typeof Library;

const USAGE = `usage: node bench/dist/bench/idle-load.js [options]
  --database URL       a MySQL/MariaDB database (default the bench's, ${mysqlUrl()})
  --dist LIST          comma-separated dist/ folders of taskstore builds, or 'none' for a child that
                       opens nothing (default: the library this bench was built with)
  --rounds N           rounds; each build is measured once per round (default 5)
  --warmup-seconds N   idle time before the window (default 2)
  --seconds N          the measured window (default 10)
  --pickups N          enqueues from another process after the window, each after a quiet gap (default 10)
  --gap-ms N           the quiet time before each of them (default 1500)
  --help`;

interface Sample {
  nodePercent: number;
  mysqldPercent: number;
  /** null where the server shows no thread ids. */
  storeThreadsPercent: number | null;
  /** Enqueue → handler start of each task enqueued by another process after a quiet gap, in ms. */
  pickupsMs: number[];
}

interface Timing {
  warmupMs: number;
  windowMs: number;
  pickups: number;
  gapMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function serverPid(): number {
  for (const name of ['mariadbd', 'mysqld']) {
    try {
      const pid = Number(execFileSync('pidof', [name], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
      if (pid > 0) return pid;
    } catch {
      // not running under this name
    }
  }
  throw new Error('idle-load: no mariadbd or mysqld process on this machine (pidof)');
}

/** CPU time of a process so far, in microseconds (utime + stime from /proc/<pid>/stat). */
function processCpuMicros(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** CPU time of one thread so far, in microseconds (/proc/<pid>/task/<tid>/schedstat, in ns); null once it is gone. */
function threadCpuMicros(pid: number, tid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return null;
  }
}

/** The server threads of the connections to `database` other than `admin`'s own: connection id → thread id. */
async function storeThreads(admin: mysql.Connection, database: string): Promise<Map<number, number> | null> {
  const [columns] = await admin.query<mysql.RowDataPacket[]>(
    "SELECT 1 FROM information_schema.columns WHERE table_schema = 'information_schema' AND table_name = 'PROCESSLIST' AND column_name = 'TID'",
  );
  if (columns.length === 0) return null;
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT ID AS id, TID AS tid FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
    [database],
  );
  return new Map(rows.map((row) => [Number(row['id']), Number(row['tid'])]));
}

function threadsMicros(pid: number, threads: Map<number, number>): Map<number, number | null> {
  return new Map([...threads].map(([id, tid]) => [id, threadCpuMicros(pid, tid)]));
}

/** One measurement in this process, of the build at `dist` (the child's side). */
async function measureOnce(dist: string, database: string, { warmupMs, windowMs, pickups, gapMs }: Timing): Promise<Sample> {
  const pid = serverPid();
  const name = decodeURIComponent(new URL(database).pathname.slice(1));
  const adminUrl = new URL(database);
  adminUrl.pathname = '/';
  const admin = await mysql.createConnection(adminUrl.toString());
  let close = async (): Promise<void> => {};
  let pickup = async (): Promise<number | null> => null;
  try {
    if (dist !== 'none') {
      const lib = (await import(pathToFileURL(resolve(dist, 'lib/index.js')).href)) as Library;
      const store = await lib.TaskStore.open({ database });
      let started: (at: number) => void = () => {};
      const wallClock = (): number => performance.timeOrigin + performance.now();
      await store.taskHandlerAdd(lib.defineTask({ alias: TASKSTORE_ALIAS, handle: () => started(wallClock()) }), true);
      await store.knex(store.tableNames.taskQueue).delete();
      const runner = new lib.TaskQueueRunner(store, { queueName: TASKSTORE_QUEUE });
      runner.start();
      const enqueuer = fork(fileURLToPath(new URL('./systems/taskstore-enqueuer.js', import.meta.url)), [database]);
      await nextMessage(enqueuer, 'ready');
      pickup = async () => {
        const start = new Promise<number>((resolveStart) => (started = resolveStart));
        const enqueued = nextMessage(enqueuer, 'enqueued');
        enqueuer.send({ type: 'enqueue' });
        const { startedAt } = (await enqueued) as { startedAt: number };
        return (await start) - startedAt;
      };
      close = async () => {
        enqueuer.send({ type: 'stop' });
        await runner.stop();
        await store.close();
      };
    }
    await sleep(warmupMs);
    const threads = await storeThreads(admin, name);
    const threadsBefore = threads && threadsMicros(pid, threads);
    const nodeBefore = process.cpuUsage();
    const serverBefore = processCpuMicros(pid);
    const start = performance.now();
    await sleep(windowMs);
    const node = process.cpuUsage(nodeBefore);
    const server = processCpuMicros(pid) - serverBefore;
    const elapsedUs = (performance.now() - start) * 1000;
    let storeThreadsUs: number | null = null;
    if (threads && threadsBefore) {
      const threadsAfter = await storeThreads(admin, name);
      storeThreadsUs = 0;
      for (const [id, tid] of threads) {
        const before = threadsBefore.get(id);
        const after = threadsAfter?.get(id) === tid ? threadCpuMicros(pid, tid) : null;
        // A connection that closed during the window is left out (its thread may serve another by now).
        if (before != null && after != null) storeThreadsUs += after - before;
      }
    }
    const pickupsMs: number[] = [];
    for (let i = 0; i < pickups; i++) {
      await sleep(gapMs);
      const ms = await pickup();
      if (ms !== null) pickupsMs.push(ms);
    }
    return {
      nodePercent: ((node.user + node.system) / elapsedUs) * 100,
      mysqldPercent: (server / elapsedUs) * 100,
      storeThreadsPercent: storeThreadsUs === null ? null : (storeThreadsUs / elapsedUs) * 100,
      pickupsMs,
    };
  } finally {
    await close();
    await admin.end();
  }
}

const pct = (value: number | null): string => (value === null ? '–' : `${value.toFixed(2)}%`);

const summary = (values: (number | null)[]): string => {
  const known = values.filter((value): value is number => value !== null);
  if (known.length === 0) return '–';
  return `${pct(median(known))} (${pct(Math.min(...known))}–${pct(Math.max(...known))})`;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dist: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      'warmup-seconds': { type: 'string', default: '2' },
      seconds: { type: 'string', default: '10' },
      pickups: { type: 'string', default: '10' },
      'gap-ms': { type: 'string', default: '1500' },
      database: { type: 'string', default: mysqlUrl() },
      child: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const timing: Timing = {
    warmupMs: Number(values['warmup-seconds']) * 1000,
    windowMs: Number(values.seconds) * 1000,
    pickups: Number(values.pickups),
    gapMs: Number(values['gap-ms']),
  };
  const ownBuild = fileURLToPath(new URL('..', import.meta.url));
  const dist = values.dist ?? ownBuild;
  if (values.child) {
    process.stdout.write(JSON.stringify(await measureOnce(dist, values.database, timing)));
    return;
  }
  const builds = dist.split(',').map((folder) => (folder === 'none' ? folder : resolve(folder)));
  process.stdout.write(`${values.database}, server pid ${serverPid()}; load average at the start: ${loadavg()[0]?.toFixed(2)}\n`);
  const childArgs = [
    ...['--database', values.database, '--warmup-seconds', String(timing.warmupMs / 1000), '--seconds', String(timing.windowMs / 1000)],
    ...['--pickups', String(timing.pickups), '--gap-ms', String(timing.gapMs)],
  ];
  const results = buildsInTurn<Sample>(builds, Number(values.rounds), childArgs, (round, build, sample) =>
    process.stdout.write(
      `round ${round} ${build}: node ${pct(sample.nodePercent)}, mysqld ${pct(sample.mysqldPercent)}, ` +
        `store's threads ${pct(sample.storeThreadsPercent)}, pickups after quiet ${sample.pickupsMs.map((ms) => ms.toFixed(1)).join(' ')} ms\n`,
    ),
  );
  process.stdout.write(
    `load average at the end: ${loadavg()[0]?.toFixed(2)}\n\n` +
      `| build | node, median (range) | mysqld, median (range) | store's server threads, median (range) | pickup after ${timing.gapMs} ms quiet, p50 / p95 (n) |\n` +
      `|---|---|---|---|---|\n`,
  );
  for (const [build, samples] of results) {
    const pickups = samples.flatMap((s) => s.pickupsMs);
    const pickup =
      pickups.length === 0 ? '–' : `${percentile(pickups, 50).toFixed(1)} / ${percentile(pickups, 95).toFixed(1)} ms (${pickups.length})`;
    process.stdout.write(
      `| ${build} | ${summary(samples.map((s) => s.nodePercent))} | ${summary(samples.map((s) => s.mysqldPercent))} | ` +
        `${summary(samples.map((s) => s.storeThreadsPercent))} | ${pickup} |\n`,
    );
  }
}

await main();
