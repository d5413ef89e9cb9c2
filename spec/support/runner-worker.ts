/**
 * A separate OS process working a queue with TaskQueueRunners, for the multi-process runner specs.
 * Usage: node runner-worker.js <database-url> <queue> <alias> <mode> [maxAttempts]
 *
 * mode 'drain': registers a handler for <alias> that succeeds at once, starts 2 runners on the
 *   queue (maxConcurrency 4 each), waits until the queue has nothing queued or running, stops
 *   the runners and prints one JSON line {ids, failures, retries, errors}: the ids its runners
 *   saw succeed ('task:success'), then exits 0.
 * mode 'hang': registers a handler that prints 'started <task id>' and never settles, starts
 *   one runner and stays alive until killed.
 * mode 'cancel': like 'hang', but the handler waits for ctx.signal to abort, prints
 *   'aborted <reason name> <reason.reason>', then returns true (a late success). The runner's
 *   unstuckMinutes is the last argument (it sets the heartbeat: a quarter of it). On SIGTERM it
 *   stops the runner (waiting for the handler and whatever it writes), prints 'stopped' and exits 0.
 * Exits 1 with the error on stderr on failure.
 */
import { TaskQueueRunner, TaskStore, defineTask } from '../../lib/index.js';

async function drain(store: TaskStore, queue: string, alias: string, maxAttempts: number): Promise<void> {
  await store.taskHandlerAdd(defineTask({ alias, maxAttempts, handle: () => true }));
  const ids: string[] = [];
  const failures: string[] = [];
  const retries: string[] = [];
  const errors: string[] = [];
  const runners = [1, 2].map(() => new TaskQueueRunner(store, { queueName: queue, maxConcurrency: 4, intervalSeconds: 0.2 }));
  for (const runner of runners) {
    runner.on('task:success', (item) => ids.push(item.id));
    runner.on('task:failure', (item, error) => failures.push(`${item.id}: ${error.message}`));
    runner.on('task:retry', (item, error) => retries.push(`${item.id}: ${error.message}`));
    runner.on('error', (error) => errors.push(error.message));
    runner.start();
  }
  try {
    for (;;) {
      const stats = await store.taskQueueStats({ queueName: queue });
      if (stats.queued + stats.running === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await Promise.all(runners.map((runner) => runner.stop()));
  }
  process.stdout.write(`${JSON.stringify({ ids, failures, retries, errors })}\n`);
}

async function hang(store: TaskStore, queue: string, alias: string, maxAttempts: number): Promise<never> {
  await store.taskHandlerAdd(
    defineTask({
      alias,
      maxAttempts,
      handle(ctx) {
        process.stdout.write(`started ${ctx.task!.id}\n`);
        return new Promise<never>(() => undefined);
      },
    }),
  );
  const runner = new TaskQueueRunner(store, { queueName: queue, intervalSeconds: 0.1 });
  runner.on('error', (error) => process.stderr.write(`runner error: ${error.message}\n`));
  runner.start();
  setInterval(() => undefined, 60_000); // stay alive until killed
  return new Promise<never>(() => undefined);
}

async function cancelable(store: TaskStore, queue: string, alias: string, unstuckMinutes: number): Promise<void> {
  await store.taskHandlerAdd(
    defineTask({
      alias,
      async handle(ctx) {
        process.stdout.write(`started ${ctx.task!.id}\n`);
        const reason = await new Promise<unknown>((resolve) => ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason)));
        const { name, reason: why } = reason as { name?: string; reason?: string };
        process.stdout.write(`aborted ${name} ${why}\n`);
        return true; // the late finish: it must not overwrite the cancel
      },
    }),
  );
  const runner = new TaskQueueRunner(store, { queueName: queue, intervalSeconds: 0.1, unstuckMinutes });
  runner.on('error', (error) => process.stderr.write(`runner error: ${error.message}\n`));
  runner.start();
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await runner.stop();
  process.stdout.write('stopped\n');
}

async function main(): Promise<void> {
  const [database, queue, alias, mode, attempts = '1'] = process.argv.slice(2);
  if (!database || !queue || !alias || (mode !== 'drain' && mode !== 'hang' && mode !== 'cancel')) {
    throw new Error('usage: runner-worker <database-url> <queue> <alias> drain|hang [maxAttempts] | cancel <unstuckMinutes>');
  }
  const store = await TaskStore.open({ database, automigrate: false });
  try {
    if (mode === 'drain') await drain(store, queue, alias, Number(attempts));
    else if (mode === 'cancel') await cancelable(store, queue, alias, Number(attempts));
    else await hang(store, queue, alias, Number(attempts));
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
