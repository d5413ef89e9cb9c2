/**
 * The TaskStore facade: the public API of API.md. It opens the database, builds the parts
 * once over one store context, and delegates: definitions (lib/definitions/), the queue and
 * its leases, enqueueing, maintenance and processing (lib/queue/), schedules
 * (lib/schedules/). Every call is checked for a closed store and its driver errors are
 * wrapped as TaskStoreError('DATABASE') naming the method.
 */
import type { Knex } from 'knex';
import type { AdapterCapabilities } from '../adapters/adapter.js';
import { registerHandler } from './definitions/handler-sync.js';
import type { TaskHandler } from './definitions/handler.js';
import { TaskStoreError, wrapDatabaseError } from './foundation/errors.js';
import type {
  Dialect,
  EnqueueManyOptions,
  EnqueueOptions,
  JsonCompatible,
  JsonObject,
  NoInference,
  Schedule,
  ScheduleCreateInput,
  ScheduleFireResult,
  ScheduleQuery,
  ScheduleUpdateInput,
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
import type { ExecutionResult } from './queue/task-executor.js';
import type { ProcessOptions } from './queue/task-processor.js';
import type { DueCursor } from './schedules/schedule-firing.js';
import type { EnqueuedListener } from './store/store-events.js';
import { buildStoreParts, type StoreParts } from './store/store-parts.js';
import { resolveStoreOptions, type ResolvedTaskStoreOptions } from './store/store-options.js';

export class TaskStore {
  readonly dialect: Dialect;
  readonly knex: Knex;
  readonly capabilities: AdapterCapabilities;
  readonly tableNames: ResolvedTaskStoreOptions['tables'];
  readonly logger: ResolvedTaskStoreOptions['logger'];
  readonly #options: ResolvedTaskStoreOptions;
  readonly #parts: StoreParts;
  #closed = false;

  private constructor(options: ResolvedTaskStoreOptions) {
    this.#options = options;
    this.#parts = buildStoreParts(options);
    this.knex = this.#parts.knex;
    this.dialect = this.#parts.adapter.dialect;
    this.capabilities = this.#parts.adapter.capabilities;
    this.tableNames = options.tables;
    this.logger = options.logger;
  }

  /** Opens a store: connects, checks the connection, and migrates unless automigrate is false. */
  static async open(options?: TaskStoreOptions): Promise<TaskStore> {
    const store = new TaskStore(resolveStoreOptions(options));
    try {
      await store.#run('connect', () => store.#parts.connect());
      if (store.#options.automigrate) await store.migrateUp();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Creates what is missing; resolves the names of the steps that changed the schema ([] when up to date). Safe to repeat, from two processes too. */
  migrateUp(): Promise<string[]> {
    return this.#run('migrateUp', () => this.#parts.migrations.up());
  }

  /** Drops the three tables (and everything in them). Safe to run twice. */
  async migrateDown(): Promise<void> {
    await this.#run('migrateDown', () => this.#parts.migrations.down());
  }

  /** Closes the connections taskstore opened; a caller's Knex instance is left open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#parts.events.close();
    if (this.#parts.ownsKnex) await this.knex.destroy();
  }

  isClosed(): boolean {
    return this.#closed;
  }

  // --- task definitions ---------------------------------------------------------------

  taskDefinitionCreate(definition: TaskDefinitionCreateInput): Promise<TaskDefinition> {
    return this.#run('taskDefinitionCreate', () => this.#parts.definitions.create(definition));
  }

  taskDefinitionFindById(id: string): Promise<TaskDefinition | null> {
    return this.#run('taskDefinitionFindById', () => this.#parts.definitions.findById(id));
  }

  taskDefinitionFindByAlias(alias: string): Promise<TaskDefinition | null> {
    return this.#run('taskDefinitionFindByAlias', () => this.#parts.definitions.findByAlias(alias));
  }

  taskDefinitionList(query?: TaskDefinitionQuery): Promise<TaskDefinition[]> {
    return this.#run('taskDefinitionList', () => this.#parts.definitions.list(query));
  }

  taskDefinitionCount(query?: TaskDefinitionQuery): Promise<number> {
    return this.#run('taskDefinitionCount', () => this.#parts.definitions.count(query));
  }

  taskDefinitionUpdate(definition: TaskDefinitionUpdateInput): Promise<TaskDefinition> {
    return this.#run('taskDefinitionUpdate', () => this.#parts.definitions.update(definition));
  }

  taskDefinitionSoftDeleteById(id: string): Promise<void> {
    return this.#run('taskDefinitionSoftDeleteById', () => this.#parts.definitions.softDeleteById(id));
  }

  taskDefinitionRestoreById(id: string): Promise<TaskDefinition> {
    return this.#run('taskDefinitionRestoreById', () => this.#parts.definitions.restoreById(id));
  }

  taskDefinitionDeleteById(id: string): Promise<void> {
    return this.#run('taskDefinitionDeleteById', () => this.#parts.definitions.deleteById(id));
  }

  // --- handlers -------------------------------------------------------------------------

  /**
   * Registers a handler for its alias (replacing an earlier one) and makes sure a live
   * definition exists: created when `createIfMissing`, else NOT_FOUND. An existing
   * definition gets the handler's title, description and maxAttempts.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a handler of any params type
  taskHandlerAdd(handler: TaskHandler<any>, createIfMissing = false): Promise<TaskDefinition> {
    return this.#run('taskHandlerAdd', () =>
      registerHandler(this.#parts.definitions, this.#parts.handlers, handler as TaskHandler, createIfMissing),
    );
  }

  /** The registered handlers, each alias once. */
  taskHandlerList(): TaskHandler[] {
    return this.#parts.handlers.list();
  }

  /**
   * Runs a registered handler directly, outside the queue (the CLI's `run`): ctx.task is
   * null, log lines go to the logger. Resolves true when the handler succeeded.
   */
  taskHandlerExecute(alias: string, params: JsonObject = {}, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.#parts.processor.runDirectly(alias, params, options.signal);
  }

  // --- enqueueing -----------------------------------------------------------------------

  /** Queues one execution of the definition with this alias. */
  taskDefinitionEnqueueByAlias(queueName: string, alias: string, params?: JsonObject, options?: EnqueueOptions): Promise<TaskQueueItem> {
    const action = 'taskDefinitionEnqueueByAlias';
    return this.#run(action, () => this.#parts.enqueuer.enqueueOne(action, queueName, alias, params, options));
  }

  /** Queues many executions at once: all of them or, on any error, none. */
  taskDefinitionEnqueueManyByAlias(
    queueName: string,
    alias: string,
    paramsList: JsonObject[],
    options?: EnqueueManyOptions,
  ): Promise<TaskQueueItem[]> {
    const action = 'taskDefinitionEnqueueManyByAlias';
    return this.#run(action, () => this.#parts.enqueuer.enqueueMany(action, queueName, alias, paramsList, options));
  }

  /** Queues one execution of the task's definition (found by its alias; registering it is not needed), `params` typed by defineTask<P>. */
  enqueue<P extends JsonCompatible<P>>(task: TaskHandler<P>, params: NoInference<P>, options?: TaskEnqueueOptions): Promise<TaskQueueItem> {
    return this.#run('enqueue', () => this.#parts.enqueuer.enqueueTask('enqueue', task, params, options));
  }

  /** `enqueue` for many parameters objects at once: all of them or, on any error, none. */
  enqueueMany<P extends JsonCompatible<P>>(
    task: TaskHandler<P>,
    paramsList: readonly NoInference<P>[],
    options?: TaskEnqueueManyOptions,
  ): Promise<TaskQueueItem[]> {
    return this.#run('enqueueMany', () => this.#parts.enqueuer.enqueueTaskMany('enqueueMany', task, paramsList, options));
  }

  /**
   * Calls `listener(queueName)` after every enqueue through this store (after the caller's
   * transaction commits, when one was given), and on hints of other processes' enqueues ('*'
   * for "some queue"). Returns an unsubscribe function.
   */
  onEnqueued(listener: EnqueuedListener): () => void {
    return this.#parts.events.onEnqueued(listener);
  }

  // --- the task queue -------------------------------------------------------------------

  taskQueueCreate(item: TaskQueueCreateInput): Promise<TaskQueueItem> {
    return this.#run('taskQueueCreate', () => this.#parts.queue.create(item));
  }

  taskQueueFindById(id: string): Promise<TaskQueueItem | null> {
    return this.#run('taskQueueFindById', () => this.#parts.queue.findById(id));
  }

  taskQueueList(query?: TaskQueueQuery): Promise<TaskQueueItem[]> {
    return this.#run('taskQueueList', () => this.#parts.queue.list(query));
  }

  taskQueueCount(query?: TaskQueueQuery): Promise<number> {
    return this.#run('taskQueueCount', () => this.#parts.queue.count(query));
  }

  taskQueueUpdate(item: TaskQueueUpdateInput): Promise<TaskQueueItem> {
    return this.#run('taskQueueUpdate', () => this.#parts.queue.update(item));
  }

  taskQueueDeleteById(id: string): Promise<void> {
    return this.#run('taskQueueDeleteById', () => this.#parts.queue.deleteById(id));
  }

  taskQueueSoftDeleteById(id: string): Promise<void> {
    return this.#run('taskQueueSoftDeleteById', () => this.#parts.queue.softDeleteById(id));
  }

  taskQueueRestoreById(id: string): Promise<TaskQueueItem> {
    return this.#run('taskQueueRestoreById', () => this.#parts.queue.restoreById(id));
  }

  /** Atomically claims the next due item of a queue (queued → running), or null. */
  async taskQueueClaimNext(queueName: string): Promise<TaskQueueItem | null> {
    return (await this.taskQueueClaim(queueName, 1))[0] ?? null;
  }

  /** When the queue's next queued item becomes due (it may be due already), or null when none is queued. Runners sleep until then. */
  taskQueueNextDueAt(queueName: string): Promise<Date | null> {
    return this.#run('taskQueueNextDueAt', () => this.#parts.queue.nextDueAt(queueName));
  }

  /** Claims up to `limit` due items in one statement, in claim order. */
  taskQueueClaim(queueName: string, limit: number): Promise<TaskQueueItem[]> {
    return this.#run('taskQueueClaim', async () => {
      const items = await this.#parts.leases.claim(queueName, limit);
      this.#parts.processor.noteClaimed(items);
      return items;
    });
  }

  /**
   * Processes one item: a queued item is claimed first; a running one must hold its claim.
   * Resolves true when the handler succeeded.
   */
  async taskQueueProcessTask(item: TaskQueueItem, options: ProcessOptions = {}): Promise<boolean> {
    const result = await this.#run('taskQueueProcessTask', () => this.#parts.processor.execute(item, options));
    return result !== null && result.outcome.status === 'success';
  }

  /** Claims the next item, processes it and returns its final row (null when none was due). */
  async taskQueueProcessNext(queueName: string, options: ProcessOptions = {}): Promise<TaskQueueItem | null> {
    const item = await this.taskQueueClaimNext(queueName);
    if (!item) return null;
    await this.#run('taskQueueProcessNext', () => this.#parts.processor.execute(item, options));
    return this.#run('taskQueueProcessNext', () => this.#parts.queue.findById(item.id, { includeSoftDeleted: true }));
  }

  /**
   * The executor behind processTask and the runners: returns how the attempt ended, or
   * null when the item's claim was already lost and the handler was not run.
   */
  taskQueueExecute(item: TaskQueueItem, options: ProcessOptions = {}): Promise<ExecutionResult | null> {
    return this.#run('taskQueueExecute', () => this.#parts.processor.execute(item, options));
  }

  /** Gives claimed items that were never started back to the queue (attempts restored). */
  taskQueueRelease(items: readonly TaskQueueItem[]): Promise<number> {
    return this.#run('taskQueueRelease', () => this.#parts.leases.release(items));
  }

  /** Refreshes the heartbeat of running items this process holds; returns how many still hold their claim. */
  taskQueueHeartbeat(items: readonly TaskQueueItem[]): Promise<number> {
    return this.#run('taskQueueHeartbeat', () => this.#parts.leases.heartbeat(items));
  }

  /**
   * Reclaims running items whose heartbeat is older than `minutes`: back to queued while
   * attempts remain, else failed. '' means the default queue, null every queue.
   */
  taskQueueUnstuck(queueName: string | null, minutes: number): Promise<number> {
    return this.#run('taskQueueUnstuck', () => this.#parts.maintenance.unstuck(queueName, minutes));
  }

  taskQueueRequeueById(id: string): Promise<TaskQueueItem> {
    return this.#run('taskQueueRequeueById', () => this.#parts.maintenance.requeueById(id));
  }

  taskQueueCancelById(id: string): Promise<TaskQueueItem> {
    return this.#run('taskQueueCancelById', () => this.#parts.maintenance.cancelById(id));
  }

  taskQueueStats(options?: { queueName?: string }): Promise<TaskQueueStats> {
    return this.#run('taskQueueStats', () => this.#parts.maintenance.stats(options));
  }

  taskQueuePurge(options: TaskQueuePurgeOptions): Promise<number> {
    return this.#run('taskQueuePurge', () => this.#parts.maintenance.purge(options));
  }

  // --- schedules ----------------------------------------------------------------------

  /** Creates a schedule; an active one gets its nextRunAt at once. */
  scheduleCreate(schedule: ScheduleCreateInput): Promise<Schedule> {
    return this.#run('scheduleCreate', () => this.#parts.schedules.create(schedule));
  }

  scheduleFindById(id: string): Promise<Schedule | null> {
    return this.#run('scheduleFindById', () => this.#parts.schedules.findById(id));
  }

  scheduleList(query?: ScheduleQuery): Promise<Schedule[]> {
    return this.#run('scheduleList', () => this.#parts.schedules.list(query));
  }

  scheduleCount(query?: ScheduleQuery): Promise<number> {
    return this.#run('scheduleCount', () => this.#parts.schedules.count(query));
  }

  /** Changes the given fields; activating or re-timing plans nextRunAt anew. */
  scheduleUpdate(schedule: ScheduleUpdateInput): Promise<Schedule> {
    return this.#run('scheduleUpdate', () => this.#parts.schedules.update(schedule));
  }

  scheduleSoftDeleteById(id: string): Promise<void> {
    return this.#run('scheduleSoftDeleteById', () => this.#parts.schedules.softDeleteById(id));
  }

  scheduleRestoreById(id: string): Promise<Schedule> {
    return this.#run('scheduleRestoreById', () => this.#parts.schedules.restoreById(id));
  }

  scheduleDeleteById(id: string): Promise<void> {
    return this.#run('scheduleDeleteById', () => this.#parts.schedules.deleteById(id));
  }

  /** For schedule runners: due active schedules in (nextRunAt, id) order, after `after`. */
  scheduleListDue(options: { now: Date; limit: number; after?: DueCursor }): Promise<Schedule[]> {
    return this.#run('scheduleListDue', () => this.#parts.firing.listDue(options));
  }

  /** For schedule runners: the earliest nextRunAt of any active schedule, or null. */
  scheduleNextDueAt(): Promise<Date | null> {
    return this.#run('scheduleNextDueAt', () => this.#parts.firing.nextDueAt());
  }

  /** For schedule runners: plans nextRunAt of active schedules that lack one; returns how many changed. */
  scheduleSetInitialRuns(): Promise<number> {
    return this.#run('scheduleSetInitialRuns', () => this.#parts.firing.setInitialRuns());
  }

  /**
   * For schedule runners: fires the due occurrence of a schedule read by scheduleListDue,
   * exactly once however many runners try (see docs/schedules.md).
   */
  scheduleFire(schedule: Schedule): Promise<ScheduleFireResult> {
    return this.#run('scheduleFire', () =>
      this.#parts.firing.fire(schedule, (queueName, alias, params, trx) =>
        this.taskDefinitionEnqueueByAlias(queueName, alias, params, { transaction: trx }),
      ),
    );
  }

  /** Calls `listener` after a schedule is created, updated or restored through this store. Returns an unsubscribe function. */
  onSchedulesChanged(listener: () => void): () => void {
    return this.#parts.events.onSchedulesChanged(listener);
  }

  // --- internals ------------------------------------------------------------------------

  async #run<T>(action: string, work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new TaskStoreError('INVALID_STATE', `${action}: the store is closed`);
    try {
      return await work();
    } catch (error) {
      throw wrapDatabaseError(error, action);
    }
  }
}
