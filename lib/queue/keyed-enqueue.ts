/**
 * Debounced and throttled enqueues (docs/live-control.md), both on a unique key, atomic
 * however many enqueue the same key at once: the unique index of pending keys
 * (`unique_key_active`) decides every race, and a round that lost one looks again.
 *
 * - Debounce: one guarded UPDATE gives the queued (not yet running) task holding the key the
 *   new parameters and start time; when none is queued, the new row is inserted (ON CONFLICT
 *   DO NOTHING). A conflict means another enqueue got there first: the next round updates
 *   its row. A running or paused holder is left alone: ALREADY_EXISTS, as for any unique key.
 * - Throttle: a task with the key that is pending, or started less than throttleMs ago, drops
 *   the enqueue (the result names that task); otherwise the new row is inserted, and a
 *   conflict means another enqueue got there first (the next round finds its row).
 *
 * Inside the caller's transaction the rounds run in a savepoint; after a conflict the holder
 * is read with a locking read, which sees rows committed after a repeatable-read snapshot.
 */
import type { Knex } from 'knex';
import { retryTransient } from '../../adapters/adapter.js';
import { TaskStoreError, isTaskStoreError } from '../foundation/errors.js';
import type { EnqueueOutcome, TaskQueueItem } from '../foundation/types.js';
import { toTaskQueueItem } from '../store/rows.js';
import type { StoreContext } from '../store/store-context.js';
import { queueItemFromRow, type NewQueueRow } from './queue-rows.js';
import type { TaskQueue } from './task-queue.js';

/** Rounds before giving up on a key that keeps changing hands (each lost round means another enqueue won). */
const ROUNDS = 10;

export interface KeyedResult {
  readonly item: TaskQueueItem;
  readonly outcome: EnqueueOutcome;
}

type Db = Knex | Knex.Transaction;

export class KeyedEnqueue {
  readonly #ctx: StoreContext;
  readonly #queue: TaskQueue;

  constructor(context: StoreContext, queue: TaskQueue) {
    this.#ctx = context;
    this.#queue = queue;
  }

  /** `row` is the new task, due at now + debounceMs, with its unique key. */
  debounce(row: NewQueueRow, transaction?: Knex.Transaction): Promise<KeyedResult> {
    return this.#rounds(transaction, async (db, locking) => {
      const key = row.unique_key as string;
      const updated = await this.#queue.table(db).where({ unique_key_active: key, status: 'queued' }).update({
        parameters: row.parameters,
        available_at: row.available_at,
        updated_at: row.updated_at,
        trace_context: row.trace_context,
      });
      if (updated > 0) {
        const item = await this.#holder(db, key, false);
        if (item) return { item, outcome: 'debounced' };
      }
      if (await this.#insert(row, db)) return { item: queueItemFromRow(row), outcome: 'enqueued' };
      const holder = await this.#holder(db, key, locking);
      if (holder && holder.status !== 'queued') {
        throw new TaskStoreError(
          'ALREADY_EXISTS',
          `a ${holder.status} task holds unique key '${key}'; a debounced enqueue only updates a queued one`,
        );
      }
      return null; // queued (or gone) since: the next round updates it (or inserts)
    });
  }

  /** `row` is the new task, with its unique key; `now` − throttleMs is the period's start. */
  throttle(row: NewQueueRow, throttleMs: number, now: Date, transaction?: Knex.Transaction): Promise<KeyedResult> {
    const since = new Date(now.getTime() - throttleMs);
    return this.#rounds(transaction, async (db, locking) => {
      const key = row.unique_key as string;
      const recent = this.#queue
        .table(db)
        .where('unique_key', key)
        .whereNull('soft_deleted_at')
        .where((where) => where.whereNotNull('unique_key_active').orWhere('started_at', '>', since))
        .orderBy('id', 'desc')
        .first();
      const found = (await (locking ? recent.forUpdate() : recent)) as Record<string, unknown> | undefined;
      if (found) return { item: toTaskQueueItem(found), outcome: 'throttled' };
      if (await this.#insert(row, db)) return { item: queueItemFromRow(row), outcome: 'enqueued' };
      return null; // another enqueue of the key won: the next round finds its row
    });
  }

  /**
   * Runs `round` until it decides. Each round after the first reads with a lock (a current read).
   * Outside a transaction a transient failure runs it all again: a row this call inserted
   * before the connection broke is then found as the key's holder, never inserted twice.
   */
  async #rounds(
    transaction: Knex.Transaction | undefined,
    round: (db: Db, locking: boolean) => Promise<KeyedResult | null>,
  ): Promise<KeyedResult> {
    const work = async (db: Db) => {
      for (let attempt = 1; attempt <= ROUNDS; attempt++) {
        const result = await round(db, attempt > 1);
        if (result) return result;
      }
      throw new TaskStoreError('ALREADY_EXISTS', 'the unique key kept changing hands; try again');
    };
    if (transaction) return transaction.transaction((savepoint) => work(savepoint));
    return retryTransient(this.#ctx.adapter, () => work(this.#ctx.knex));
  }

  /** Inserts the row unless its key is held; true when it landed. */
  async #insert(row: NewQueueRow, db: Db): Promise<boolean> {
    try {
      await this.#queue.insert([row], db === this.#ctx.knex ? undefined : (db as Knex.Transaction));
      return true;
    } catch (error) {
      if (isTaskStoreError(error, 'ALREADY_EXISTS')) return false;
      throw error;
    }
  }

  /** The task holding the key now, if any. */
  async #holder(db: Db, key: string, locking: boolean): Promise<TaskQueueItem | null> {
    const query = this.#queue.table(db).where('unique_key_active', key).first();
    const row = (await (locking ? query.forUpdate() : query)) as Record<string, unknown> | undefined;
    return row ? toTaskQueueItem(row) : null;
  }
}
