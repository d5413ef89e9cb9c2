/**
 * The queue-row repository: new rows, CRUD and queries of queue items, and the unique-key
 * guard. The claim and the writes of claimed items are in queue-leases.ts.
 */
import type { Knex } from 'knex';
import type { QueueRow } from '../../adapters/adapter.js';
import { TaskStoreError, notFound } from '../foundation/errors.js';
import { chunkByText, rowTextBytes, storableWithin } from '../foundation/limits.js';
import { encodeParameters } from '../foundation/params.js';
import { LIKE_ESCAPE, assertStorableKey, likeLiteral } from '../foundation/text.js';
import { applyFilters, applyPaging, countOf, orderColumns, validateQuery, type QuerySpec } from '../store/query.js';
import { toDate, toTaskQueueItem } from '../store/rows.js';
import { PENDING_STATUSES, newQueueRow, queueItemFromRow, type NewQueueRow } from './queue-rows.js';
import { DEFAULT_COUNT_CAP, resolveCap } from './capped-counts.js';
import type { CappedCount } from '../foundation/insight-types.js';
import { laterThan } from '../foundation/time.js';
import type { StoreContext } from '../store/store-context.js';
import {
  TASK_QUEUE_ORDER_BY,
  TASK_STATUSES,
  type TaskQueueCreateInput,
  type TaskQueueItem,
  type TaskQueueQuery,
  type TaskQueueUpdateInput,
} from '../foundation/types.js';
import {
  MAX_ATTEMPTS_LIMIT,
  assertInteger,
  assertKnownKeys,
  assertNonEmptyString,
  assertOneOf,
  assertOptionalString,
  assertPlainObject,
  assertStoredDate,
} from '../foundation/validate.js';

export const DEFAULT_QUEUE = 'default';
export const PRIORITY_LIMIT = 1_000_000;

const QUEUE_QUERY: QuerySpec = {
  name: 'task queue',
  statuses: TASK_STATUSES,
  orderBy: orderColumns(TASK_QUEUE_ORDER_BY),
  filters: {
    queueName: (builder, queueName) => {
      builder.where('queue_name', queueName);
    },
    taskId: (builder, taskId) => {
      builder.where('task_id', taskId);
    },
    // No index serves a substring: the text is matched in the rows the other filters select.
    parametersText: (builder, text) => {
      builder.whereRaw(`LOWER(parameters) LIKE LOWER(?) ESCAPE '${LIKE_ESCAPE}'`, [`%${likeLiteral(text)}%`]);
    },
    uniqueKey: (builder, key) => {
      builder.where('unique_key', key);
    },
    uniqueKeyPrefix: (builder, prefix) => {
      builder.whereRaw(`unique_key LIKE ? ESCAPE '${LIKE_ESCAPE}'`, [`${likeLiteral(prefix)}%`]);
    },
  },
};

/** '' and undefined mean the default queue; anything else must be a short string. */
export function resolveQueueName(queueName: unknown, name = 'queueName'): string {
  if (queueName === undefined || queueName === '') return DEFAULT_QUEUE;
  assertNonEmptyString(queueName, name, 100);
  return queueName;
}

/** A queueName filter of '' means the default queue, as it does everywhere else. */
function defaultQueueFilter(query: TaskQueueQuery | undefined): TaskQueueQuery | undefined {
  return query !== null && typeof query === 'object' && query.queueName === '' ? { ...query, queueName: DEFAULT_QUEUE } : query;
}

const CREATE_KEYS = [
  'taskId',
  'queueName',
  'parameters',
  'status',
  'priority',
  'maxAttempts',
  'availableAt',
  'uniqueKey',
  'group',
  'output',
  'details',
];
const UPDATE_KEYS = ['queueName', 'status', 'parameters', 'output', 'details', 'priority', 'maxAttempts', 'availableAt'];
const ENTITY_KEYS = [
  'id',
  'taskId',
  'attempts',
  'uniqueKey',
  'group',
  'startedAt',
  'completedAt',
  'heartbeatAt',
  'claimToken',
  'flowId',
  'flowKey',
  'createdAt',
  'updatedAt',
  'softDeletedAt',
  'progress',
  'outcome',
];

export class TaskQueue {
  readonly #ctx: StoreContext;
  readonly #announce: (queueName: string) => void;

  /** `announce` tells runners that a created item may be due. */
  constructor(context: StoreContext, announce: (queueName: string) => void = () => {}) {
    this.#ctx = context;
    this.#announce = announce;
  }

  table(knex: Knex | Knex.Transaction = this.#ctx.knex): Knex.QueryBuilder {
    return knex(this.#ctx.tables.taskQueue);
  }

  async create(input: TaskQueueCreateInput): Promise<TaskQueueItem> {
    const name = 'taskQueueCreate: item';
    assertPlainObject(input, name);
    assertKnownKeys(input, CREATE_KEYS, name);
    assertNonEmptyString(input.taskId, `${name}.taskId`, 36);
    this.#validateEditable(input, name);
    assertOptionalString(input.uniqueKey, `${name}.uniqueKey`, 255);
    if (input.uniqueKey !== undefined) assertStorableKey(input.uniqueKey, `${name}.uniqueKey`);
    if (input.group !== undefined) assertNonEmptyString(input.group, `${name}.group`, 255);
    const text = this.#storableText(input, name);
    const now = this.#ctx.now();
    const row = newQueueRow({
      taskId: input.taskId,
      queueName: resolveQueueName(input.queueName, `${name}.queueName`),
      status: input.status ?? 'queued',
      parameters: encodeParameters(input.parameters ?? {}, `${name}.parameters`, this.#ctx.limits.maxParametersBytes),
      maxAttempts: input.maxAttempts ?? 1,
      priority: input.priority ?? 0,
      availableAt: input.availableAt ?? now,
      uniqueKey: input.uniqueKey ?? null,
      group: input.group ?? null,
      now,
      output: text.output ?? '',
      details: text.details ?? '',
    });
    await this.insert([row]);
    this.#announce(row.queue_name);
    return queueItemFromRow(row);
  }

  /**
   * Inserts rows in chunks inside one transaction (the caller's, when given). A unique key
   * already held by a pending item rejects the whole call with ALREADY_EXISTS.
   */
  async insert(rows: NewQueueRow[], transaction?: Knex.Transaction): Promise<void> {
    const write = async (trx: Knex.Transaction) => {
      // No more text per statement than one row may carry: what the server's packet was checked for.
      const textPerStatement = rowTextBytes(this.#ctx.limits);
      for (const chunk of chunkByText(rows, 500, textPerStatement, (row) => row.parameters + row.output + row.details)) {
        const unique = chunk.some((row) => row.unique_key_active !== null);
        // A unique key that is taken skips its row (ON CONFLICT DO NOTHING, INSERT IGNORE on
        // MySQL, which keeps a PostgreSQL transaction usable); a short count is the conflict.
        const landed = await this.#insertChunk(trx, chunk, unique);
        if (unique && landed !== chunk.length) {
          const keys = chunk.map((row) => row.unique_key_active).filter((key) => key !== null);
          throw new TaskStoreError(
            'ALREADY_EXISTS',
            `a queued or running task already holds unique key ${keys.map((k) => `'${k}'`).join(', ')}`,
          );
        }
      }
    };
    if (transaction) {
      // A savepoint: a failure leaves the caller's transaction usable.
      await transaction.transaction(write);
    } else if (rows.length === 1) {
      await write(this.#ctx.knex as unknown as Knex.Transaction);
    } else {
      await this.#ctx.knex.transaction(write);
    }
  }

  /** Inserts one chunk; returns how many rows landed (all of them unless `skipConflicts`). */
  async #insertChunk(trx: Knex.Transaction, rows: NewQueueRow[], skipConflicts: boolean): Promise<number> {
    const { adapter, tables } = this.#ctx;
    // The adapter's bulk path pays off for many rows, or for a unique key (one statement
    // instead of INSERT plus count); a plain single row goes through knex as well.
    if (adapter.insertQueueRows && (rows.length > 1 || skipConflicts)) {
      return adapter.insertQueueRows(trx, tables.taskQueue, rows as unknown as QueueRow[], { skipConflicts });
    }
    if (!skipConflicts) {
      await this.table(trx).insert(rows);
      return rows.length;
    }
    await this.table(trx).insert(rows).onConflict().ignore();
    return countOf(
      await this.table(trx)
        .whereIn(
          'id',
          rows.map((row) => row.id),
        )
        .count({ count: '*' }),
    );
  }

  async findById(id: string, options: { includeSoftDeleted?: boolean } = {}): Promise<TaskQueueItem | null> {
    assertNonEmptyString(id, 'id');
    const builder = this.table().where('id', id);
    if (!options.includeSoftDeleted) builder.whereNull('soft_deleted_at');
    const row = await builder.first();
    return row ? toTaskQueueItem(row) : null;
  }

  async list(query?: TaskQueueQuery): Promise<TaskQueueItem[]> {
    const q = validateQuery(defaultQueueFilter(query), QUEUE_QUERY);
    const rows = await applyPaging(applyFilters(this.table().select('*'), q, QUEUE_QUERY), q, QUEUE_QUERY);
    return rows.map(toTaskQueueItem);
  }

  async count(query?: TaskQueueQuery): Promise<number> {
    return countOf(await this.matching(query).count({ count: '*' }));
  }

  /** The rows a list query selects (validated; its paging and order not applied), to read or count from. */
  matching(query: TaskQueueQuery | undefined, knex: Knex | Knex.Transaction = this.#ctx.knex): Knex.QueryBuilder {
    const q = validateQuery(defaultQueueFilter(query), QUEUE_QUERY);
    return applyFilters(this.table(knex), q, QUEUE_QUERY);
  }

  /** The count of `count`, reading at most cap + 1 matching rows: { count: at most cap, capped: there are more }. */
  async countCapped(query?: TaskQueueQuery, options: { cap?: number } = {}): Promise<CappedCount> {
    assertPlainObject(options, 'taskQueueCountCapped: options');
    assertKnownKeys(options, ['cap'], 'taskQueueCountCapped: options');
    const cap = resolveCap(options.cap, 'taskQueueCountCapped: options.cap') ?? DEFAULT_COUNT_CAP;
    const q = validateQuery(defaultQueueFilter(query), QUEUE_QUERY);
    const matching = applyFilters(this.table().select(this.#ctx.knex.raw('1')), q, QUEUE_QUERY).limit(cap + 1);
    const count = countOf(await this.#ctx.knex.from(matching.as('matching')).count({ count: '*' }));
    return { count: Math.min(count, cap), capped: count > cap };
  }

  /**
   * When the queue's next queued item becomes due: the earliest availableAt of its live queued
   * items, or null when it has none. One read over the claim index's entries for the queue.
   */
  async nextDueAt(queueName: string): Promise<Date | null> {
    const [row] = (await this.table()
      .where({ queue_name: resolveQueueName(queueName), status: 'queued' })
      .whereNull('soft_deleted_at')
      .min({ at: 'available_at' })) as { at: unknown }[];
    return row?.at === null || row?.at === undefined ? null : toDate(row.at);
  }

  async update(input: TaskQueueUpdateInput): Promise<TaskQueueItem> {
    const name = 'taskQueueUpdate: item';
    assertPlainObject(input, name);
    assertNonEmptyString(input.id, `${name}.id`);
    assertKnownKeys(input, [...UPDATE_KEYS, ...ENTITY_KEYS], name);
    this.#validateEditable(input, name);
    const text = this.#storableText(input, name);
    const parameters =
      input.parameters !== undefined
        ? encodeParameters(input.parameters, `${name}.parameters`, this.#ctx.limits.maxParametersBytes)
        : undefined;
    const current = await this.findById(input.id, { includeSoftDeleted: true });
    if (!current) throw notFound(`task queue item '${input.id}' not found`);
    const changes: Record<string, unknown> = { updated_at: laterThan(current.updatedAt, this.#ctx.now()) };
    if (input.queueName !== undefined) changes['queue_name'] = resolveQueueName(input.queueName, `${name}.queueName`);
    if (input.status !== undefined) {
      changes['status'] = input.status;
      changes['unique_key_active'] = PENDING_STATUSES.includes(input.status) && !current.softDeletedAt ? current.uniqueKey : null;
      if (input.status !== 'running') changes['claim_token'] = null;
    }
    if (parameters !== undefined) changes['parameters'] = parameters;
    if (text.output !== undefined) changes['output'] = text.output;
    if (text.details !== undefined) changes['details'] = text.details;
    if (input.priority !== undefined) changes['priority'] = input.priority;
    if (input.maxAttempts !== undefined) changes['max_attempts'] = input.maxAttempts;
    if (input.availableAt !== undefined) changes['available_at'] = input.availableAt;
    await guardUnique(this.#ctx, () => this.table().where('id', current.id).update(changes));
    return (await this.findById(current.id, { includeSoftDeleted: true })) as TaskQueueItem;
  }

  #validateEditable(input: Partial<TaskQueueCreateInput>, name: string): void {
    if (input.status !== undefined) assertOneOf(input.status, TASK_STATUSES, `${name}.status`);
    if (input.priority !== undefined) assertInteger(input.priority, `${name}.priority`, -PRIORITY_LIMIT, PRIORITY_LIMIT);
    if (input.maxAttempts !== undefined) assertInteger(input.maxAttempts, `${name}.maxAttempts`, 1, MAX_ATTEMPTS_LIMIT);
    if (input.availableAt !== undefined) assertStoredDate(input.availableAt, `${name}.availableAt`);
    assertOptionalString(input.output, `${name}.output`);
    assertOptionalString(input.details, `${name}.details`);
  }

  /** Output and details as they will be stored (U+0000 and lone surrogates replaced), within their limits. */
  #storableText(input: { output?: string; details?: string }, name: string): { output?: string; details?: string } {
    const { maxOutputBytes, maxDetailsBytes } = this.#ctx.limits;
    return {
      output: storableWithin(input.output, maxOutputBytes, `${name}.output`, 'maxOutputBytes'),
      details: storableWithin(input.details, maxDetailsBytes, `${name}.details`, 'maxDetailsBytes'),
    };
  }

  async deleteById(id: string): Promise<void> {
    assertNonEmptyString(id, 'id');
    if ((await this.table().where('id', id).delete()) === 0) throw notFound(`task queue item '${id}' not found`);
  }

  /** Hidden from claims, finds and lists; frees its unique key. Idempotent. */
  async softDeleteById(id: string): Promise<void> {
    assertNonEmptyString(id, 'id');
    const changed = await this.softDelete([id]);
    if (changed === 0 && !(await this.findById(id, { includeSoftDeleted: true }))) throw notFound(`task queue item '${id}' not found`);
  }

  /** Soft-deletes those of `ids` that are live, in one statement; resolves how many it deleted. */
  async softDelete(ids: readonly string[], knex: Knex | Knex.Transaction = this.#ctx.knex): Promise<number> {
    if (ids.length === 0) return 0;
    const now = this.#ctx.now();
    return this.table(knex)
      .whereIn('id', ids)
      .whereNull('soft_deleted_at')
      .update({ soft_deleted_at: now, updated_at: now, unique_key_active: null });
  }

  async restoreById(id: string): Promise<TaskQueueItem> {
    assertNonEmptyString(id, 'id');
    const current = await this.findById(id, { includeSoftDeleted: true });
    if (!current) throw notFound(`task queue item '${id}' not found`);
    if (!current.softDeletedAt) return current;
    await guardUnique(this.#ctx, () =>
      this.table()
        .where('id', id)
        .update({
          soft_deleted_at: null,
          updated_at: laterThan(current.updatedAt, this.#ctx.now()),
          unique_key_active: PENDING_STATUSES.includes(current.status) ? current.uniqueKey : null,
        }),
    );
    return (await this.findById(id)) as TaskQueueItem;
  }
}

/** Runs a write that may collide on the unique-key index; a collision is ALREADY_EXISTS. */
export async function guardUnique<T>(context: StoreContext, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (context.adapter.isUniqueViolation(error)) {
      throw new TaskStoreError('ALREADY_EXISTS', 'another queued or running task holds the same unique key', { cause: error });
    }
    throw error;
  }
}
