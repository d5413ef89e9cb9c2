/**
 * taskstore/testing: a store for tests, a drain that runs what is due, and assertions on
 * what was enqueued. See docs/testing.md.
 */
import type { TaskHandler } from '../definitions/handler.js';
import type { TaskStoreOptions } from '../foundation/types.js';
import { TaskStore } from '../task-store.js';

export { drain, type DrainOptions, type DrainReport } from './drain.js';
export { assertEnqueued, refuteEnqueued, type EnqueuedExpectation } from './assertions.js';

/**
 * A store on a fresh in-memory SQLite database (unless `options.database` names another),
 * migrated, with each handler registered and its definition created. Close it after the test.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers of any params type
export async function createTestStore(handlers: readonly TaskHandler<any>[] = [], options: TaskStoreOptions = {}): Promise<TaskStore> {
  const store = await TaskStore.open({ database: 'sqlite::memory:', ...options });
  try {
    for (const handler of handlers) await store.taskHandlerAdd(handler, true);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
