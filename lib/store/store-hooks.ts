/**
 * A store's hooks (TaskStore.open `hooks`) chained once, at open: the first hook outermost.
 * Enqueueing and processing ask one precomputed field whether to take the hooked path, so a
 * store without hooks allocates nothing more per task.
 */
import { TaskStoreError, invalidArgument } from '../foundation/errors.js';
import {
  MAX_TRACE_CONTEXT_LENGTH,
  type EnqueueHookInfo,
  type HookedStore,
  type ProcessHookInfo,
  type ProcessOutcome,
  type TaskStoreHooks,
} from '../foundation/hook-types.js';
import type { TaskQueueItem } from '../foundation/types.js';

/** Runs an enqueue's write (given the trace context to store) through the hooks; resolves what the write resolved. */
export type EnqueueThroughHooks = <T>(
  info: EnqueueHookInfo,
  write: (traceContext: string | null) => Promise<T>,
  itemsOf: (written: T) => readonly TaskQueueItem[],
) => Promise<T>;

/** Runs one task's processing through the hooks; resolves what the processing resolved. */
export type ProcessThroughHooks = <R extends { readonly outcome: ProcessOutcome }>(
  info: ProcessHookInfo,
  process: () => Promise<R>,
) => Promise<R>;

export interface StoreHooks {
  /** null when no hook has aroundEnqueue: enqueues write directly. */
  readonly enqueue: EnqueueThroughHooks | null;
  /** null when no hook has aroundProcess: tasks run directly. */
  readonly process: ProcessThroughHooks | null;
  /** Tells the hooks the store opened. */
  opened(store: HookedStore): void;
  /** Tells the hooks the store it opened with is closing (nothing when it never opened). */
  closed(): void;
}

export function chainHooks(hooks: readonly TaskStoreHooks[]): StoreHooks {
  const enqueueHooks = hooks.filter((hook) => hook.aroundEnqueue);
  const processHooks = hooks.filter((hook) => hook.aroundProcess);
  let openedStore: HookedStore | null = null;
  return {
    enqueue: enqueueHooks.length === 0 ? null : (info, write, itemsOf) => enqueueThrough(enqueueHooks, info, write, itemsOf),
    process: processHooks.length === 0 ? null : (info, process) => processThrough(processHooks, info, process),
    opened: (store) => {
      openedStore = store;
      for (const hook of hooks) hook.opened?.(store);
    },
    closed: () => {
      const store = openedStore;
      openedStore = null;
      if (store) for (const hook of hooks) hook.closed?.(store);
    },
  };
}

const notCalled = (callback: string): TaskStoreError =>
  new TaskStoreError('INVALID_STATE', `a hook's ${callback} resolved without calling run: nothing was done`);
const calledTwice = (callback: string): TaskStoreError =>
  new TaskStoreError('INVALID_STATE', `a hook's ${callback} called run twice: it runs once`);

async function enqueueThrough<T>(
  hooks: readonly TaskStoreHooks[],
  info: EnqueueHookInfo,
  write: (traceContext: string | null) => Promise<T>,
  itemsOf: (written: T) => readonly TaskQueueItem[],
): Promise<T> {
  let started = false;
  let written: T | undefined;
  const step = async (index: number, traceContext: string | null): Promise<readonly TaskQueueItem[]> => {
    const hook = hooks[index];
    if (!hook?.aroundEnqueue) {
      if (started) throw calledTwice('aroundEnqueue');
      started = true;
      written = await write(checkTraceContext(traceContext));
      return itemsOf(written);
    }
    let called = false;
    const items = await hook.aroundEnqueue(info, (given) => {
      called = true;
      return step(index + 1, given ?? traceContext);
    });
    if (!called) throw notCalled('aroundEnqueue');
    return items;
  };
  await step(0, null);
  return written as T;
}

async function processThrough<R extends { readonly outcome: ProcessOutcome }>(
  hooks: readonly TaskStoreHooks[],
  info: ProcessHookInfo,
  process: () => Promise<R>,
): Promise<R> {
  let started = false;
  let result: R | undefined;
  const step = async (index: number): Promise<ProcessOutcome> => {
    const hook = hooks[index];
    if (!hook?.aroundProcess) {
      if (started) throw calledTwice('aroundProcess');
      started = true;
      result = await process();
      return result.outcome;
    }
    let called = false;
    const outcome = await hook.aroundProcess(info, () => {
      called = true;
      return step(index + 1);
    });
    if (!called) throw notCalled('aroundProcess');
    return outcome;
  };
  await step(0);
  return result as R;
}

/** What a hook gave to store with the tasks: null, or a string the column holds. */
function checkTraceContext(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || value.length > MAX_TRACE_CONTEXT_LENGTH) {
    throw invalidArgument(`hooks: aroundEnqueue must give run a string of at most ${MAX_TRACE_CONTEXT_LENGTH} characters, or null`);
  }
  return value === '' ? null : value;
}
