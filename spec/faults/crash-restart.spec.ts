/**
 * A database server crash in the middle of a drain, on a server of the spec's own (never the
 * shared one): the server is SIGKILLed (every process of it), stays down for a moment, and
 * restarts on the same data directory (crash recovery). Meanwhile a runner drains the queue
 * and a producer keeps enqueueing one task at a time.
 *
 * SQLite has no server to crash (a crash of a process that holds the database is in
 * spec/runners/processes.spec.ts), so this file registers nothing for it.
 *
 * Short form: 400 tasks, one crash, 1.5 s down. TASKSTORE_FAULTS_LONG=1: 2,000 tasks, three
 * crashes, 5 s down each.
 */
import { expect } from 'chai';
import { TaskQueueRunner, TaskStore, defineTask } from '../../lib/index.js';
import type { Dialect, TaskQueueItem } from '../../lib/index.js';
import { FAULTS_LONG, RunLedger, firstMessages, report, stopWithin, watchUnhandledRejections } from '../support/fault-helpers.js';
import { selectedDialects, uniqueAlias, uniqueQueue, waitFor } from '../support/index.js';
import { recordEvents, sleep } from '../support/runner-helpers.js';
import { startServer, type ServerInstance } from '../support/servers.js';

const SETTINGS = FAULTS_LONG
  ? { initial: 2000, produced: 600, crashes: 3, downMs: 5000, drainTimeoutMs: 300_000 }
  : { initial: 500, produced: 150, crashes: 1, downMs: 1500, drainTimeoutMs: 90_000 };

/**
 * Where state writes (claims, finishes) commit without waiting for the log flush
 * (`capabilities.asyncCommit`: PostgreSQL), a crash may forget up to ~0.6 s of them
 * (docs/adapters.md): a task that reported success that shortly before a crash may come back
 * and run again. Elsewhere a reported success is durable.
 */
const FORGETTABLE_MS = 1000;

interface CrashRecord {
  killedAt: number;
  restartedAt: number;
  /** Started before the server was dead, and not reported finished before the kill began. */
  inFlight: Set<string>;
  /** Reported finished within FORGETTABLE_MS before the kill. */
  recentlyDone: Set<string>;
  /** The first task:success after the restart. */
  firstSuccessAt?: number;
}

for (const dialect of selectedDialects()) {
  if (dialect === 'sqlite') continue;
  describeCrash(dialect);
}

function describeCrash(dialect: Exclude<Dialect, 'sqlite'>): void {
  describe(`a database server crash mid-drain [${dialect}]`, function () {
    let server: ServerInstance | undefined;

    before(async function () {
      this.timeout(120_000);
      server = await startServer(dialect);
      report(`own ${dialect} server on port ${server.port}: init ${server.timings.initMs} ms, start ${server.timings.startMs} ms`);
    });

    after(async function () {
      this.timeout(60_000);
      await server?.stop();
    });

    it('loses no task and no acknowledged enqueue, re-runs only what the crash caught, and the runner keeps going', async function () {
      this.timeout(SETTINGS.drainTimeoutMs + 60_000);
      const instance = server!;
      const unhandled = watchUnhandledRejections();
      const stores: TaskStore[] = [];
      const open = async () => {
        const store = await TaskStore.open({ database: instance.url });
        stores.push(store);
        return store;
      };
      let runner: TaskQueueRunner | undefined;
      try {
        const queue = uniqueQueue();
        const alias = uniqueAlias('Crash');
        const ledger = new RunLedger();
        const runnerStore = await open();
        await runnerStore.taskHandlerAdd(
          defineTask({
            alias,
            maxAttempts: 20,
            handle: async (ctx) => {
              ledger.note(ctx.task!.id, 'runner');
              await sleep(20);
            },
          }),
          true,
        );
        runner = new TaskQueueRunner(runnerStore, { queueName: queue, maxConcurrency: 4, intervalSeconds: 0.2, unstuckMinutes: 0.05 });
        const events = recordEvents(runner);
        // when each task was started and reported finished, for what was in flight at a kill
        const startedAt = new Map<string, number>();
        const doneAt = new Map<string, number>();
        runner.on('task:start', (item) => void startedAt.set(item.id, Date.now()));
        const noteDone = (item: TaskQueueItem) => void doneAt.set(item.id, Date.now());
        runner.on('task:success', noteDone);
        runner.on('task:retry', noteDone);
        runner.on('task:failure', noteDone);
        const crashes: CrashRecord[] = [];
        runner.on('task:success', () => {
          const last = crashes.at(-1);
          if (last && last.restartedAt > 0 && last.firstSuccessAt === undefined) last.firstSuccessAt = Date.now();
        });

        // acknowledged (resolved) enqueues by index; the producer's failed ones may or may not have landed
        const acknowledged = new Map<number, string>();
        const unacknowledged = new Set<number>();
        const initial = await runnerStore.taskDefinitionEnqueueManyByAlias(
          queue,
          alias,
          Array.from({ length: SETTINGS.initial }, (_, index) => ({ index })),
        );
        initial.forEach((item, index) => acknowledged.set(index, item.id));

        runner.start();

        // one task at a time, through a store of its own, across the crashes
        let producing = true;
        const producerStore = await open();
        const producer = (async () => {
          for (let n = 0; n < SETTINGS.produced && producing; n += 1) {
            const index = SETTINGS.initial + n;
            try {
              const item = await producerStore.taskDefinitionEnqueueByAlias(queue, alias, { index });
              acknowledged.set(index, item.id);
            } catch {
              unacknowledged.add(index);
            }
            await sleep(25);
          }
        })();

        for (let crash = 0; crash < SETTINGS.crashes; crash += 1) {
          const target = Math.floor((SETTINGS.initial * (crash + 1)) / (SETTINGS.crashes + 1));
          await waitFor(() => events.succeeded.length >= target, {
            timeoutMs: 60_000,
            intervalMs: 5,
            message: `${target} tasks done before crash ${crash + 1}`,
          });
          const killedAt = Date.now();
          await instance.kill();
          // read once the server is dead: a claim may still have landed between the two
          const killedBy = Date.now();
          const inFlight = new Set(
            [...startedAt]
              .filter(([id, started]) => started <= killedBy && !((doneAt.get(id) ?? -1) >= started && doneAt.get(id)! < killedAt))
              .map(([id]) => id),
          );
          const forgettableMs = runnerStore.capabilities.asyncCommit ? FORGETTABLE_MS : 0;
          const recentlyDone = new Set([...doneAt].filter(([, at]) => at >= killedAt - forgettableMs).map(([id]) => id));
          const record: CrashRecord = { killedAt, restartedAt: 0, inFlight, recentlyDone };
          crashes.push(record);
          await sleep(SETTINGS.downMs);
          await instance.restart();
          record.restartedAt = Date.now();
          report(
            `crash ${crash + 1}: ${events.succeeded.length} successes before, ${inFlight.size} in flight, ` +
              `${recentlyDone.size} finished in the ${forgettableMs} ms before; restart (crash recovery) ${instance.timings.restartMs.at(-1)} ms`,
          );
        }
        await sleep(1000);
        producing = false;
        await producer;

        // a store opened after the crashes: its pool never saw one
        const checker = await open();
        const drainStarted = Date.now();
        await waitFor(
          async () => {
            const open = await checker.taskQueueCount({ queueName: queue, statuses: ['queued', 'running'] });
            return open === 0 && (await checker.taskQueueCount({ queueName: queue })) >= acknowledged.size;
          },
          { timeoutMs: SETTINGS.drainTimeoutMs, intervalMs: 100, message: 'every task in a final state after the crash' },
        ).catch(async (error: unknown) => {
          const stats = await checker.taskQueueStats({ queueName: queue }).catch(() => null);
          throw new Error(
            `${(error as Error).message}; queue stats ${JSON.stringify(stats)}; runner running: ${runner?.isRunning()}; ` +
              `runner errors: ${events.errors.length} (${firstMessages(events.errors)})`,
          );
        });
        for (const [n, crash] of crashes.entries()) {
          report(
            `crash ${n + 1}: restart → first task finished ${crash.firstSuccessAt === undefined ? 'never' : `${crash.firstSuccessAt - crash.restartedAt} ms`}`,
          );
        }
        report(
          `drained ${Date.now() - drainStarted} ms after the producer stopped; ${events.errors.length} runner 'error' events (${firstMessages(events.errors)})`,
        );

        expect(runner.isRunning(), 'the runner is still running').to.equal(true);
        await stopWithin(runner, 30_000);

        const rows = (await checker.knex('task_queue').where({ queue_name: queue }).select('id', 'status', 'parameters', 'attempts')) as {
          id: string;
          status: string;
          parameters: unknown;
          attempts: number | string;
        }[];
        const byIndex = new Map<number, { id: string; status: string; attempts: number }[]>();
        for (const row of rows) {
          const parameters = (typeof row.parameters === 'string' ? JSON.parse(row.parameters) : row.parameters) as { index: number };
          const list = byIndex.get(parameters.index) ?? [];
          list.push({ id: row.id, status: row.status, attempts: Number(row.attempts) });
          byIndex.set(parameters.index, list);
        }

        // none lost: every acknowledged enqueue is there, once, under the id it was given
        const missing = [...acknowledged].filter(([index, id]) => !byIndex.get(index)?.some((row) => row.id === id));
        expect(missing, 'acknowledged enqueues missing after the crash').to.deep.equal([]);
        const duplicated = [...byIndex].filter(([, list]) => list.length > 1).map(([index]) => index);
        expect(duplicated, 'indexes enqueued more than once').to.deep.equal([]);
        const stray = [...byIndex.keys()].filter((index) => !acknowledged.has(index) && !unacknowledged.has(index));
        expect(stray, 'rows nobody enqueued').to.deep.equal([]);
        const landedUnacknowledged = [...unacknowledged].filter((index) => byIndex.has(index)).length;
        expect(rows.length, 'row count: the acknowledged enqueues plus the unacknowledged ones that landed').to.equal(
          acknowledged.size + landedUnacknowledged,
        );
        report(
          `${rows.length} tasks: ${acknowledged.size} acknowledged enqueues, ${unacknowledged.size} failed (${landedUnacknowledged} of them landed anyway)`,
        );

        // every task in a final state: success
        const notSucceeded = rows.filter((row) => row.status !== 'success').map((row) => `${row.id}: ${row.status}`);
        expect(notSucceeded, 'tasks not ending in success').to.deep.equal([]);

        // each handler ran at least once, and again only where an attempt spanned a crash
        const neverRan = rows.filter((row) => ledger.runsOf(row.id) === 0).map((row) => row.id);
        expect(neverRan, 'tasks whose handler never ran').to.deep.equal([]);
        const caught = new Set(crashes.flatMap((crash) => [...crash.inFlight, ...crash.recentlyDone]));
        const reruns = ledger.reruns();
        report(
          `re-runs: ${reruns.size} tasks ran more than once (${ledger.extraRuns()} extra runs); ` +
            `${caught.size} tasks were in flight at a kill or finished just before it`,
        );
        const unexplained = [...reruns.keys()].filter((id) => !caught.has(id));
        const firstKill = crashes[0]?.killedAt ?? 0;
        const explain = await Promise.all(
          unexplained.slice(0, 5).map(async (id) => {
            const row = await checker.taskQueueFindById(id);
            const details = (row?.details ?? '').split('\n').map((line) => line.slice(22));
            return `${id}: runs ${ledger.describe(id, firstKill)} (relative to the first kill); attempts ${row?.attempts}; details ${JSON.stringify(details)}`;
          }),
        );
        expect(unexplained, `tasks run again although no crash caught their attempt:\n${explain.join('\n')}`).to.deep.equal([]);
        const extraBound = crashes.reduce((sum, crash) => sum + crash.inFlight.size + crash.recentlyDone.size, 0);
        expect(ledger.extraRuns(), 'extra runs, at most what the crashes caught').to.be.at.most(extraBound);

        // A short outage may be absorbed by the retries of writes that are safe to repeat, so
        // 'error' events are not required; whatever was reported is a real Error.
        for (const error of events.errors) expect(error, String(error)).to.be.instanceOf(Error);
        expect(unhandled(), 'unhandled rejections').to.deep.equal([]);
      } finally {
        unhandled();
        if (runner) await stopWithin(runner, 30_000).catch(() => undefined);
        await Promise.allSettled(stores.map((store) => store.close()));
      }
    });
  });
}
