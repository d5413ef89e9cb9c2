/**
 * A separate OS process working a limited queue, for the flow-control specs.
 * Usage: node limits-worker.js <database-url> <queue> <alias> <handlerMs>
 *
 * Registers a handler for <alias> that records its start and end (Date.now(): every process
 * runs on one machine, so one clock) and takes <handlerMs>; starts one TaskQueueRunner
 * (maxConcurrency 10) on the queue; waits until the queue has nothing queued or running;
 * stops the runner and prints one JSON line {runs: [{id, group, start, end}], errors}.
 * Exits 1 with the error on stderr on failure.
 */
import { TaskQueueRunner, TaskStore, defineTask } from '../../lib/index.js';

interface Run {
  id: string;
  group: string | null;
  start: number;
  end: number;
}

async function main(): Promise<void> {
  const [database, queue, alias, handlerMs = '20'] = process.argv.slice(2);
  if (!database || !queue || !alias) throw new Error('usage: limits-worker <database-url> <queue> <alias> [handlerMs]');
  const store = await TaskStore.open({ database, automigrate: false });
  const runs: Run[] = [];
  const errors: string[] = [];
  try {
    await store.taskHandlerAdd(
      defineTask({
        alias,
        async handle(ctx) {
          const start = Date.now();
          await new Promise((resolve) => setTimeout(resolve, Number(handlerMs)));
          runs.push({ id: ctx.task!.id, group: ctx.task!.group, start, end: Date.now() });
        },
      }),
    );
    const runner = new TaskQueueRunner(store, { queueName: queue, maxConcurrency: 10, intervalSeconds: 0.5 });
    runner.on('error', (error) => errors.push(error.message));
    runner.on('task:failure', (item, error) => errors.push(`${item.id}: ${error.message}`));
    runner.start();
    try {
      for (;;) {
        const stats = await store.taskQueueStats({ queueName: queue });
        if (stats.queued + stats.running === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await runner.stop();
    }
  } finally {
    await store.close();
  }
  process.stdout.write(`${JSON.stringify({ runs, errors })}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
