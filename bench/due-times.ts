/**
 * `npm run bench:due` — how late a delayed task or a retry starts after it becomes due, with
 * a TaskQueueRunner at its default options (poll interval 10 s), per dialect: a delayed task
 * enqueued in the runner's process, one enqueued from another process, and a retry after a
 * fixed backoff. Each sample is one task enqueued while the runner is idle; lateness is the
 * handler's start minus the task's availableAt (wall clock, same machine).
 *
 *   node bench/dist/bench/due-times.js [--dialects sqlite,postgres,mysql] [--samples 40] [--delay-ms 250]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TaskQueueRunner, TaskStore, defineTask, type TaskContext } from '../lib/index.js';
import { ensureMysqlDatabase, ensurePostgresDatabase, ensureSqliteDirectory, mysqlUrl, pgUrl, sqliteFile } from './databases.js';
import { DIALECTS, percentile, type Dialect } from './harness.js';

const { values } = parseArgs({
  options: { dialects: { type: 'string' }, samples: { type: 'string' }, 'delay-ms': { type: 'string' } },
});
const dialects = (values.dialects?.split(',') ?? [...DIALECTS]) as Dialect[];
const samples = Number(values.samples ?? 40);
const delayMs = Number(values['delay-ms'] ?? 250);

async function databaseFor(dialect: Dialect): Promise<string> {
  if (dialect === 'sqlite') return ensureSqliteDirectory().then(() => `sqlite:${sqliteFile()}`);
  if (dialect === 'postgres') return ensurePostgresDatabase().then(() => pgUrl());
  return ensureMysqlDatabase().then(() => mysqlUrl());
}

type Scenario = 'in-process' | 'other process' | 'retry';

async function measure(dialect: Dialect, scenario: Scenario): Promise<number[]> {
  const database = await databaseFor(dialect);
  const store = await TaskStore.open({ database });
  const queue = `due_${randomBytes(4).toString('hex')}`;
  const alias = `DueBench${randomBytes(4).toString('hex')}`;
  const lateness: number[] = [];
  let started: (() => void) | null = null;
  await store.taskHandlerAdd(
    defineTask({
      alias,
      maxAttempts: 2,
      backoff: { type: 'fixed', delayMs },
      handle: (ctx: TaskContext) => {
        const task = ctx.task!;
        if (scenario === 'retry' && ctx.attempt === 1) throw new Error('first attempt fails');
        lateness.push(Date.now() - task.availableAt.getTime());
        started?.();
        return true;
      },
    }),
    true,
  );
  const runner = new TaskQueueRunner(store, { queueName: queue }); // default options
  let child: ChildProcess | null = null;
  if (scenario === 'other process') {
    child = fork(fileURLToPath(new URL('./due-enqueuer.js', import.meta.url)), [database, queue, alias]);
    await nextMessage(child, 'ready');
  }
  runner.start();
  try {
    for (let n = 0; n < samples; n++) {
      const ran = new Promise<void>((resolve) => (started = resolve));
      if (child) {
        child.send({ type: 'enqueue', delayMs });
        await nextMessage(child, 'enqueued');
      } else {
        await store.taskDefinitionEnqueueByAlias(queue, alias, {}, scenario === 'retry' ? {} : { delayMs });
      }
      await withTimeout(ran, 30_000, `sample ${n} of ${scenario} on ${dialect}`);
      await new Promise((resolve) => setTimeout(resolve, 50)); // idle again before the next sample
    }
  } finally {
    child?.send({ type: 'stop' });
    await runner.stop();
    await store.close();
  }
  return lateness;
}

function nextMessage(child: ChildProcess, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const listener = (message: { type: string; message?: string }) => {
      if (message.type === 'error') reject(new Error(message.message));
      else if (message.type === type) resolve();
      else return;
      child.off('message', listener);
    };
    child.on('message', listener);
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const rows: string[] = [];
for (const dialect of dialects) {
  for (const scenario of ['in-process', 'other process', 'retry'] as const) {
    const lateness = await measure(dialect, scenario);
    const [p50, p95, max] = [percentile(lateness, 50), percentile(lateness, 95), Math.max(...lateness)];
    rows.push(`| ${dialect} | ${scenario} | ${lateness.length} | ${p50.toFixed(0)} | ${p95.toFixed(0)} | ${max.toFixed(0)} |`);
    console.error(`${dialect} ${scenario}: p50 ${p50} ms, p95 ${p95} ms, max ${max} ms`);
  }
}
console.log(`Due-time lateness, default runner options, delay ${delayMs} ms, ${samples} samples each (ms after availableAt):\n`);
console.log('| dialect | enqueued | samples | p50 | p95 | max |\n|---|---|---:|---:|---:|---:|');
console.log(rows.join('\n'));
