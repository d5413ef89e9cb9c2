/**
 * The guarded status transitions of tasks that are not running: requeue (failed/canceled →
 * queued), cancel (queued/paused/waiting → canceled) and run now (a queued task due at once).
 * One core writes any number of rows at once; the by-id methods and the bulk actions
 * (task-bulk.ts) both go through it, so a task moves the same way whichever asked.
 */
import type { Knex } from 'knex';
import { formatDetailsLine } from '../foundation/details.js';
import { TaskStoreError, notFound } from '../foundation/errors.js';
import { laterThan } from '../foundation/time.js';
import type { TaskQueueItem, TaskStatus } from '../foundation/types.js';
import { assertNonEmptyString } from '../foundation/validate.js';
import { toDate, strOrNull } from '../store/rows.js';
import type { StoreContext } from '../store/store-context.js';
import type { FlowStepHooks } from './task-queue-maintenance.js';
import type { TaskQueue } from './task-queue.js';

/** What a transition needs to know of a task: read without its parameters, output or details. */
export type TransitionRow = Pick<TaskQueueItem, 'id' | 'queueName' | 'status' | 'uniqueKey' | 'flowId' | 'claimToken' | 'updatedAt'>;

/** The columns a TransitionRow is read from. */
export const TRANSITION_COLUMNS = ['id', 'queue_name', 'status', 'unique_key', 'flow_id', 'claim_token', 'updated_at'] as const;

export function toTransitionRow(row: Record<string, unknown>): TransitionRow {
  return {
    id: String(row['id']),
    queueName: String(row['queue_name']),
    status: String(row['status']) as TaskStatus,
    uniqueKey: strOrNull(row['unique_key']),
    flowId: strOrNull(row['flow_id']),
    claimToken: strOrNull(row['claim_token']),
    updatedAt: toDate(row['updated_at']),
  };
}

/** One kind of transition: from which statuses, and what it writes (the same for every row: SQL, not values read). */
export interface Transition {
  readonly verb: 'requeue' | 'cancel' | 'run now';
  readonly from: readonly TaskStatus[];
  /** Takes the row's unique key again (requeue): a key another pending task holds skips the row. */
  readonly takesKey: boolean;
  /** Ends the task (cancel): a flow step's children count the end in the same transaction. */
  readonly ends: boolean;
  changes(knex: Knex, context: StoreContext, now: Date): Record<string, unknown>;
}

const append = (knex: Knex, context: StoreContext, message: string, now: Date) =>
  context.adapter.appendLine(knex, 'details', formatDetailsLine(message, now));

export const REQUEUE: Transition = {
  verb: 'requeue',
  from: ['failed', 'canceled'],
  takesKey: true,
  ends: false,
  changes: (knex, context, now) => ({
    // A flow step canceled while it waited waits again for the parents it still has (0 for other tasks).
    status: knex.raw(`CASE WHEN waiting_parents > 0 THEN 'waiting' ELSE 'queued' END`),
    attempts: 0,
    available_at: now,
    completed_at: null,
    claim_token: null,
    unique_key_active: knex.ref('unique_key'),
    details: append(knex, context, 'Task requeued', now),
  }),
};

/** Queued, paused and waiting tasks; a running one is canceled by TaskCancel (task-cancel.ts). */
export const CANCEL: Transition = {
  verb: 'cancel',
  from: ['queued', 'paused', 'waiting'],
  takesKey: false,
  ends: true,
  changes: (knex, context, now) => ({
    status: 'canceled',
    completed_at: now,
    unique_key_active: null,
    details: append(knex, context, 'Task canceled', now),
  }),
};

/** A queued task due later becomes due now; one due already keeps its place in line. */
export const RUN_NOW: Transition = {
  verb: 'run now',
  from: ['queued'],
  takesKey: false,
  ends: false,
  changes: (knex, context, now) => ({
    available_at: knex.raw('CASE WHEN available_at > ? THEN ? ELSE available_at END', [now, now]),
    details: append(knex, context, 'Run now requested', now),
  }),
};

/** What the core did with the rows it was given. */
export interface TransitionResult {
  readonly changed: string[];
  /** Rows not changed because another pending task holds their unique key. */
  readonly conflicts: string[];
}

export class TaskTransitions {
  readonly #ctx: StoreContext;
  readonly #queue: TaskQueue;
  readonly #announce: (queueName: string) => void;
  readonly #flows: FlowStepHooks | null;

  /** `announce` tells runners a queue has items due; `flows` lets a canceled flow step's children move on. */
  constructor(context: StoreContext, queue: TaskQueue, announce: (queueName: string) => void, flows: FlowStepHooks | null) {
    this.#ctx = context;
    this.#queue = queue;
    this.#announce = announce;
    this.#flows = flows;
  }

  /** failed/canceled → queued now, with a fresh set of attempts. */
  requeueById(id: string): Promise<TaskQueueItem> {
    return this.#byId(id, REQUEUE);
  }

  /** queued/paused (and a waiting flow step) → canceled. */
  cancelById(id: string): Promise<TaskQueueItem> {
    return this.#byId(id, CANCEL);
  }

  /** A queued task: due now (a delayed or backed-off one starts at the next claim). */
  runNowById(id: string): Promise<TaskQueueItem> {
    return this.#byId(id, RUN_NOW);
  }

  async #byId(id: string, transition: Transition): Promise<TaskQueueItem> {
    assertNonEmptyString(id, 'id');
    const current = await this.#queue.findById(id);
    if (!current) throw notFound(`task queue item '${id}' not found`);
    const { changed, conflicts } = await this.apply([current], transition);
    if (conflicts.length > 0) {
      throw new TaskStoreError(
        'ALREADY_EXISTS',
        `cannot requeue task queue item '${id}': another queued or running task holds its unique key`,
      );
    }
    if (changed.length === 0) {
      const done = transition.verb === 'cancel' ? 'canceled' : transition.verb === 'requeue' ? 'requeued' : 'made due';
      throw new TaskStoreError(
        'INVALID_STATE',
        `cannot ${transition.verb} task queue item '${id}': it is ${current.status} (only ${transition.from.join(' or ')} can be ${done})`,
      );
    }
    return (await this.#queue.findById(id)) as TaskQueueItem;
  }

  /**
   * The core: moves those of `rows` still in a `from` status, in one transaction (one UPDATE,
   * plus a flow step's release when the transition ends it). A row whose state moved on since
   * it was read is left alone; so is, for requeue, a row whose unique key another pending task
   * holds (or an earlier row of the same batch takes). Announces the queues that got due tasks.
   */
  async apply(rows: readonly TransitionRow[], transition: Transition): Promise<TransitionResult> {
    const candidates = rows.filter((row) => transition.from.includes(row.status));
    if (candidates.length === 0) return { changed: [], conflicts: [] };
    const now = this.#ctx.now();
    // updated_at only ever moves forward: later than the latest of the rows read.
    const latest = new Date(Math.max(...candidates.map((row) => row.updatedAt.getTime())));
    const { knex } = this.#ctx;
    const changes = { ...transition.changes(knex, this.#ctx, now), updated_at: laterThan(latest, now) };
    const { changed, conflicts, queues } = await knex.transaction(async (trx) => {
      const { free, taken } = transition.takesKey ? await this.#freeKeys(trx, candidates) : { free: candidates, taken: [] };
      const { written, collided } = await this.#write(trx, free, transition, changes);
      const released = transition.ends && this.#flows ? await this.#releaseSteps(trx, free, written) : new Set<string>();
      return { changed: written, conflicts: [...taken, ...collided], queues: released };
    });
    if (!transition.ends) for (const row of candidates) if (changed.includes(row.id)) queues.add(row.queueName);
    for (const queue of queues) this.#announce(queue);
    return { changed, conflicts };
  }

  /** Splits keyed rows into those whose key is free (first of the batch wins) and those whose key another pending task holds. */
  async #freeKeys(trx: Knex.Transaction, rows: readonly TransitionRow[]): Promise<{ free: TransitionRow[]; taken: string[] }> {
    const keys = [...new Set(rows.map((row) => row.uniqueKey).filter((key) => key !== null))];
    const held = new Set<string>();
    if (keys.length > 0) {
      const found = (await this.#queue.table(trx).whereIn('unique_key_active', keys).select('unique_key_active')) as {
        unique_key_active: string;
      }[];
      for (const row of found) held.add(String(row.unique_key_active));
    }
    const free: TransitionRow[] = [];
    const taken: string[] = [];
    for (const row of rows) {
      if (row.uniqueKey === null) free.push(row);
      else if (held.has(row.uniqueKey)) taken.push(row.id);
      else {
        held.add(row.uniqueKey);
        free.push(row);
      }
    }
    return { free, taken };
  }

  /**
   * One guarded UPDATE of the rows still in a `from` status; resolves the ids it wrote. With
   * RETURNING they come back; without it (MySQL), the rows are locked first and written by id.
   * A key taken between the check and the write (a concurrent enqueue) fails the statement:
   * then each keyed row is written on its own, and the one that collides is left alone.
   */
  async #write(
    trx: Knex.Transaction,
    rows: readonly TransitionRow[],
    transition: Transition,
    changes: object,
  ): Promise<{ written: string[]; collided: string[] }> {
    if (rows.length === 0) return { written: [], collided: [] };
    const once = async (db: Knex.Transaction, ids: readonly string[]): Promise<string[]> => {
      const guarded = this.#queue.table(db).whereIn('id', ids).whereIn('status', transition.from).whereNull('soft_deleted_at');
      if (this.#ctx.adapter.capabilities.returning) {
        return ((await guarded.update(changes).returning('id')) as { id: string }[]).map((row) => String(row.id));
      }
      const locked = ((await guarded.forUpdate().select('id')) as { id: string }[]).map((row) => String(row.id));
      if (locked.length > 0) await this.#queue.table(db).whereIn('id', locked).update(changes);
      return locked;
    };
    const ids = rows.map((row) => row.id);
    if (!transition.takesKey) return { written: await once(trx, ids), collided: [] };
    const isCollision = (error: unknown) => this.#ctx.adapter.isUniqueViolation(error);
    try {
      // In a savepoint: a collision leaves the transaction usable (PostgreSQL aborts it otherwise).
      return { written: await trx.transaction((savepoint) => once(savepoint, ids)), collided: [] };
    } catch (error) {
      if (!isCollision(error)) throw error;
    }
    const written: string[] = [];
    const collided: string[] = [];
    for (const id of ids) {
      try {
        written.push(...(await trx.transaction((savepoint) => once(savepoint, [id]))));
      } catch (error) {
        if (!isCollision(error)) throw error;
        collided.push(id);
      }
    }
    return { written, collided };
  }

  /** In `trx`: the canceled flow steps among `rows` count as ended for their children. */
  async #releaseSteps(trx: Knex.Transaction, rows: readonly TransitionRow[], written: readonly string[]): Promise<Set<string>> {
    const wrote = new Set(written);
    const steps = rows.filter((row) => row.flowId !== null && wrote.has(row.id)).map((row) => row.id);
    return steps.length > 0 && this.#flows ? this.#flows.stepsEnded(trx, steps) : new Set<string>();
  }
}
