/** Shared by the schedule specs: a definition to schedule, rules, and moving next_run_at by hand. */
import { expect } from 'chai';
import type { Logger, RecurrenceRule, Schedule, ScheduleCreateInput, TaskDefinition, TaskStore } from '../../lib/index.js';
import { TABLES } from '../support/index.js';

export const DAILY: RecurrenceRule = { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z' };
export const HOURLY: RecurrenceRule = { frequency: 'hourly', startsAt: '2025-01-01T00:30:00Z' };

export async function definition(store: TaskStore, alias = 'ScheduledTask'): Promise<TaskDefinition> {
  return store.taskDefinitionCreate({ alias });
}

/** Creates an active daily schedule for `def` (fields overridable). */
export function createSchedule(store: TaskStore, def: TaskDefinition, fields: Partial<ScheduleCreateInput> = {}): Promise<Schedule> {
  return store.scheduleCreate({ name: 'nightly', taskDefinitionId: def.id, recurrenceRule: DAILY, ...fields });
}

/** Writes next_run_at directly (and status, when given), as downtime or an old row would leave it. */
export async function setNextRunAt(store: TaskStore, id: string, at: Date | null, status?: string): Promise<void> {
  const changed = await store
    .knex(TABLES.schedule)
    .where({ id })
    .update({ next_run_at: at, ...(status && { status }) });
  expect(changed, `schedule ${id} exists`).to.equal(1);
}

/** Makes a schedule due `msAgo` milliseconds ago. */
export const makeDue = (store: TaskStore, id: string, msAgo = 60_000): Promise<void> =>
  setNextRunAt(store, id, new Date(Date.now() - msAgo));

export async function reload(store: TaskStore, id: string): Promise<Schedule> {
  const schedule = await store.scheduleFindById(id);
  expect(schedule, `schedule ${id}`).to.not.equal(null);
  return schedule as Schedule;
}

/** A logger that records every call by level. */
export function recordingLogger(): Logger & { calls: { level: string; message: string }[] } {
  const calls: { level: string; message: string }[] = [];
  const record = (level: string) => (message: string) => void calls.push({ level, message: String(message) });
  return { calls, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}
