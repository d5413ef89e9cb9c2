/**
 * Canceling a task in any state that has not ended: a queued or paused one is canceled at
 * once (TaskTransitions); a running one is canceled by one write that ends its claim
 * (status canceled, completed_at, claim token cleared), after which its handler is told
 * through ctx.signal: in this process at once, in others through the change feed where the
 * database notifies (PostgreSQL) and else at their next heartbeat. The handler's own finish
 * comes too late: it is fenced by the token the cancel cleared.
 */
import type { Knex } from 'knex';
import { formatDetailsLine } from '../foundation/details.js';
import { TaskStoreError, isTaskStoreError, notFound } from '../foundation/errors.js';
import { laterThan } from '../foundation/time.js';
import type { TaskQueueItem } from '../foundation/types.js';
import { assertNonEmptyString } from '../foundation/validate.js';
import type { StoreContext } from '../store/store-context.js';
import type { LostClaim } from '../store/store-events.js';
import type { TaskQueue } from './task-queue.js';
import { CANCEL, type TaskTransitions, type TransitionRow } from './task-transitions.js';

/** A task's state may move between the read and the guarded write (a claim, a finish): read again this often. */
const CANCEL_ROUNDS = 5;

export const CANCELED_WHILE_RUNNING = 'Task canceled while running';

const CANCELABLE: ReadonlySet<string> = new Set(['queued', 'paused', 'waiting', 'running']);

/** How a flow step's end reaches its children: `write` ends the step; when it did, they count the end (one transaction). */
export interface StepEnd {
  endWith(id: string, write: (trx: Knex.Transaction) => Promise<boolean>): Promise<boolean>;
}

export class TaskCancel {
  readonly #ctx: StoreContext;
  readonly #queue: TaskQueue;
  readonly #transitions: TaskTransitions;
  readonly #lost: (lost: LostClaim) => void;
  readonly #steps: StepEnd | undefined;

  /**
   * `lost` tells this process's executions and runners that the claim is gone; `steps` lets a
   * running flow step's children meet its cancel as a failure, in the same transaction.
   */
  constructor(context: StoreContext, queue: TaskQueue, transitions: TaskTransitions, lost: (lost: LostClaim) => void, steps?: StepEnd) {
    this.#ctx = context;
    this.#queue = queue;
    this.#transitions = transitions;
    this.#lost = lost;
    this.#steps = steps;
  }

  /** queued/paused → canceled; running → canceled, and its handler's ctx.signal aborts. */
  async cancelById(id: string): Promise<TaskQueueItem> {
    assertNonEmptyString(id, 'id');
    for (let round = 1; ; round++) {
      const current = await this.#queue.findById(id);
      if (!current) throw notFound(`task queue item '${id}' not found`);
      if (!CANCELABLE.has(current.status)) {
        throw new TaskStoreError(
          'INVALID_STATE',
          `cannot cancel task queue item '${id}': it is ${current.status} (only queued, paused, waiting or running tasks can be canceled)`,
        );
      }
      const canceled = await this.#cancel(current, round < CANCEL_ROUNDS);
      if (canceled) return canceled;
      if (round >= CANCEL_ROUNDS) {
        throw new TaskStoreError('INVALID_STATE', `cannot cancel task queue item '${id}': its state kept changing; try again`);
      }
    }
  }

  /** One guarded write from the state read; null when the state moved on meanwhile and another round may follow. */
  async #cancel(current: TaskQueueItem, mayRetry: boolean): Promise<TaskQueueItem | null> {
    if (current.status === 'running' && current.claimToken !== null) return this.#cancelRunning(current);
    try {
      return await this.#transitions.cancelById(current.id);
    } catch (error) {
      // Claimed (or finished) between the read and the write: look again.
      if (mayRetry && isTaskStoreError(error, 'INVALID_STATE')) return null;
      throw error;
    }
  }

  /**
   * Cancels those of `rows` (read just now) that have not ended: the others in one write, each
   * running one by its own guarded write, which tells its holder. Resolves how many it
   * canceled; a row whose state moved on meanwhile is left alone (taskQueueCancelMany).
   */
  async cancelRows(rows: readonly TransitionRow[]): Promise<number> {
    const running = rows.filter((row) => row.status === 'running' && row.claimToken !== null);
    let canceled = (await this.#transitions.apply(rows, CANCEL)).changed.length;
    for (const row of running) if (await this.#cancelRunning(row)) canceled += 1;
    return canceled;
  }

  /** The guarded write ending a running item's claim; null when the claim moved on meanwhile. */
  async #cancelRunning(current: TransitionRow): Promise<TaskQueueItem | null> {
    const { knex, adapter, tables } = this.#ctx;
    const token = current.claimToken as string;
    const now = this.#ctx.now();
    const write = async (db: Knex): Promise<boolean> =>
      (await db(tables.taskQueue)
        .where({ id: current.id, claim_token: token })
        .update({
          status: 'canceled',
          completed_at: now,
          claim_token: null,
          unique_key_active: null,
          updated_at: laterThan(current.updatedAt, now),
          details: adapter.appendLine(knex, 'details', formatDetailsLine(CANCELED_WHILE_RUNNING, now)),
        })) > 0;
    const steps = this.#steps;
    const changed = current.flowId !== null && steps ? await steps.endWith(current.id, write) : await write(knex);
    if (!changed) return null;
    this.#lost({ id: current.id, claimToken: token, reason: 'canceled' });
    if (adapter.notifyCanceled) {
      // The cancel stands either way: a holder that misses the notification learns at its next heartbeat.
      await adapter
        .notifyCanceled(knex, tables, current.id, token)
        .catch((error: unknown) => this.#ctx.logger.warn(`could not announce the cancel of task ${current.id}`, error));
    }
    return (await this.#queue.findById(current.id)) as TaskQueueItem;
  }
}
