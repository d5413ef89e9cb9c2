/**
 * Bulk actions on a filtered set of tasks: requeue, cancel and soft delete every task a list
 * filter selects, in batches. Each batch is one keyset read (at most `batchSize` rows after
 * the last id seen, in id order) and one transaction through the same code as the by-id
 * methods (task-transitions.ts, task-cancel.ts, TaskQueue.softDelete), so no statement holds
 * more than a batch of rows or locks for longer than one batch's write. Tasks created after the
 * action began are left out: it stops at the greatest id the filter matched when it began.
 */
import { invalidArgument } from '../foundation/errors.js';
import type { BulkActionOptions, BulkActionResult, TaskQueueFilter } from '../foundation/bulk-types.js';
import type { TaskStatus } from '../foundation/types.js';
import { assertBoolean, assertInteger, assertKnownKeys, assertPlainObject } from '../foundation/validate.js';
import { countOf } from '../store/query.js';
import type { StoreContext } from '../store/store-context.js';
import type { TaskCancel } from './task-cancel.js';
import type { TaskQueue } from './task-queue.js';
import { REQUEUE, TRANSITION_COLUMNS, toTransitionRow, type TaskTransitions, type TransitionRow } from './task-transitions.js';

/** Tasks per batch unless told otherwise: one read and one transaction each. */
export const BULK_BATCH_SIZE = 500;
export const MAX_BULK_BATCH_SIZE = 5_000;

/** List query keys a filter may not carry: a bulk action takes every live match, in id order. */
const NOT_FILTERS = ['limit', 'offset', 'orderBy', 'sortOrder', 'includeSoftDeleted'];

/** What one batch did: how many rows it changed, and how many of the others were unique-key conflicts. */
type BatchWork = (rows: TransitionRow[]) => Promise<{ changed: number; conflicts: number }>;

interface BulkAction {
  readonly method: string;
  /** The statuses it applies to; null: every status. */
  readonly statuses: readonly TaskStatus[] | null;
  readonly work: BatchWork;
}

export class TaskBulk {
  readonly #ctx: StoreContext;
  readonly #queue: TaskQueue;
  readonly #transitions: TaskTransitions;
  readonly #cancel: TaskCancel;

  constructor(context: StoreContext, queue: TaskQueue, transitions: TaskTransitions, cancel: TaskCancel) {
    this.#ctx = context;
    this.#queue = queue;
    this.#transitions = transitions;
    this.#cancel = cancel;
  }

  /** failed/canceled tasks of the filter → queued now, attempts reset; a task whose unique key is taken is skipped. */
  requeueMany(filter: TaskQueueFilter, options?: BulkActionOptions): Promise<BulkActionResult> {
    return this.#run(filter, options, {
      method: 'taskQueueRequeueMany',
      statuses: REQUEUE.from,
      work: async (rows) => {
        const { changed, conflicts } = await this.#transitions.apply(rows, REQUEUE);
        return { changed: changed.length, conflicts: conflicts.length };
      },
    });
  }

  /** queued/paused/waiting/running tasks of the filter → canceled, as taskQueueCancelById does each. */
  cancelMany(filter: TaskQueueFilter, options?: BulkActionOptions): Promise<BulkActionResult> {
    return this.#run(filter, options, {
      method: 'taskQueueCancelMany',
      statuses: ['queued', 'paused', 'waiting', 'running'],
      work: async (rows) => ({ changed: await this.#cancel.cancelRows(rows), conflicts: 0 }),
    });
  }

  /** Every live task of the filter, whatever its status, soft-deleted (its unique key freed). */
  softDeleteMany(filter: TaskQueueFilter, options?: BulkActionOptions): Promise<BulkActionResult> {
    return this.#run(filter, options, {
      method: 'taskQueueSoftDeleteMany',
      statuses: null,
      work: async (rows) => ({ changed: await this.#queue.softDelete(rows.map((row) => row.id)), conflicts: 0 }),
    });
  }

  async #run(filter: TaskQueueFilter, options: BulkActionOptions | undefined, action: BulkAction): Promise<BulkActionResult> {
    const { batchSize, dryRun } = resolveOptions(options, action.method);
    const matching = this.#matching(filter, action);
    if (dryRun) return { matched: countOf(await matching().count({ count: '*' })), changed: 0, skipped: 0, conflicts: 0 };
    const [bound] = (await matching().max({ id: 'id' })) as { id: unknown }[];
    if (bound?.id === null || bound?.id === undefined) return { matched: 0, changed: 0, skipped: 0, conflicts: 0 };
    const last = String(bound.id);
    const result = { matched: 0, changed: 0, skipped: 0, conflicts: 0 };
    let after: string | null = null;
    for (;;) {
      const page = matching().where('id', '<=', last).orderBy('id').limit(batchSize).select(TRANSITION_COLUMNS);
      if (after !== null) page.where('id', '>', after);
      const rows = ((await page) as Record<string, unknown>[]).map(toTransitionRow);
      if (rows.length === 0) break;
      const { changed, conflicts } = await action.work(rows);
      result.matched += rows.length;
      result.changed += changed;
      result.skipped += rows.length - changed;
      result.conflicts += conflicts;
      if (rows.length < batchSize) break;
      after = (rows[rows.length - 1] as TransitionRow).id;
    }
    return result;
  }

  /** The filter's live rows in the statuses the action applies to; a status filter outside them is refused. */
  #matching(filter: TaskQueueFilter, action: BulkAction): () => ReturnType<TaskQueue['matching']> {
    const name = `${action.method}: filter`;
    assertPlainObject(filter, name);
    for (const key of NOT_FILTERS) {
      if ((filter as Record<string, unknown>)[key] !== undefined)
        throw invalidArgument(`${name}.${key} is not a filter: a bulk action takes every live task the filter selects`);
    }
    this.#queue.matching(filter); // validated now, before anything is read or written
    const allowed = action.statuses;
    if (allowed !== null) {
      const asked = [...(filter.status === undefined ? [] : [filter.status]), ...(Array.isArray(filter.statuses) ? filter.statuses : [])];
      const outside = asked.filter((status) => !allowed.includes(status));
      if (outside.length > 0) {
        throw invalidArgument(
          `${name}: ${action.method} applies to ${allowed.join(', ')} tasks only (the filter asks for ${outside.join(', ')})`,
        );
      }
    }
    return () => {
      const builder = this.#queue.matching(filter, this.#ctx.knex);
      return allowed === null ? builder : builder.whereIn('status', allowed);
    };
  }
}

function resolveOptions(options: BulkActionOptions | undefined, method: string): { batchSize: number; dryRun: boolean } {
  if (options === undefined) return { batchSize: BULK_BATCH_SIZE, dryRun: false };
  const name = `${method}: options`;
  assertPlainObject(options, name);
  assertKnownKeys(options, ['dryRun', 'batchSize'], name);
  if (options.dryRun !== undefined) assertBoolean(options.dryRun, `${name}.dryRun`);
  if (options.batchSize !== undefined) assertInteger(options.batchSize, `${name}.batchSize`, 1, MAX_BULK_BATCH_SIZE);
  return { batchSize: options.batchSize ?? BULK_BATCH_SIZE, dryRun: options.dryRun === true };
}
