/**
 * The schedule methods of the TaskStore facade (see lib/store/store-facade.ts): CRUD of
 * schedules, and what schedule runners call to find and fire due occurrences.
 */
import type {
  JsonObject,
  Schedule,
  ScheduleCreateInput,
  ScheduleFireResult,
  ScheduleQuery,
  ScheduleUpdateInput,
  TaskQueueItem,
  EnqueueOptions,
} from '../foundation/types.js';
import { RunnerMethods } from '../store/runner-methods.js';
import type { DueCursor } from './schedule-firing.js';

export abstract class ScheduleMethods extends RunnerMethods {
  /** Queues one execution of the definition with this alias (defined by the facade). */
  abstract taskDefinitionEnqueueByAlias(
    queueName: string,
    alias: string,
    params?: JsonObject,
    options?: EnqueueOptions,
  ): Promise<TaskQueueItem>;

  /** Creates a schedule; an active one gets its nextRunAt at once. */
  scheduleCreate(schedule: ScheduleCreateInput): Promise<Schedule> {
    return this.run('scheduleCreate', () => this.parts.schedules.create(schedule));
  }

  scheduleFindById(id: string): Promise<Schedule | null> {
    return this.run('scheduleFindById', () => this.parts.schedules.findById(id));
  }

  scheduleList(query?: ScheduleQuery): Promise<Schedule[]> {
    return this.run('scheduleList', () => this.parts.schedules.list(query));
  }

  scheduleCount(query?: ScheduleQuery): Promise<number> {
    return this.run('scheduleCount', () => this.parts.schedules.count(query));
  }

  /** Changes the given fields; activating or re-timing plans nextRunAt anew. */
  scheduleUpdate(schedule: ScheduleUpdateInput): Promise<Schedule> {
    return this.run('scheduleUpdate', () => this.parts.schedules.update(schedule));
  }

  scheduleSoftDeleteById(id: string): Promise<void> {
    return this.run('scheduleSoftDeleteById', () => this.parts.schedules.softDeleteById(id));
  }

  scheduleRestoreById(id: string): Promise<Schedule> {
    return this.run('scheduleRestoreById', () => this.parts.schedules.restoreById(id));
  }

  scheduleDeleteById(id: string): Promise<void> {
    return this.run('scheduleDeleteById', () => this.parts.schedules.deleteById(id));
  }

  /** For schedule runners: due active schedules in (nextRunAt, id) order, after `after`. */
  scheduleListDue(options: { now: Date; limit: number; after?: DueCursor }): Promise<Schedule[]> {
    return this.run('scheduleListDue', () => this.parts.firing.listDue(options));
  }

  /** For schedule runners: the earliest nextRunAt of any active schedule, or null. */
  scheduleNextDueAt(): Promise<Date | null> {
    return this.run('scheduleNextDueAt', () => this.parts.firing.nextDueAt());
  }

  /** For schedule runners: plans nextRunAt of active schedules that lack one; returns how many changed. */
  scheduleSetInitialRuns(): Promise<number> {
    return this.run('scheduleSetInitialRuns', () => this.parts.firing.setInitialRuns());
  }

  /**
   * For schedule runners: fires the due occurrence of a schedule read by scheduleListDue,
   * exactly once however many runners try (see docs/schedules.md).
   */
  scheduleFire(schedule: Schedule): Promise<ScheduleFireResult> {
    return this.run('scheduleFire', () =>
      this.parts.firing.fire(schedule, (queueName, alias, params, trx) =>
        this.taskDefinitionEnqueueByAlias(queueName, alias, params, { transaction: trx }),
      ),
    );
  }

  /** Calls `listener` after a schedule is created, updated or restored through this store. Returns an unsubscribe function. */
  onSchedulesChanged(listener: () => void): () => void {
    return this.parts.events.onSchedulesChanged(listener);
  }
}
