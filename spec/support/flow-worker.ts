/**
 * A separate OS process working a flow's queue with two TaskQueueRunners, for the fan-in spec.
 * Usage: node flow-worker.js <database-url> <queue> <parent-alias> <child-alias> <ledger-table> <expected-successes>
 *
 * Registers a parent handler (succeeds, output = its params' n) and a child handler (writes
 * one ledger row per run: the task id, how many parents it saw and how many of them had
 * succeeded), starts 2 runners (maxConcurrency 4 each), prints 'ready', waits until the queue
 * holds <expected-successes> successful tasks, stops the runners and prints one JSON line
 * {parents, errors}: how many parent steps its runners finished, and the runners' errors.
 * Exits 1 with the error on stderr on failure.
 */
import { TaskQueueRunner, TaskStore, defineTask } from '../../lib/index.js';

async function main(): Promise<void> {
  const [database, queue, parentAlias, childAlias, ledger, expected] = process.argv.slice(2);
  if (!database || !queue || !parentAlias || !childAlias || !ledger || !expected) {
    throw new Error('usage: flow-worker <database-url> <queue> <parent-alias> <child-alias> <ledger-table> <expected-successes>');
  }
  const store = await TaskStore.open({ database, automigrate: false });
  try {
    await store.taskHandlerAdd(defineTask({ alias: parentAlias, handle: (ctx) => ctx.setOutput(String(ctx.params['n'])) }));
    await store.taskHandlerAdd(
      defineTask({
        alias: childAlias,
        async handle(ctx) {
          const parents = Object.values(ctx.parentOutputs);
          await store.knex(ledger).insert({
            task_id: ctx.task!.id,
            parents: parents.length,
            succeeded: parents.filter((parent) => parent.status === 'success').length,
          });
        },
      }),
    );
    let parents = 0;
    const errors: string[] = [];
    const runners = [1, 2].map(() => new TaskQueueRunner(store, { queueName: queue, maxConcurrency: 4, intervalSeconds: 0.1 }));
    for (const runner of runners) {
      runner.on('task:success', (item) => {
        if (item.flowKey !== 'child') parents += 1;
      });
      runner.on('error', (error) => errors.push(error.message));
      runner.start();
    }
    process.stdout.write('ready\n');
    try {
      for (;;) {
        const stats = await store.taskQueueStats({ queueName: queue });
        if (stats.success >= Number(expected) || stats.failed > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await Promise.all(runners.map((runner) => runner.stop()));
    }
    process.stdout.write(`${JSON.stringify({ parents, errors })}\n`);
  } finally {
    await store.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
