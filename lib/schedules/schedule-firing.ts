/**
 * What a ScheduleRunner does to the schedule table: find due schedules, plan the ones that
 * lack a next run, and fire one occurrence exactly once.
 *
 * Firing claims the occurrence with one guarded UPDATE (next_run_at moves on only if it still
 * holds the value the runner read) and enqueues the task in the same transaction: either both
 * happen or neither does, and however many runners race, one claim wins.
 */
import type { Knex } from 'knex';
import { TaskStoreError } from '../foundation/errors.js';
import { followingRunAt, firstRunAt, isExhausted, toSchedule } from './schedule-fields.js';
import { toDateOrNull } from '../store/rows.js';
import { laterThan } from '../foundation/time.js';
import { assertStoredDate, assertInteger, assertNonEmptyString, assertPlainObject } from '../foundation/validate.js';
import type { StoreContext } from '../store/store-context.js';
import type { TaskDefinitions } from '../definitions/task-definitions.js';
import type { JsonObject, Schedule, ScheduleFireResult, TaskQueueItem } from '../foundation/types.js';

/** Enqueues one task inside the claim's transaction (the store's own enqueue). */
export type EnqueueInTransaction = (queueName: string, alias: string, params: JsonObject, trx: Knex.Transaction) => Promise<TaskQueueItem>;

/** A due schedule's position in the (next_run_at, id) order, for paging. */
export interface DueCursor {
  nextRunAt: Date;
  id: string;
}

const SKIPPED: ScheduleFireResult = Object.freeze({ outcome: 'skipped' });
const PAGE_SIZE = 100;
/** Errors that will not go away by trying again: the schedule is deactivated with the message. */
const PERMANENT_CODES = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'INVALID_STATE']);

/**
 * Where one writer at a time is the rule (SQLite), this process's schedule writes take turns:
 * a firing transaction holds the write lock across awaits, and a second connection in the
 * same process would otherwise wait for it synchronously (busy_timeout), blocking the very
 * event loop that has to finish the first one. Other processes wait on SQLite's own lock.
 */
let writeTurn: Promise<unknown> = Promise.resolve();
function inWriteTurn<T>(ctx: StoreContext, work: () => Promise<T>): Promise<T> {
  if (ctx.adapter.capabilities.concurrentWriters) return work();
  const turn = writeTurn.then(work, work);
  writeTurn = turn.catch(() => undefined);
  return turn;
}

export class ScheduleFiring {
  readonly #ctx: StoreContext;
  readonly #definitions: TaskDefinitions;

  constructor(context: StoreContext, definitions: TaskDefinitions) {
    this.#ctx = context;
    this.#definitions = definitions;
  }

  #table(knex: Knex | Knex.Transaction = this.#ctx.knex): Knex.QueryBuilder {
    return knex(this.#ctx.tables.schedule);
  }

  /** Active, live schedules with next_run_at <= now, in (next_run_at, id) order, after `after`. */
  async listDue(options: { now: Date; limit: number; after?: DueCursor }): Promise<Schedule[]> {
    assertPlainObject(options, 'scheduleListDue: options');
    assertStoredDate(options.now, 'scheduleListDue: options.now');
    assertInteger(options.limit, 'scheduleListDue: options.limit', 1, 10_000);
    const { now, limit, after } = options;
    const builder = this.#table().where('status', 'active').whereNull('soft_deleted_at').where('next_run_at', '<=', now);
    if (after) {
      builder.where((later) =>
        later
          .where('next_run_at', '>', after.nextRunAt)
          .orWhere((same) => same.where('next_run_at', after.nextRunAt).where('id', '>', after.id)),
      );
    }
    const rows = await builder.orderBy([{ column: 'next_run_at' }, { column: 'id' }]).limit(limit);
    return rows.map(toSchedule);
  }

  /** The earliest next_run_at of the active, live schedules, or null when none has one. */
  async nextDueAt(): Promise<Date | null> {
    const [row] = await this.#table().where('status', 'active').whereNull('soft_deleted_at').min({ at: 'next_run_at' });
    return toDateOrNull((row as Record<string, unknown> | undefined)?.['at']);
  }

  /**
   * Plans next_run_at of every active schedule that has none (rows written by hand or by an
   * older version), page by page. One that can never run is completed. Returns how many changed.
   */
  async setInitialRuns(): Promise<number> {
    let changed = 0;
    let afterId = '';
    for (;;) {
      const rows = await this.#table()
        .where('status', 'active')
        .whereNull('soft_deleted_at')
        .whereNull('next_run_at')
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(PAGE_SIZE);
      for (const schedule of rows.map(toSchedule)) {
        afterId = schedule.id;
        const now = this.#ctx.now();
        let nextRunAt: Date | null;
        try {
          nextRunAt = firstRunAt(schedule, now);
        } catch (error) {
          if ((await this.#deactivate(schedule, reasonOf(error), now)) !== SKIPPED) changed += 1;
          continue;
        }
        const written = await inWriteTurn(this.#ctx, () =>
          this.#table()
            .where({ id: schedule.id, status: 'active', updated_at: schedule.updatedAt })
            .whereNull('next_run_at')
            .update({
              next_run_at: nextRunAt,
              status: nextRunAt === null ? 'completed' : 'active',
              updated_at: laterThan(schedule.updatedAt, now),
            }),
        );
        changed += written;
      }
      if (rows.length < PAGE_SIZE) return changed;
    }
  }

  /**
   * Fires the due occurrence of `schedule` (as read by listDue): claims it and enqueues its
   * task in one transaction. Only the caller whose claim changed the row enqueues.
   */
  async fire(schedule: Schedule, enqueue: EnqueueInTransaction): Promise<ScheduleFireResult> {
    assertPlainObject(schedule, 'schedule');
    assertNonEmptyString(schedule.id, 'schedule.id');
    const now = this.#ctx.now();
    const dueAt = schedule.nextRunAt;
    if (schedule.status !== 'active' || schedule.softDeletedAt !== null || dueAt === null || dueAt > now) return SKIPPED;
    const updatedAt = laterThan(schedule.updatedAt, now);

    if (isExhausted(schedule, dueAt)) {
      const changes = { status: 'completed', next_run_at: null, updated_at: updatedAt } as const;
      const written = await inWriteTurn(this.#ctx, () => this.#claim(this.#table(), schedule).update(changes));
      return written === 1 ? { outcome: 'completed', schedule: { ...schedule, status: 'completed', nextRunAt: null, updatedAt } } : SKIPPED;
    }

    let following: Date | null;
    try {
      following = followingRunAt(schedule, now);
    } catch (error) {
      return this.#deactivate(schedule, reasonOf(error), now);
    }
    const definition = await this.#definitions.findById(schedule.taskDefinitionId, { includeSoftDeleted: true });
    if (!definition) return this.#deactivate(schedule, `task definition '${schedule.taskDefinitionId}' not found`, now);
    if (definition.softDeletedAt)
      return this.#deactivate(schedule, `task definition '${definition.alias}' (${definition.id}) is soft-deleted`, now);
    if (definition.status !== 'active')
      return this.#deactivate(schedule, `task definition '${definition.alias}' is ${definition.status}`, now);

    const claimed: Schedule = {
      ...schedule,
      status: following === null ? 'completed' : 'active',
      nextRunAt: following,
      lastRunAt: now,
      executionCount: schedule.executionCount + 1,
      lastError: null,
      updatedAt,
    };
    try {
      return await inWriteTurn(this.#ctx, () =>
        this.#ctx.knex.transaction(async (trx): Promise<ScheduleFireResult> => {
          const written = await this.#claim(this.#table(trx), schedule).update({
            status: claimed.status,
            next_run_at: claimed.nextRunAt,
            last_run_at: claimed.lastRunAt,
            execution_count: trx.raw('execution_count + 1'),
            last_error: null,
            updated_at: claimed.updatedAt,
          });
          if (written !== 1) return SKIPPED;
          const item = await enqueue(schedule.queueName, definition.alias, schedule.parameters, trx);
          return { outcome: 'fired', schedule: claimed, item };
        }),
      );
    } catch (error) {
      // Rolled back, so the occurrence is still due. A refusal that will not change by
      // itself (definition renamed away, bad parameters) deactivates it, once.
      if (error instanceof TaskStoreError && PERMANENT_CODES.has(error.code)) return this.#deactivate(schedule, reasonOf(error), now);
      throw error;
    }
  }

  /** The guard of every runner write: the row is still the version the runner read. */
  #claim(builder: Knex.QueryBuilder, schedule: Schedule): Knex.QueryBuilder {
    return builder
      .where({ id: schedule.id, status: 'active', next_run_at: schedule.nextRunAt, updated_at: schedule.updatedAt })
      .whereNull('soft_deleted_at');
  }

  /** Sets an unfireable schedule inactive with the reason; reported by the one caller that did it. */
  async #deactivate(schedule: Schedule, reason: string, now: Date): Promise<ScheduleFireResult> {
    const updatedAt = laterThan(schedule.updatedAt, now);
    const written = await inWriteTurn(this.#ctx, () =>
      this.#claim(this.#table(), schedule).update({ status: 'inactive', next_run_at: null, last_error: reason, updated_at: updatedAt }),
    );
    if (written !== 1) return SKIPPED;
    return { outcome: 'deactivated', schedule: { ...schedule, status: 'inactive', nextRunAt: null, lastError: reason, updatedAt }, reason };
  }
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
