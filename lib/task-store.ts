/**
 * The TaskStore facade: the public API of API.md. It opens the database and delegates to the
 * parts built once over one store context: definitions (lib/definitions/), the queue and its
 * leases, enqueueing, maintenance and processing (lib/queue/). The flow methods, grouped reads,
 * queue settings methods, schedule methods and the ground floor (closing, the schema, `run`)
 * are inherited: lib/flows/flow-methods.ts, lib/queue/bulk-methods.ts, lib/queue/insight-methods.ts,
 * lib/queue/queue-settings-methods.ts, lib/schedules/schedule-methods.ts,
 * lib/store/store-facade.ts. Every call goes through `run`, which refuses a closed store and
 * wraps driver errors as TaskStoreError('DATABASE') naming the method.
 */
import { registerHandler } from './definitions/handler-sync.js';
import type { TaskHandler } from './definitions/handler.js';
import type {
  DebouncedEnqueueOptions,
  DebouncedTaskEnqueueOptions,
  EnqueueManyOptions,
  EnqueueOptions,
  EnqueueResult,
  JsonCompatible,
  JsonObject,
  NoInference,
  TaskDefinition,
  TaskDefinitionCreateInput,
  TaskDefinitionQuery,
  TaskDefinitionUpdateInput,
  TaskEnqueueManyOptions,
  TaskEnqueueOptions,
  TaskQueueCreateInput,
  TaskQueueItem,
  TaskQueuePurgeOptions,
  TaskQueueQuery,
  TaskQueueStats,
  TaskQueueUpdateInput,
  TaskStoreOptions,
} from './foundation/types.js';
import type { CappedCount } from './foundation/insight-types.js';
import type { ExecutionResult } from './queue/task-executor.js';
import type { ExecuteItemOptions, ProcessOptions } from './queue/task-processor.js';
import { FlowMethods } from './flows/flow-methods.js';
import type { ClaimLostListener, EnqueuedListener } from './store/store-events.js';
import { resolveStoreOptions, type ResolvedTaskStoreOptions } from './store/store-options.js';

export class TaskStore extends FlowMethods {
  private constructor(options: ResolvedTaskStoreOptions) {
    super(options);
  }

  /** Opens a store: connects, checks the connection, and migrates unless automigrate is false. */
  static async open(options?: TaskStoreOptions): Promise<TaskStore> {
    const store = new TaskStore(resolveStoreOptions(options));
    try {
      await store.run('connect', () => store.parts.connect());
      if (store.options.automigrate) await store.migrateUp();
    } catch (error) {
      await store.close();
      throw error;
    }
    store.parts.hooks.opened(store);
    return store;
  }

  // --- task definitions ---------------------------------------------------------------

  taskDefinitionCreate(definition: TaskDefinitionCreateInput): Promise<TaskDefinition> {
    return this.run('taskDefinitionCreate', () => this.parts.definitions.create(definition));
  }

  taskDefinitionFindById(id: string): Promise<TaskDefinition | null> {
    return this.run('taskDefinitionFindById', () => this.parts.definitions.findById(id));
  }

  taskDefinitionFindByAlias(alias: string): Promise<TaskDefinition | null> {
    return this.run('taskDefinitionFindByAlias', () => this.parts.definitions.findByAlias(alias));
  }

  taskDefinitionList(query?: TaskDefinitionQuery): Promise<TaskDefinition[]> {
    return this.run('taskDefinitionList', () => this.parts.definitions.list(query));
  }

  taskDefinitionCount(query?: TaskDefinitionQuery): Promise<number> {
    return this.run('taskDefinitionCount', () => this.parts.definitions.count(query));
  }

  taskDefinitionUpdate(definition: TaskDefinitionUpdateInput): Promise<TaskDefinition> {
    return this.run('taskDefinitionUpdate', () => this.parts.definitions.update(definition));
  }

  taskDefinitionSoftDeleteById(id: string): Promise<void> {
    return this.run('taskDefinitionSoftDeleteById', () => this.parts.definitions.softDeleteById(id));
  }

  taskDefinitionRestoreById(id: string): Promise<TaskDefinition> {
    return this.run('taskDefinitionRestoreById', () => this.parts.definitions.restoreById(id));
  }

  taskDefinitionDeleteById(id: string): Promise<void> {
    return this.run('taskDefinitionDeleteById', () => this.parts.definitions.deleteById(id));
  }

  // --- handlers -------------------------------------------------------------------------

  /**
   * Registers a handler for its alias (replacing an earlier one) and makes sure a live
   * definition exists: created when `createIfMissing`, else NOT_FOUND. An existing
   * definition gets the handler's title, description and maxAttempts.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a handler of any params type
  taskHandlerAdd(handler: TaskHandler<any>, createIfMissing = false): Promise<TaskDefinition> {
    return this.run('taskHandlerAdd', () =>
      registerHandler(this.parts.definitions, this.parts.handlers, handler as TaskHandler, createIfMissing),
    );
  }

  /** The registered handlers, each alias once. */
  taskHandlerList(): TaskHandler[] {
    return this.parts.handlers.list();
  }

  /**
   * Runs a registered handler directly, outside the queue (the CLI's `run`): ctx.task is
   * null, log lines go to the logger. Resolves true when the handler succeeded.
   */
  taskHandlerExecute(alias: string, params: JsonObject = {}, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.parts.processor.runDirectly(alias, params, options.signal);
  }

  // --- enqueueing -----------------------------------------------------------------------

  /**
   * Queues one execution of the definition with this alias. With `debounceMs` or `throttleMs`
   * (and a `uniqueKey`), the result also says what happened: `outcome` 'enqueued', 'debounced' or 'throttled'.
   */
  taskDefinitionEnqueueByAlias(
    queueName: string,
    alias: string,
    params: JsonObject | undefined,
    options: DebouncedEnqueueOptions,
  ): Promise<EnqueueResult>;
  taskDefinitionEnqueueByAlias(queueName: string, alias: string, params?: JsonObject, options?: EnqueueOptions): Promise<TaskQueueItem>;
  taskDefinitionEnqueueByAlias(queueName: string, alias: string, params?: JsonObject, options?: EnqueueOptions): Promise<TaskQueueItem> {
    const action = 'taskDefinitionEnqueueByAlias';
    return this.run(action, () => this.parts.enqueuer.enqueueOne(action, queueName, alias, params, options));
  }

  /** Queues many executions at once: all of them or, on any error, none. */
  taskDefinitionEnqueueManyByAlias(
    queueName: string,
    alias: string,
    paramsList: JsonObject[],
    options?: EnqueueManyOptions,
  ): Promise<TaskQueueItem[]> {
    const action = 'taskDefinitionEnqueueManyByAlias';
    return this.run(action, () => this.parts.enqueuer.enqueueMany(action, queueName, alias, paramsList, options));
  }

  /**
   * Queues one execution of the task's definition (found by its alias; registering it is not
   * needed), `params` typed by defineTask<P>. With `debounceMs` or `throttleMs` (and a
   * `uniqueKey`), the result also says what happened (`outcome`).
   */
  enqueue<P extends JsonCompatible<P>>(
    task: TaskHandler<P>,
    params: NoInference<P>,
    options: DebouncedTaskEnqueueOptions,
  ): Promise<EnqueueResult>;
  enqueue<P extends JsonCompatible<P>>(task: TaskHandler<P>, params: NoInference<P>, options?: TaskEnqueueOptions): Promise<TaskQueueItem>;
  enqueue<P extends JsonCompatible<P>>(task: TaskHandler<P>, params: NoInference<P>, options?: TaskEnqueueOptions): Promise<TaskQueueItem> {
    return this.run('enqueue', () => this.parts.enqueuer.enqueueTask('enqueue', task, params, options));
  }

  /** `enqueue` for many parameters objects at once: all of them or, on any error, none. */
  enqueueMany<P extends JsonCompatible<P>>(
    task: TaskHandler<P>,
    paramsList: readonly NoInference<P>[],
    options?: TaskEnqueueManyOptions,
  ): Promise<TaskQueueItem[]> {
    return this.run('enqueueMany', () => this.parts.enqueuer.enqueueTaskMany('enqueueMany', task, paramsList, options));
  }

  /**
   * Calls `listener(queueName)` after every enqueue through this store (after the caller's
   * transaction commits, when one was given), and on hints of other processes' enqueues ('*'
   * for "some queue"). Returns an unsubscribe function.
   */
  onEnqueued(listener: EnqueuedListener): () => void {
    return this.parts.events.onEnqueued(listener);
  }

  /**
   * Calls `listener({ id, claimToken, reason })` when this store learns that a claim it may
   * hold is gone: a cancel through this store, a heartbeat that found the claim lost
   * (canceled or reclaimed), or (PostgreSQL, while a runner keeps the change feed open) a
   * cancel in another process. Runners use it to drop prefetched items. Returns an unsubscribe function.
   */
  onClaimLost(listener: ClaimLostListener): () => void {
    return this.parts.events.onClaimLost(listener);
  }

  // --- the task queue -------------------------------------------------------------------

  taskQueueCreate(item: TaskQueueCreateInput): Promise<TaskQueueItem> {
    return this.run('taskQueueCreate', () => this.parts.queue.create(item));
  }

  taskQueueFindById(id: string): Promise<TaskQueueItem | null> {
    return this.run('taskQueueFindById', () => this.parts.queue.findById(id));
  }

  taskQueueList(query?: TaskQueueQuery): Promise<TaskQueueItem[]> {
    return this.run('taskQueueList', () => this.parts.queue.list(query));
  }

  taskQueueCount(query?: TaskQueueQuery): Promise<number> {
    return this.run('taskQueueCount', () => this.parts.queue.count(query));
  }

  /**
   * Counts like taskQueueCount, but reads at most `cap + 1` matching rows (default cap
   * 10,000, at most 1,000,000): `{ count, capped }`, count at most cap, capped when there are
   * more. What a list's "1–50 of 10,000+" needs, at the cost of a page of rows.
   */
  taskQueueCountCapped(query?: TaskQueueQuery, options?: { cap?: number }): Promise<CappedCount> {
    return this.run('taskQueueCountCapped', () => this.parts.queue.countCapped(query, options));
  }

  taskQueueUpdate(item: TaskQueueUpdateInput): Promise<TaskQueueItem> {
    return this.run('taskQueueUpdate', () => this.parts.queue.update(item));
  }

  taskQueueDeleteById(id: string): Promise<void> {
    return this.run('taskQueueDeleteById', () => this.parts.queue.deleteById(id));
  }

  taskQueueSoftDeleteById(id: string): Promise<void> {
    return this.run('taskQueueSoftDeleteById', () => this.parts.queue.softDeleteById(id));
  }

  taskQueueRestoreById(id: string): Promise<TaskQueueItem> {
    return this.run('taskQueueRestoreById', () => this.parts.queue.restoreById(id));
  }

  /** Atomically claims the next due item of a queue (queued → running), or null. */
  async taskQueueClaimNext(queueName: string): Promise<TaskQueueItem | null> {
    return (await this.taskQueueClaim(queueName, 1))[0] ?? null;
  }

  /** When the queue's next queued item becomes due (it may be due already), or null when none is queued. Runners sleep until then. */
  taskQueueNextDueAt(queueName: string): Promise<Date | null> {
    return this.run('taskQueueNextDueAt', () => this.parts.queue.nextDueAt(queueName));
  }

  /** Claims up to `limit` due items, in claim order, within the queue's settings (none from a paused queue). */
  taskQueueClaim(queueName: string, limit: number): Promise<TaskQueueItem[]> {
    return this.run('taskQueueClaim', async () => {
      const { items } = await this.parts.claims.claim(queueName, limit);
      this.parts.processor.noteClaimed(items);
      return items;
    });
  }

  /**
   * Processes one item: a queued item is claimed first; a running one must hold its claim.
   * Resolves true when the handler succeeded.
   */
  async taskQueueProcessTask(item: TaskQueueItem, options: ProcessOptions = {}): Promise<boolean> {
    const result = await this.run('taskQueueProcessTask', () => this.parts.processor.execute(item, keepRow(options)));
    return result !== null && result.outcome.status === 'success';
  }

  /** Claims the next item, processes it and returns its final row (null when none was due). */
  async taskQueueProcessNext(queueName: string, options: ProcessOptions = {}): Promise<TaskQueueItem | null> {
    const item = await this.taskQueueClaimNext(queueName);
    if (!item) return null;
    await this.run('taskQueueProcessNext', () => this.parts.processor.execute(item, keepRow(options)));
    return this.run('taskQueueProcessNext', () => this.parts.queue.findById(item.id, { includeSoftDeleted: true }));
  }

  /**
   * The executor behind processTask and the runners: returns how the attempt ended, or
   * null when the item's claim was already lost and the handler was not run. With
   * `removeOnSuccess` (what a runner with that option passes), a success deletes the item's row.
   */
  taskQueueExecute(item: TaskQueueItem, options: ExecuteItemOptions = {}): Promise<ExecutionResult | null> {
    return this.run('taskQueueExecute', () => this.parts.processor.execute(item, options));
  }

  /** Gives claimed items that were never started back to the queue (attempts restored). */
  taskQueueRelease(items: readonly TaskQueueItem[]): Promise<number> {
    return this.run('taskQueueRelease', () => this.parts.leases.release(items));
  }

  /** Refreshes the heartbeat of running items this process holds; returns how many still hold their claim. */
  taskQueueHeartbeat(items: readonly TaskQueueItem[]): Promise<number> {
    return this.run('taskQueueHeartbeat', () => this.parts.leases.heartbeat(items));
  }

  /**
   * Reclaims running items whose heartbeat is older than `minutes`: back to queued while
   * attempts remain, else failed. '' means the default queue, null every queue.
   */
  taskQueueUnstuck(queueName: string | null, minutes: number): Promise<number> {
    return this.run('taskQueueUnstuck', () => this.parts.maintenance.unstuck(queueName, minutes));
  }

  taskQueueRequeueById(id: string): Promise<TaskQueueItem> {
    return this.run('taskQueueRequeueById', () => this.parts.transitions.requeueById(id));
  }

  /**
   * Cancels a task that has not ended. Queued or paused: canceled at once. Running: canceled at
   * once as well (its claim ends), and its handler's ctx.signal aborts with a ClaimLostError, in
   * whichever process it runs; its late result is not recorded. Resolves the canceled item.
   */
  taskQueueCancelById(id: string): Promise<TaskQueueItem> {
    return this.run('taskQueueCancelById', () => this.parts.cancel.cancelById(id));
  }

  taskQueueStats(options?: { queueName?: string }): Promise<TaskQueueStats> {
    return this.run('taskQueueStats', () => this.parts.maintenance.stats(options));
  }

  taskQueuePurge(options: TaskQueuePurgeOptions): Promise<number> {
    return this.run('taskQueuePurge', () => this.parts.maintenance.purge(options));
  }
}

/** processTask and processNext keep a success's row whatever their options carry: removeOnSuccess is taskQueueExecute's. */
const keepRow = (options: ProcessOptions): ExecuteItemOptions => ({ ...options, removeOnSuccess: false });
