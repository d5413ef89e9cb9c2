/**
 * The TaskStore facade: the public API of API.md, delegating to the definitions and queue
 * repositories, the handler registry and the executor. It validates, wraps driver errors as
 * TaskStoreError('DATABASE'), and announces enqueues so runners wake at once.
 */
import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { resolveDatabase } from '../adapters/index.js';
import type { Adapter, AdapterCapabilities, ChangeFeed } from '../adapters/adapter.js';
import { migrateDown, migrateUp } from '../migrations/index.js';
import type { ExecutionResult } from './queue/task-executor.js';
import { buildEnqueueRows, queueItemFromRow, validateEnqueueOptions } from './queue/enqueue.js';
import { TaskStoreError, invalidArgument, notFound, wrapDatabaseError } from './foundation/errors.js';
import { HandlerRegistry } from './definitions/handler-registry.js';
import type { TaskHandler } from './definitions/handler.js';
import { resolveStoreOptions, type ResolvedTaskStoreOptions } from './store/store-options.js';
import type { StoreContext } from './store/store-context.js';
import { TaskDefinitions } from './definitions/task-definitions.js';
import { TaskQueue, resolveQueueName } from './queue/task-queue.js';
import { TaskQueueMaintenance } from './queue/task-queue-maintenance.js';
import { TaskProcessor, type ProcessOptions } from './queue/task-processor.js';
// schedules
import { ScheduleFiring, type DueCursor } from './schedules/schedule-firing.js';
import { Schedules } from './schedules/schedules.js';
import type { Schedule, ScheduleCreateInput, ScheduleFireResult, ScheduleQuery, ScheduleUpdateInput } from './foundation/types.js';
import type {
  Dialect,
  EnqueueOptions,
  JsonObject,
  TaskDefinition,
  TaskDefinitionCreateInput,
  TaskDefinitionQuery,
  TaskDefinitionUpdateInput,
  TaskQueueCreateInput,
  TaskQueueItem,
  TaskQueuePurgeOptions,
  TaskQueueQuery,
  TaskQueueStats,
  TaskQueueUpdateInput,
  TaskStoreOptions,
} from './foundation/types.js';
import { assertDate, assertInteger, assertNonEmptyString, assertPlainObject } from './foundation/validate.js';

export const MAX_CLAIM_BATCH = 1000;

export class TaskStore {
  readonly dialect: Dialect;
  readonly knex: Knex;
  readonly #options: ResolvedTaskStoreOptions;
  readonly #adapter: Adapter;
  readonly #ownsKnex: boolean;
  readonly #definitions: TaskDefinitions;
  readonly #queue: TaskQueue;
  readonly #maintenance: TaskQueueMaintenance;
  readonly #handlers = new HandlerRegistry();
  readonly #processor: TaskProcessor;
  readonly #events = new EventEmitter();
  /** Wake-up hints from other processes, kept open while anyone listens for enqueues. */
  #changeFeed: ChangeFeed | null = null;
  #closed = false;

  private constructor(options: ResolvedTaskStoreOptions) {
    this.#options = options;
    const { knex, adapter, owned } = resolveDatabase(options.database);
    this.knex = knex;
    this.#adapter = adapter;
    this.#ownsKnex = owned;
    this.dialect = adapter.dialect;
    const context: StoreContext = {
      knex,
      adapter,
      tables: options.tables,
      logger: options.logger,
      asyncStateCommits: adapter.capabilities.asyncCommit && !options.synchronousStateWrites,
      now: () => new Date(),
    };
    this.#definitions = new TaskDefinitions(context);
    this.#queue = new TaskQueue(context);
    this.#maintenance = new TaskQueueMaintenance(context, this.#queue);
    this.#processor = new TaskProcessor({
      queue: this.#queue,
      definitions: this.#definitions,
      handlers: this.#handlers,
      logger: options.logger,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
    });
    this.#events.setMaxListeners(0);
  }

  /** Opens a store: connects, checks the connection, and migrates unless automigrate is false. */
  static async open(options?: TaskStoreOptions): Promise<TaskStore> {
    const store = new TaskStore(resolveStoreOptions(options));
    try {
      await store.#run('connect', () => store.knex.raw('SELECT 1'));
      if (store.#options.automigrate) await store.migrateUp();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  get capabilities(): AdapterCapabilities {
    return this.#adapter.capabilities;
  }

  get tableNames(): ResolvedTaskStoreOptions['tables'] {
    return this.#options.tables;
  }

  get logger(): ResolvedTaskStoreOptions['logger'] {
    return this.#options.logger;
  }

  /** Creates the tables and indexes that are missing. Safe to run twice, or from two processes. */
  async migrateUp(): Promise<void> {
    await this.#run('migrateUp', () => migrateUp(this.knex, this.#adapter, this.#options.tables));
  }

  /** Drops the three tables (and everything in them). Safe to run twice. */
  async migrateDown(): Promise<void> {
    await this.#run('migrateDown', () => migrateDown(this.knex, this.#adapter, this.#options.tables));
  }

  /** Closes the connections taskstore opened; a caller's Knex instance is left open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.emit('close');
    this.#events.removeAllListeners();
    await this.#closeChangeFeed();
    if (this.#ownsKnex) await this.knex.destroy();
  }

  isClosed(): boolean {
    return this.#closed;
  }

  // --- task definitions ---------------------------------------------------------------

  taskDefinitionCreate(definition: TaskDefinitionCreateInput): Promise<TaskDefinition> {
    return this.#run('taskDefinitionCreate', () => this.#definitions.create(definition));
  }

  taskDefinitionFindById(id: string): Promise<TaskDefinition | null> {
    return this.#run('taskDefinitionFindById', () => this.#definitions.findById(id));
  }

  taskDefinitionFindByAlias(alias: string): Promise<TaskDefinition | null> {
    return this.#run('taskDefinitionFindByAlias', () => this.#definitions.findByAlias(alias));
  }

  taskDefinitionList(query?: TaskDefinitionQuery): Promise<TaskDefinition[]> {
    return this.#run('taskDefinitionList', () => this.#definitions.list(query));
  }

  taskDefinitionCount(query?: TaskDefinitionQuery): Promise<number> {
    return this.#run('taskDefinitionCount', () => this.#definitions.count(query));
  }

  taskDefinitionUpdate(definition: TaskDefinitionUpdateInput): Promise<TaskDefinition> {
    return this.#run('taskDefinitionUpdate', () => this.#forget(this.#definitions.update(definition)));
  }

  taskDefinitionSoftDeleteById(id: string): Promise<void> {
    return this.#run('taskDefinitionSoftDeleteById', () => this.#forget(this.#definitions.softDeleteById(id)));
  }

  taskDefinitionRestoreById(id: string): Promise<TaskDefinition> {
    return this.#run('taskDefinitionRestoreById', () => this.#forget(this.#definitions.restoreById(id)));
  }

  taskDefinitionDeleteById(id: string): Promise<void> {
    return this.#run('taskDefinitionDeleteById', () => this.#forget(this.#definitions.deleteById(id)));
  }

  // --- handlers -------------------------------------------------------------------------

  /**
   * Registers a handler for its alias (replacing an earlier one) and makes sure a live
   * definition exists: created when `createIfMissing`, else NOT_FOUND. An existing
   * definition gets the handler's title, description and maxAttempts.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a handler of any params type
  taskHandlerAdd(handler: TaskHandler<any>, createIfMissing = false): Promise<TaskDefinition> {
    return this.#run('taskHandlerAdd', async () => {
      if (handler === null || typeof handler !== 'object' || typeof handler.handle !== 'function') {
        throw invalidArgument('taskHandlerAdd: handler must come from defineTask()');
      }
      const wanted = { title: handler.title, description: handler.description, maxAttempts: handler.maxAttempts };
      let definition = await this.#definitions.findByAlias(handler.alias);
      if (!definition) {
        if (!createIfMissing) throw notFound(`no task definition with alias '${handler.alias}' (pass createIfMissing to create it)`);
        try {
          definition = await this.#definitions.create({ alias: handler.alias, ...wanted });
        } catch (error) {
          // Another process registered the same handler a moment ago.
          if (!(error instanceof TaskStoreError && error.code === 'ALREADY_EXISTS')) throw error;
          definition = await this.#definitions.findByAlias(handler.alias);
          if (!definition) throw error;
        }
      }
      const current = definition;
      const stale = (Object.keys(wanted) as (keyof typeof wanted)[]).some((key) => current[key] !== wanted[key]);
      if (stale) definition = await this.#forget(this.#definitions.update({ id: current.id, ...wanted }));
      this.#handlers.add(handler as TaskHandler);
      return definition;
    });
  }

  /** The registered handlers, each alias once. */
  taskHandlerList(): TaskHandler[] {
    return this.#handlers.list();
  }

  /**
   * Runs a registered handler directly, outside the queue (the CLI's `run`): ctx.task is
   * null, log lines go to the logger. Resolves true when the handler succeeded.
   */
  async taskHandlerExecute(alias: string, params: JsonObject = {}, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    assertNonEmptyString(alias, 'alias', 100);
    assertPlainObject(params, 'params');
    return this.#processor.runDirectly(alias, params, options.signal);
  }

  // --- enqueueing -----------------------------------------------------------------------

  /** Queues one execution of the definition with this alias. */
  async taskDefinitionEnqueueByAlias(
    queueName: string,
    alias: string,
    params: JsonObject = {},
    options?: EnqueueOptions,
  ): Promise<TaskQueueItem> {
    const [item] = await this.#enqueue('taskDefinitionEnqueueByAlias', queueName, alias, [params], options);
    return item as TaskQueueItem;
  }

  /** Queues many executions at once: all of them or, on any error, none. */
  taskDefinitionEnqueueManyByAlias(
    queueName: string,
    alias: string,
    paramsList: JsonObject[],
    options?: Omit<EnqueueOptions, 'uniqueKey'>,
  ): Promise<TaskQueueItem[]> {
    if (!Array.isArray(paramsList)) {
      return Promise.reject(invalidArgument(`taskDefinitionEnqueueManyByAlias: paramsList must be an array`));
    }
    if ((options as EnqueueOptions | undefined)?.uniqueKey !== undefined) {
      return Promise.reject(invalidArgument('taskDefinitionEnqueueManyByAlias: uniqueKey applies to one task; enqueue those one by one'));
    }
    return this.#enqueue('taskDefinitionEnqueueManyByAlias', queueName, alias, paramsList, options);
  }

  #enqueue(action: string, queueName: string, alias: string, paramsList: unknown[], options?: EnqueueOptions): Promise<TaskQueueItem[]> {
    return this.#run(action, async () => {
      const queue = resolveQueueName(queueName, `${action}: queueName`);
      assertNonEmptyString(alias, `${action}: alias`, 100);
      const resolved = validateEnqueueOptions(options, `${action}: options`);
      if (paramsList.length === 0) return [];
      const definition = await this.#definitions.findByAlias(alias, resolved.transaction);
      if (!definition) throw notFound(`no task definition with alias '${alias}'`);
      if (definition.status !== 'active') {
        throw new TaskStoreError('INVALID_STATE', `task definition '${definition.alias}' is ${definition.status}; activate it to enqueue`);
      }
      const rows = buildEnqueueRows(definition, queue, paramsList, resolved, new Date(), action);
      await this.#queue.insert(rows, resolved.transaction);
      const announce = () => this.#events.emit('enqueued', queue);
      if (resolved.transaction) resolved.transaction.executionPromise.then(announce, () => {});
      else announce();
      return rows.map(queueItemFromRow);
    });
  }

  /**
   * Calls `listener(queueName)` after every enqueue through this store (after the caller's
   * transaction commits, when one was given). Returns an unsubscribe function.
   */
  onEnqueued(listener: (queueName: string) => void): () => void {
    this.#events.on('enqueued', listener);
    if (!this.#changeFeed && !this.#closed) {
      // Other processes' enqueues arrive as hints ('*' = some queue changed).
      this.#changeFeed = this.#adapter.watchChanges(this.knex, this.#options.tables, {
        onChange: (queueName) => this.#events.emit('enqueued', queueName),
        onError: (error) => this.#options.logger.warn('change feed trouble (runners keep polling)', error),
      });
    }
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#events.off('enqueued', listener);
      if (this.#events.listenerCount('enqueued') === 0) {
        this.#closeChangeFeed().catch((error: unknown) => this.#options.logger.warn('closing the change feed failed', error));
      }
    };
  }

  #closeChangeFeed(): Promise<void> {
    const feed = this.#changeFeed;
    this.#changeFeed = null;
    return feed ? feed.close() : Promise.resolve();
  }

  // --- the task queue -------------------------------------------------------------------

  taskQueueCreate(item: TaskQueueCreateInput): Promise<TaskQueueItem> {
    return this.#run('taskQueueCreate', async () => {
      const created = await this.#queue.create(item);
      this.#events.emit('enqueued', created.queueName);
      return created;
    });
  }

  taskQueueFindById(id: string): Promise<TaskQueueItem | null> {
    return this.#run('taskQueueFindById', () => this.#queue.findById(id));
  }

  taskQueueList(query?: TaskQueueQuery): Promise<TaskQueueItem[]> {
    return this.#run('taskQueueList', () => this.#queue.list(query));
  }

  taskQueueCount(query?: TaskQueueQuery): Promise<number> {
    return this.#run('taskQueueCount', () => this.#queue.count(query));
  }

  taskQueueUpdate(item: TaskQueueUpdateInput): Promise<TaskQueueItem> {
    return this.#run('taskQueueUpdate', () => this.#queue.update(item));
  }

  taskQueueDeleteById(id: string): Promise<void> {
    return this.#run('taskQueueDeleteById', () => this.#queue.deleteById(id));
  }

  taskQueueSoftDeleteById(id: string): Promise<void> {
    return this.#run('taskQueueSoftDeleteById', () => this.#queue.softDeleteById(id));
  }

  taskQueueRestoreById(id: string): Promise<TaskQueueItem> {
    return this.#run('taskQueueRestoreById', () => this.#queue.restoreById(id));
  }

  /** Atomically claims the next due item of a queue (queued → running), or null. */
  async taskQueueClaimNext(queueName: string): Promise<TaskQueueItem | null> {
    const [item] = await this.taskQueueClaim(queueName, 1);
    return item ?? null;
  }

  /** Claims up to `limit` due items in one statement, in claim order. */
  taskQueueClaim(queueName: string, limit: number): Promise<TaskQueueItem[]> {
    return this.#run('taskQueueClaim', async () => {
      const queue = resolveQueueName(queueName);
      assertInteger(limit, 'limit', 1, MAX_CLAIM_BATCH);
      const items = await this.#queue.claim(queue, limit);
      this.#processor.noteClaimed(items);
      return items;
    });
  }

  /**
   * Processes one item: a queued item is claimed first; a running one must hold its claim.
   * Resolves true when the handler succeeded.
   */
  async taskQueueProcessTask(item: TaskQueueItem, options: ProcessOptions = {}): Promise<boolean> {
    const result = await this.taskQueueExecute(item, options);
    return result !== null && result.outcome.status === 'success';
  }

  /** Claims the next item, processes it and returns its final row (null when none was due). */
  async taskQueueProcessNext(queueName: string, options: ProcessOptions = {}): Promise<TaskQueueItem | null> {
    const item = await this.taskQueueClaimNext(queueName);
    if (!item) return null;
    await this.taskQueueExecute(item, options);
    return this.#run('taskQueueProcessNext', () => this.#queue.findById(item.id, { includeSoftDeleted: true }));
  }

  /**
   * The executor behind processTask and the runners: returns how the attempt ended, or
   * null when the item's claim was already lost and the handler was not run.
   */
  taskQueueExecute(item: TaskQueueItem, options: ProcessOptions = {}): Promise<ExecutionResult | null> {
    return this.#run('taskQueueProcessTask', async () => {
      assertPlainObject(item, 'item');
      assertNonEmptyString(item.id, 'item.id');
      return this.#processor.execute(item, options);
    });
  }

  /** Gives claimed items that were never started back to the queue (attempts restored). */
  taskQueueRelease(items: readonly TaskQueueItem[]): Promise<number> {
    return this.#run('taskQueueRelease', async () => {
      const released = await this.#queue.release(items);
      if (released > 0) this.#events.emit('enqueued', items[0]?.queueName ?? '*');
      return released;
    });
  }

  /** Refreshes the heartbeat of running items this process holds; returns how many still hold their claim. */
  taskQueueHeartbeat(items: readonly TaskQueueItem[]): Promise<number> {
    return this.#run('taskQueueHeartbeat', () => this.#queue.heartbeat(items));
  }

  /**
   * Reclaims running items whose heartbeat is older than `minutes`: back to queued while
   * attempts remain, else failed. '' means the default queue, null every queue.
   */
  taskQueueUnstuck(queueName: string | null, minutes: number): Promise<number> {
    return this.#run('taskQueueUnstuck', async () => {
      const count = await this.#maintenance.unstuck(queueName === null ? null : resolveQueueName(queueName), minutes);
      if (count > 0) this.#events.emit('enqueued', queueName ?? '*');
      return count;
    });
  }

  taskQueueRequeueById(id: string): Promise<TaskQueueItem> {
    return this.#run('taskQueueRequeueById', async () => {
      const item = await this.#maintenance.requeueById(id);
      this.#events.emit('enqueued', item.queueName);
      return item;
    });
  }

  taskQueueCancelById(id: string): Promise<TaskQueueItem> {
    return this.#run('taskQueueCancelById', () => this.#maintenance.cancelById(id));
  }

  taskQueueStats(options?: { queueName?: string }): Promise<TaskQueueStats> {
    return this.#run('taskQueueStats', () => this.#maintenance.stats(options));
  }

  taskQueuePurge(options: TaskQueuePurgeOptions): Promise<number> {
    return this.#run('taskQueuePurge', () => this.#maintenance.purge(options));
  }

  // --- schedules ----------------------------------------------------------------------
  // Schedule CRUD and what ScheduleRunner needs (lib/schedules.ts, lib/schedule-firing.ts).

  #scheduleParts: { schedules: Schedules; firing: ScheduleFiring } | null = null;

  get #schedules(): { schedules: Schedules; firing: ScheduleFiring } {
    if (!this.#scheduleParts) {
      const context: StoreContext = {
        knex: this.knex,
        adapter: this.#adapter,
        tables: this.#options.tables,
        logger: this.#options.logger,
        asyncStateCommits: false,
        now: () => new Date(),
      };
      const definitions = new TaskDefinitions(context);
      this.#scheduleParts = { schedules: new Schedules(context, definitions), firing: new ScheduleFiring(context, definitions) };
    }
    return this.#scheduleParts;
  }

  #schedulesChanged<T>(result: T): T {
    this.#events.emit('schedules-changed');
    return result;
  }

  /** Creates a schedule; an active one gets its nextRunAt at once. */
  scheduleCreate(schedule: ScheduleCreateInput): Promise<Schedule> {
    return this.#run('scheduleCreate', async () => this.#schedulesChanged(await this.#schedules.schedules.create(schedule)));
  }

  scheduleFindById(id: string): Promise<Schedule | null> {
    return this.#run('scheduleFindById', () => this.#schedules.schedules.findById(id));
  }

  scheduleList(query?: ScheduleQuery): Promise<Schedule[]> {
    return this.#run('scheduleList', () => this.#schedules.schedules.list(query));
  }

  scheduleCount(query?: ScheduleQuery): Promise<number> {
    return this.#run('scheduleCount', () => this.#schedules.schedules.count(query));
  }

  /** Changes the given fields; activating or re-timing plans nextRunAt anew. */
  scheduleUpdate(schedule: ScheduleUpdateInput): Promise<Schedule> {
    return this.#run('scheduleUpdate', async () => this.#schedulesChanged(await this.#schedules.schedules.update(schedule)));
  }

  scheduleSoftDeleteById(id: string): Promise<void> {
    return this.#run('scheduleSoftDeleteById', () => this.#schedules.schedules.softDeleteById(id));
  }

  scheduleRestoreById(id: string): Promise<Schedule> {
    return this.#run('scheduleRestoreById', async () => this.#schedulesChanged(await this.#schedules.schedules.restoreById(id)));
  }

  scheduleDeleteById(id: string): Promise<void> {
    return this.#run('scheduleDeleteById', () => this.#schedules.schedules.deleteById(id));
  }

  /** For schedule runners: due active schedules in (nextRunAt, id) order, after `after`. */
  scheduleListDue(options: { now: Date; limit: number; after?: DueCursor }): Promise<Schedule[]> {
    return this.#run('scheduleListDue', async () => {
      assertPlainObject(options, 'scheduleListDue: options');
      assertDate(options.now, 'scheduleListDue: options.now');
      assertInteger(options.limit, 'scheduleListDue: options.limit', 1, 10_000);
      return this.#schedules.firing.listDue(options.now, options.limit, options.after);
    });
  }

  /** For schedule runners: the earliest nextRunAt of any active schedule, or null. */
  scheduleNextDueAt(): Promise<Date | null> {
    return this.#run('scheduleNextDueAt', () => this.#schedules.firing.nextDueAt());
  }

  /** For schedule runners: plans nextRunAt of active schedules that lack one; returns how many changed. */
  scheduleSetInitialRuns(): Promise<number> {
    return this.#run('scheduleSetInitialRuns', () => this.#schedules.firing.setInitialRuns());
  }

  /**
   * For schedule runners: fires the due occurrence of a schedule read by scheduleListDue,
   * exactly once however many runners try (see docs/schedules.md).
   */
  scheduleFire(schedule: Schedule): Promise<ScheduleFireResult> {
    return this.#run('scheduleFire', async () => {
      assertPlainObject(schedule, 'schedule');
      assertNonEmptyString(schedule.id, 'schedule.id');
      return this.#schedules.firing.fire(schedule, (queueName, alias, params, trx) =>
        this.taskDefinitionEnqueueByAlias(queueName, alias, params, { transaction: trx }),
      );
    });
  }

  /** Calls `listener` after a schedule is created, updated or restored through this store. Returns an unsubscribe function. */
  onSchedulesChanged(listener: () => void): () => void {
    this.#events.on('schedules-changed', listener);
    return () => this.#events.off('schedules-changed', listener);
  }

  // --- end of schedules -----------------------------------------------------------------

  // --- internals ------------------------------------------------------------------------

  /** Local writes to definitions invalidate the processing cache at once. */
  async #forget<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      this.#processor.forgetDefinitions();
    }
  }

  async #run<T>(action: string, work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new TaskStoreError('INVALID_STATE', `${action}: the store is closed`);
    try {
      return await work();
    } catch (error) {
      throw wrapDatabaseError(error, action);
    }
  }
}
