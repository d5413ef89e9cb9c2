/**
 * A separate OS process claiming from a queue, for the multi-process exactly-once spec.
 * Usage: node claim-worker.js <database-url> <queue>
 * Claims with taskQueueClaimNext until it returns null, then prints the claimed ids as one
 * JSON array on stdout and exits 0 (1 with the error on stderr on failure).
 */
import { TaskStore } from '../../lib/index.js';

async function main(): Promise<void> {
  const [database, queue] = process.argv.slice(2);
  if (!database || queue === undefined) throw new Error('usage: claim-worker <database-url> <queue>');
  const store = await TaskStore.open({ database, automigrate: false });
  const ids: string[] = [];
  try {
    for (;;) {
      const item = await store.taskQueueClaimNext(queue);
      if (!item) break;
      ids.push(item.id);
    }
  } finally {
    await store.close();
  }
  process.stdout.write(`${JSON.stringify(ids)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
