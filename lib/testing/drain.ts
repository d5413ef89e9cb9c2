/**
 * `drain`: runs every due task of a store, one at a time in claim order, and what those
 * handlers enqueue, until nothing is due. For tests: no runner, no timers, nothing left
 * running when it returns.
 */
import { TaskStoreError } from '../foundation/errors.js';
import { assertBoolean, assertInteger } from '../foundation/validate.js';
import type { TaskQueueItem } from '../foundation/types.js';
import type { TaskStore } from '../task-store.js';

export interface DrainOptions {
  /** Only this queue ('' is the default queue). Default: every queue with a queued task. */
  queueName?: string;
  /**
   * Run delayed tasks now: tasks enqueued with `delayMs`/`runAt` and retries waiting out
   * their backoff are made due at once, so a failing task runs until its attempts are used.
   * @defaultValue false
   */
  runDelayed?: boolean;
  /**
   * Fail once this many tasks ran: a handler that enqueues itself again would never end.
   * @defaultValue 1000
   */
  maxTasks?: number;
}

export interface DrainReport {
  /** The final rows of the tasks that ran, in the order they ran (a retried task once per attempt). */
  readonly processed: TaskQueueItem[];
  readonly succeeded: number;
  readonly failed: number;
  /** Attempts that failed and were queued again. */
  readonly retried: number;
}

/** Tasks read per page while looking for queues and delayed tasks. */
const PAGE = 1000;

export async function drain(store: TaskStore, options: DrainOptions = {}): Promise<DrainReport> {
  const { queueName, runDelayed = false, maxTasks = 1000 } = options;
  assertBoolean(runDelayed, 'drain: runDelayed');
  assertInteger(maxTasks, 'drain: maxTasks', 1, Number.MAX_SAFE_INTEGER);
  const processed: TaskQueueItem[] = [];
  for (;;) {
    const queued = await queuedItems(store, queueName);
    if (runDelayed) await makeDue(store, queued);
    const queues = queueName === undefined ? [...new Set(queued.map((item) => item.queueName))] : [queueName];
    let ran = false;
    for (const queue of queues) {
      for (let item = await store.taskQueueProcessNext(queue); item; item = await store.taskQueueProcessNext(queue)) {
        processed.push(item);
        ran = true;
        if (processed.length >= maxTasks && (await queuedItems(store, queueName)).length > 0) {
          throw new TaskStoreError(
            'INVALID_STATE',
            `drain: ${processed.length} tasks ran and more are queued; a handler may enqueue itself without end (raise maxTasks if not)`,
          );
        }
      }
    }
    if (!ran) break;
  }
  return {
    processed,
    succeeded: processed.filter((item) => item.status === 'success').length,
    failed: processed.filter((item) => item.status === 'failed').length,
    retried: processed.filter((item) => item.status === 'queued').length,
  };
}

async function queuedItems(store: TaskStore, queueName: string | undefined): Promise<TaskQueueItem[]> {
  const items: TaskQueueItem[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.taskQueueList({ status: 'queued', queueName, limit: PAGE, offset, orderBy: 'id', sortOrder: 'asc' });
    items.push(...page);
    if (page.length < PAGE) return items;
  }
}

async function makeDue(store: TaskStore, items: readonly TaskQueueItem[]): Promise<void> {
  const now = Date.now();
  for (const item of items) {
    if (item.availableAt.getTime() > now) await store.taskQueueUpdate({ id: item.id, availableAt: new Date(now) });
  }
}
