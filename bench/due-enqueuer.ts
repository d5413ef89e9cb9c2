/**
 * The other process of the due-time bench: on each 'enqueue' message it enqueues one task
 * with the given delay and answers 'enqueued'.
 */
import { TaskStore } from '../lib/index.js';

const [database, queue, alias] = process.argv.slice(2);
if (!database || !queue || !alias || !process.send) throw new Error('usage: forked with the database URL, queue and alias');
const store = await TaskStore.open({ database, automigrate: false });

process.on('message', (message: { type: string; delayMs?: number }) => {
  if (message.type === 'stop') {
    void store.close().then(() => process.exit(0));
    return;
  }
  store.taskDefinitionEnqueueByAlias(queue, alias, {}, { delayMs: message.delayMs ?? 0 }).then(
    () => process.send?.({ type: 'enqueued' }),
    (error: unknown) => process.send?.({ type: 'error', message: String(error) }),
  );
});
process.send({ type: 'ready' });
