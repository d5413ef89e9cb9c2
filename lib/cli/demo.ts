/**
 * The quick-start demo: an embedded SQLite store, three example tasks (one that fails once
 * and is retried, one delayed), processed until the queue is empty.
 */
import { defineTask, TaskStore, type TaskQueueItem } from '../index.js';

export const helloWorld = defineTask<{ name?: string }>({
  alias: 'HelloWorldTask',
  title: 'Hello World',
  description: 'Say hello world',
  async handle(ctx) {
    await ctx.logInfo(`Hello ${ctx.params.name ?? 'World'}!`);
    return true;
  },
});

export const flaky = defineTask({
  alias: 'FlakyTask',
  title: 'Flaky',
  description: 'Fails on its first attempt, succeeds on the retry',
  maxAttempts: 3,
  backoff: { type: 'exponential', delayMs: 200 },
  async handle(ctx) {
    if (ctx.attempt === 1) throw new Error('the first attempt always fails');
    await ctx.logSuccess(`succeeded on attempt ${ctx.attempt}`);
    ctx.setOutput(JSON.stringify({ attempt: ctx.attempt }));
  },
});

export async function runDemo(database: string, print: (line: string) => void = console.log): Promise<void> {
  const store = await TaskStore.open({ database });
  try {
    await store.taskHandlerAdd(helloWorld, true);
    await store.taskHandlerAdd(flaky, true);
    const enqueued = [
      await store.taskDefinitionEnqueueByAlias('demo', 'HelloWorldTask', { name: 'taskstore' }),
      await store.taskDefinitionEnqueueByAlias('demo', 'FlakyTask', {}),
      await store.taskDefinitionEnqueueByAlias('demo', 'HelloWorldTask', { name: 'later' }, { delayMs: 500 }),
    ];
    print(`enqueued ${enqueued.length} tasks on ${store.dialect} (${database})`);
    const pending = new Set(enqueued.map((item) => item.id));
    const deadline = Date.now() + 10_000;
    while (pending.size > 0 && Date.now() < deadline) {
      const item: TaskQueueItem | null = await store.taskQueueProcessNext('demo');
      if (!item) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const alias = String(item.parameters['task_alias']);
      print(`  ${alias.padEnd(15)} attempt ${item.attempts}: ${item.status}`);
      if (item.status === 'success' || item.status === 'failed') pending.delete(item.id);
    }
    print(`stats: ${JSON.stringify(await store.taskQueueStats({ queueName: 'demo' }))}`);
  } finally {
    await store.close();
  }
}
