/**
 * Enqueueing by alias: options validated once, the definition looked up (in the caller's
 * transaction when given), one row per parameters object inserted, and runners told once the
 * rows are visible (after the caller's commit).
 */
import { TaskStoreError, invalidArgument, notFound } from '../foundation/errors.js';
import type { PayloadLimits } from '../foundation/limits.js';
import { encodeParameters } from '../foundation/params.js';
import type { TaskDefinitions } from '../definitions/task-definitions.js';
import type { StoreEvents } from '../store/store-events.js';
import type { EnqueueThroughHooks } from '../store/store-hooks.js';
import type { KeyedEnqueue, KeyedResult } from './keyed-enqueue.js';
import { newQueueRow, queueItemFromRow, type NewQueueRow } from './queue-rows.js';
import { PRIORITY_LIMIT, resolveQueueName, type TaskQueue } from './task-queue.js';
import type {
  EnqueueOptions,
  EnqueueResult,
  JsonObject,
  TaskDefinition,
  TaskEnqueueManyOptions,
  TaskEnqueueOptions,
  TaskQueueItem,
} from '../foundation/types.js';
import {
  MAX_ATTEMPTS_LIMIT,
  MAX_DELAY_MS,
  assertInteger,
  assertKnownKeys,
  assertNonEmptyString,
  assertNonNegativeNumber,
  assertPlainObject,
  assertStoredDate,
} from '../foundation/validate.js';

const KNOWN = ['delayMs', 'runAt', 'priority', 'maxAttempts', 'uniqueKey', 'debounceMs', 'throttleMs', 'group', 'transaction'];

export function validateEnqueueOptions(options: EnqueueOptions | undefined, name: string): EnqueueOptions {
  if (options === undefined) return {};
  assertPlainObject(options, name);
  assertKnownKeys(options, KNOWN, name);
  if (options.delayMs !== undefined) assertNonNegativeNumber(options.delayMs, `${name}.delayMs`, MAX_DELAY_MS);
  if (options.runAt !== undefined) assertStoredDate(options.runAt, `${name}.runAt`);
  if (options.delayMs !== undefined && options.runAt !== undefined) throw invalidArgument(`${name}: give delayMs or runAt, not both`);
  if (options.priority !== undefined) assertInteger(options.priority, `${name}.priority`, -PRIORITY_LIMIT, PRIORITY_LIMIT);
  if (options.maxAttempts !== undefined) assertInteger(options.maxAttempts, `${name}.maxAttempts`, 1, MAX_ATTEMPTS_LIMIT);
  if (options.uniqueKey !== undefined) assertNonEmptyString(options.uniqueKey, `${name}.uniqueKey`, 255);
  validateKeyedOptions(options, name);
  if (options.group !== undefined) assertNonEmptyString(options.group, `${name}.group`, 255);
  const trx = options.transaction as unknown;
  if (trx !== undefined && (typeof trx !== 'function' || typeof (trx as { commit?: unknown }).commit !== 'function')) {
    throw invalidArgument(`${name}.transaction must be a knex transaction`);
  }
  return options;
}

/** debounceMs and throttleMs: each needs a unique key; debounceMs sets the delay itself; not both. */
function validateKeyedOptions(options: EnqueueOptions, name: string): void {
  const { debounceMs, throttleMs } = options;
  if (debounceMs === undefined && throttleMs === undefined) return;
  if (debounceMs !== undefined) assertNonNegativeNumber(debounceMs, `${name}.debounceMs`, MAX_DELAY_MS);
  if (throttleMs !== undefined) assertNonNegativeNumber(throttleMs, `${name}.throttleMs`, MAX_DELAY_MS);
  const which = debounceMs !== undefined ? 'debounceMs' : 'throttleMs';
  if (options.uniqueKey === undefined) throw invalidArgument(`${name}.${which} needs a uniqueKey: it applies to the task holding that key`);
  if (debounceMs !== undefined && throttleMs !== undefined) throw invalidArgument(`${name}: give debounceMs or throttleMs, not both`);
  if (debounceMs !== undefined && (options.delayMs !== undefined || options.runAt !== undefined)) {
    throw invalidArgument(`${name}: debounceMs sets the start (now + debounceMs); give no delayMs or runAt with it`);
  }
}

/** One row per parameters object; the stored parameters carry `task_alias`. */
export function buildEnqueueRows(
  definition: TaskDefinition,
  queueName: string,
  paramsList: unknown[],
  options: EnqueueOptions,
  now: Date,
  name: string,
  maxParametersBytes: number,
): NewQueueRow[] {
  const availableAt = options.runAt ?? new Date(now.getTime() + (options.delayMs ?? 0));
  // Array.from visits holes too: a sparse list is rejected, not skipped.
  return Array.from(paramsList, (params, index) => {
    const where = paramsList.length === 1 ? `${name}: params` : `${name}: paramsList[${index}]`;
    if (!(index in paramsList)) throw invalidArgument(`${where} is missing (a hole in a sparse array)`);
    assertPlainObject(params, where);
    const parameters = encodeParameters(params, where, maxParametersBytes, { task_alias: definition.alias });
    return newQueueRow({
      taskId: definition.id,
      queueName,
      parameters,
      maxAttempts: options.maxAttempts ?? definition.maxAttempts,
      priority: options.priority ?? 0,
      availableAt,
      uniqueKey: options.uniqueKey ?? null,
      group: options.group ?? null,
      now,
    });
  });
}

export interface EnqueueParts {
  readonly definitions: TaskDefinitions;
  readonly queue: TaskQueue;
  readonly events: StoreEvents;
  readonly limits: PayloadLimits;
  readonly keyed: KeyedEnqueue;
  /** The store's hooks around each enqueue's write (TaskStore.open `hooks`); null when none. */
  readonly enqueueHook: EnqueueThroughHooks | null;
  now(): Date;
}

export class Enqueuer {
  readonly #parts: EnqueueParts;

  constructor(parts: EnqueueParts) {
    this.#parts = parts;
  }

  /** Queues one execution per parameters object, all or none; `action` names the public method in errors. */
  async enqueue(
    action: string,
    queueName: string,
    alias: string,
    paramsList: unknown[],
    options?: EnqueueOptions,
  ): Promise<TaskQueueItem[]> {
    const { queue, resolved, rows, definitionAlias } = await this.#prepare(action, queueName, alias, paramsList, options);
    if (rows.length === 0) return [];
    const hook = this.#parts.enqueueHook;
    if (!hook) return this.#insert(queue, resolved, rows);
    const info = { queueName: queue, alias: definitionAlias, count: rows.length };
    return hook(info, (traceContext) => this.#insert(queue, resolved, withTraceContext(rows, traceContext)), sameItems);
  }

  async #insert(queue: string, resolved: EnqueueOptions, rows: NewQueueRow[]): Promise<TaskQueueItem[]> {
    await this.#parts.queue.insert(rows, resolved.transaction);
    this.#announce(queue, resolved);
    return rows.map(queueItemFromRow);
  }

  /** Options checked, the definition found and active, the rows built. */
  async #prepare(action: string, queueName: string, alias: string, paramsList: unknown[], options: EnqueueOptions | undefined) {
    const queue = resolveQueueName(queueName, `${action}: queueName`);
    assertNonEmptyString(alias, `${action}: alias`, 100);
    const resolved = validateEnqueueOptions(options, `${action}: options`);
    if (paramsList.length === 0) return { queue, resolved, rows: [], definitionAlias: alias };
    const definition = await this.#parts.definitions.findByAlias(alias, resolved.transaction);
    if (!definition) throw notFound(`no task definition with alias '${alias}'`);
    if (definition.status !== 'active') {
      throw new TaskStoreError('INVALID_STATE', `task definition '${definition.alias}' is ${definition.status}; activate it to enqueue`);
    }
    // A debounced task starts debounceMs from now, whether it is new or the queued one.
    const timing = resolved.debounceMs === undefined ? resolved : { ...resolved, delayMs: resolved.debounceMs };
    const { maxParametersBytes } = this.#parts.limits;
    const rows = buildEnqueueRows(definition, queue, paramsList, timing, this.#parts.now(), action, maxParametersBytes);
    return { queue, resolved, rows, definitionAlias: definition.alias };
  }

  /** Tells runners once the rows are visible: now, or after the caller's commit. */
  #announce(queue: string, resolved: EnqueueOptions): void {
    const announce = () => this.#parts.events.enqueued(queue);
    if (resolved.transaction) resolved.transaction.executionPromise.then(announce, () => {});
    else announce();
  }

  /** A debounced or throttled enqueue of one task (options with debounceMs or throttleMs): the item, and what happened. */
  async enqueueKeyed(action: string, queueName: string, alias: string, params: unknown, options: EnqueueOptions): Promise<EnqueueResult> {
    const prepared = await this.#prepare(action, queueName, alias, [params === undefined ? {} : params], options);
    const { queue, resolved } = prepared;
    const row = prepared.rows[0] as NewQueueRow;
    const hook = this.#parts.enqueueHook;
    const result = hook
      ? await hook(
          { queueName: queue, alias: prepared.definitionAlias, count: 1 },
          (traceContext) => this.#writeKeyed(row, resolved, traceContext),
          (written) => [written.item],
        )
      : await this.#writeKeyed(row, resolved, null);
    if (result.outcome === 'enqueued') this.#announce(queue, resolved);
    return { ...result.item, outcome: result.outcome };
  }

  #writeKeyed(row: NewQueueRow, resolved: EnqueueOptions, traceContext: string | null): Promise<KeyedResult> {
    row.trace_context = traceContext;
    const { keyed } = this.#parts;
    return resolved.debounceMs !== undefined
      ? keyed.debounce(row, resolved.transaction)
      : keyed.throttle(row, resolved.throttleMs ?? 0, row.created_at, resolved.transaction);
  }

  /** One execution: the item itself. */
  async enqueueOne(
    action: string,
    queueName: string,
    alias: string,
    params: JsonObject | undefined,
    options?: EnqueueOptions,
  ): Promise<TaskQueueItem> {
    if (options?.debounceMs !== undefined || options?.throttleMs !== undefined) {
      return this.enqueueKeyed(action, queueName, alias, params, options);
    }
    const [item] = await this.enqueue(action, queueName, alias, [params === undefined ? {} : params], options);
    return item as TaskQueueItem;
  }

  /**
   * The typed form (`store.enqueue(task, params)`): the definition is found by the handler's
   * alias, whether or not the handler is registered in this process; the queue is an option.
   */
  enqueueTask(action: string, task: { readonly alias: string }, params: unknown, options?: TaskEnqueueOptions): Promise<TaskQueueItem> {
    const [queueName, rest] = splitQueueName(action, task, options);
    return this.enqueueOne(action, queueName, task.alias, params as JsonObject, rest);
  }

  /** The typed batch form (`store.enqueueMany(task, paramsList)`). */
  enqueueTaskMany(
    action: string,
    task: { readonly alias: string },
    paramsList: unknown,
    options?: TaskEnqueueManyOptions,
  ): Promise<TaskQueueItem[]> {
    const [queueName, rest] = splitQueueName(action, task, options);
    return this.enqueueMany(action, queueName, task.alias, paramsList, rest);
  }

  /** The many-at-once form: an array of parameters objects, and no unique key. */
  enqueueMany(action: string, queueName: string, alias: string, paramsList: unknown, options?: EnqueueOptions): Promise<TaskQueueItem[]> {
    if (!Array.isArray(paramsList)) throw invalidArgument(`${action}: paramsList must be an array`);
    if (options?.uniqueKey !== undefined || options?.debounceMs !== undefined || options?.throttleMs !== undefined) {
      throw invalidArgument(`${action}: uniqueKey, debounceMs and throttleMs apply to one task; enqueue those one by one`);
    }
    return this.enqueue(action, queueName, alias, paramsList, options);
  }
}

/** The rows, each carrying the trace context the hooks gave. */
function withTraceContext(rows: NewQueueRow[], traceContext: string | null): NewQueueRow[] {
  for (const row of rows) row.trace_context = traceContext;
  return rows;
}

const sameItems = (items: TaskQueueItem[]): TaskQueueItem[] => items;

/** Checks the handler and takes `queueName` out of the typed form's options. */
function splitQueueName(action: string, task: unknown, options: TaskEnqueueOptions | undefined): [string, EnqueueOptions] {
  if (task === null || typeof task !== 'object' || typeof (task as { alias?: unknown }).alias !== 'string') {
    throw invalidArgument(`${action}: task must be a handler made by defineTask()`);
  }
  if (options === undefined) return ['', {}];
  assertPlainObject(options, `${action}: options`);
  const { queueName = '', ...rest }: TaskEnqueueOptions = options;
  return [queueName, rest];
}
