/**
 * The other process of taskstore's cross-process latency phase: on each 'enqueue' message
 * from its parent it enqueues one task and answers with the wall-clock time (ms) at which it
 * began, so the parent can time enqueue → handler start across processes.
 */
import { TaskStore } from '../../lib/index.js';
import { TASKSTORE_ALIAS, TASKSTORE_QUEUE } from './taskstore.js';

const database = process.argv[2];
if (!database || !process.send) throw new Error('usage: forked with the database URL');
const store = await TaskStore.open({ database, automigrate: false });
const wallClock = (): number => performance.timeOrigin + performance.now();

process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') {
    void store.close().then(() => process.exit(0));
    return;
  }
  const startedAt = wallClock();
  store.taskDefinitionEnqueueByAlias(TASKSTORE_QUEUE, TASKSTORE_ALIAS, {}).then(
    () => process.send?.({ type: 'enqueued', startedAt }),
    (error: unknown) => process.send?.({ type: 'error', message: String(error) }),
  );
});
process.send({ type: 'ready' });
