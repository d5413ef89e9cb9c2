/**
 * The fields of a schedule: checks for create and update input, the row ↔ entity mapping,
 * and when an active schedule runs next. The timing itself (rule, cron, zone) is checked
 * and evaluated by lib/schedules/recurrence.ts; this file adds the schedule's own limits on top.
 */
import { DateTime } from 'luxon';
import { invalidArgument } from '../foundation/errors.js';
import type { PayloadLimits } from '../foundation/limits.js';
import { decodeParameters, encodeParameters } from '../foundation/params.js';
import { storableText } from '../foundation/text.js';
import { nextScheduleRunAt, validateScheduleTiming, type RecurrenceRule, type ScheduleTiming } from './recurrence.js';
import { str, strOrNull, toDate, toDateOrNull } from '../store/rows.js';
import { resolveQueueName } from '../queue/task-queue.js';
import { SCHEDULE_STATUSES, type Schedule, type ScheduleStatus } from '../foundation/types.js';
import {
  MAX_STORED_TIME_MS,
  assertInteger,
  assertNonEmptyString,
  assertOneOf,
  assertOptionalString,
  assertStoredDate,
  assertUtf8Bytes,
} from '../foundation/validate.js';

export const DEFAULT_TIMEZONE = 'UTC';
/** Upper bound of maxExecutionCount (fits every dialect's INTEGER). */
export const MAX_EXECUTION_COUNT_LIMIT = 2_000_000_000;
/** The longest description, in UTF-8 bytes: MySQL's TEXT holds 65,535 bytes. */
export const MAX_DESCRIPTION_BYTES = 65_535;

export const EDITABLE_KEYS = [
  'name',
  'description',
  'status',
  'taskDefinitionId',
  'alias',
  'queueName',
  'parameters',
  'recurrenceRule',
  'cron',
  'timezone',
  'endAt',
  'maxExecutionCount',
] as const;
/** Entity fields `scheduleUpdate` accepts (so a whole entity can be passed back) and ignores. */
export const READ_ONLY_KEYS = [
  'id',
  'executionCount',
  'lastRunAt',
  'nextRunAt',
  'lastError',
  'createdAt',
  'updatedAt',
  'softDeletedAt',
] as const;

/** The checked, normalised form of the fields given (absent ones left out). */
export interface CheckedFields {
  name?: string;
  description?: string;
  status?: ScheduleStatus;
  taskDefinitionId?: string;
  alias?: string;
  queueName?: string;
  /** Encoded JSON text. */
  parameters?: string;
  endAt?: Date | null;
  maxExecutionCount?: number;
}

/** Checks every non-timing field that is present; timing is checked once merged (see timingOf). */
export function checkFields(input: Record<string, unknown>, name: string, limits: PayloadLimits): CheckedFields {
  const checked: CheckedFields = {};
  if (input['name'] !== undefined) {
    assertNonEmptyString(input['name'], `${name}.name`, 255);
    checked.name = input['name'];
  }
  if (input['description'] !== undefined) {
    assertOptionalString(input['description'], `${name}.description`);
    checked.description = storableText(input['description']);
    assertUtf8Bytes(checked.description, `${name}.description`, MAX_DESCRIPTION_BYTES);
  }
  if (input['status'] !== undefined) {
    assertOneOf(input['status'], SCHEDULE_STATUSES, `${name}.status`);
    checked.status = input['status'];
  }
  if (input['taskDefinitionId'] !== undefined && input['alias'] !== undefined) {
    throw invalidArgument(`${name}: give taskDefinitionId or alias, not both`);
  }
  if (input['taskDefinitionId'] !== undefined) {
    assertNonEmptyString(input['taskDefinitionId'], `${name}.taskDefinitionId`, 36);
    checked.taskDefinitionId = input['taskDefinitionId'];
  }
  if (input['alias'] !== undefined) {
    assertNonEmptyString(input['alias'], `${name}.alias`, 100);
    checked.alias = input['alias'];
  }
  if (input['queueName'] !== undefined) checked.queueName = resolveQueueName(input['queueName'], `${name}.queueName`);
  if (input['parameters'] !== undefined)
    checked.parameters = encodeParameters(input['parameters'], `${name}.parameters`, limits.maxParametersBytes);
  if (input['endAt'] !== undefined) checked.endAt = instantOrNull(input['endAt'], `${name}.endAt`);
  if (input['maxExecutionCount'] !== undefined) {
    assertInteger(input['maxExecutionCount'], `${name}.maxExecutionCount`, 0, MAX_EXECUTION_COUNT_LIMIT);
    checked.maxExecutionCount = input['maxExecutionCount'];
  }
  return checked;
}

/** A Date, or an ISO 8601 string carrying its offset (one instant, whatever the zone). */
function instantOrNull(value: unknown, name: string): Date | null {
  if (value === null) return null;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return storable(new Date(value.getTime()), name);
  if (typeof value === 'string' && /T\d{2}.*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(value.trim())) {
    const parsed = DateTime.fromISO(value.trim(), { setZone: true });
    if (parsed.isValid) return storable(parsed.toJSDate(), name);
  }
  throw invalidArgument(
    `${name} must be a valid Date, an ISO 8601 string with a UTC offset such as '2025-12-31T23:59:59Z', or null (got ${JSON.stringify(value) ?? String(value)})`,
  );
}

function storable(at: Date, name: string): Date {
  assertStoredDate(at, name);
  return at;
}

/** The timing of a schedule as stored: rule or cron, zone. */
export interface StoredTiming {
  recurrenceRule: RecurrenceRule | null;
  cron: string | null;
  timezone: string;
}

/** Checks a (merged) timing with the recurrence engine; returns it normalised. */
export function checkTiming(timing: StoredTiming): StoredTiming {
  const checked = validateScheduleTiming(timingOf(timing));
  return { recurrenceRule: checked.recurrenceRule ?? null, cron: checked.cron ?? null, timezone: checked.timezone ?? DEFAULT_TIMEZONE };
}

export const timingOf = (timing: StoredTiming): ScheduleTiming => ({
  ...(timing.recurrenceRule !== null && { recurrenceRule: timing.recurrenceRule }),
  ...(timing.cron !== null && { cron: timing.cron }),
  timezone: timing.timezone,
});

/** The stored text of a timing plus endAt, to tell whether an update changed any of it. */
export const timingKey = (timing: StoredTiming, endAt: Date | null): string =>
  JSON.stringify([timing.recurrenceRule, timing.cron, timing.timezone, endAt?.getTime() ?? null]);

/** What decides when a schedule runs: its timing and its limits. */
export type Plan = StoredTiming & Pick<Schedule, 'endAt' | 'executionCount' | 'maxExecutionCount' | 'lastRunAt'>;

const limitReached = (plan: Plan): boolean => plan.maxExecutionCount > 0 && plan.executionCount >= plan.maxExecutionCount;
/** An occurrence after endAt, or after the last storable instant (the year 9999), counts as none. */
const withinEnd = (plan: Plan, at: Date | null): Date | null =>
  at === null || !(at.getTime() <= MAX_STORED_TIME_MS) || (plan.endAt !== null && at > plan.endAt) ? null : at;

/**
 * When a schedule that becomes active (created, reactivated, re-timed) runs first, or null
 * when it never will. A 'none' rule runs at its startsAt even when that has just passed (a
 * one-off created late still runs once), unless it already ran at or after it; any other
 * timing runs at its first occurrence after `now`.
 */
export function firstRunAt(plan: Plan, now: Date): Date | null {
  if (limitReached(plan)) return null;
  const rule = plan.recurrenceRule;
  if (rule?.frequency === 'none' && rule.startsAt !== undefined) {
    const at = new Date(rule.startsAt);
    return plan.lastRunAt !== null && plan.lastRunAt >= at ? null : withinEnd(plan, at);
  }
  return withinEnd(plan, nextScheduleRunAt(timingOf(plan), now));
}

/**
 * After a run at `now` (which counts as run number executionCount + 1): the next occurrence
 * strictly after now, or null when that was the last one. Missed occurrences are skipped.
 */
export function followingRunAt(plan: Plan, now: Date): Date | null {
  if (limitReached({ ...plan, executionCount: plan.executionCount + 1 })) return null;
  return withinEnd(plan, nextScheduleRunAt(timingOf(plan), now));
}

/** True when the limits say this schedule must not run again (checked before firing). */
export function isExhausted(plan: Plan, dueAt: Date): boolean {
  return limitReached(plan) || withinEnd(plan, dueAt) === null;
}

// ---------------------------------------------------------------------------------------
// Rows

type Row = Record<string, unknown>;

/** JSON with Dates as ISO strings; decoded back to Dates. */
export const encodeRule = (rule: RecurrenceRule | null): string | null => (rule === null ? null : JSON.stringify(rule));

function decodeRule(text: unknown): RecurrenceRule | null {
  if (typeof text !== 'string' || text === '') return null;
  try {
    const rule = JSON.parse(text) as RecurrenceRule;
    if (typeof rule.startsAt === 'string') rule.startsAt = new Date(rule.startsAt);
    if (typeof rule.endsAt === 'string') rule.endsAt = new Date(rule.endsAt);
    return rule;
  } catch {
    // Unreadable text (written by hand): without a timing the runner deactivates it, saying why.
    return null;
  }
}

export function toSchedule(row: Row): Schedule {
  return {
    id: str(row['id']),
    name: str(row['name']),
    description: str(row['description']),
    status: str(row['status']) as ScheduleStatus,
    taskDefinitionId: str(row['task_definition_id']),
    queueName: str(row['queue_name']),
    parameters: decodeParameters(row['parameters']),
    recurrenceRule: decodeRule(row['recurrence_rule']),
    cron: strOrNull(row['cron']),
    timezone: strOrNull(row['timezone']) ?? DEFAULT_TIMEZONE,
    endAt: toDateOrNull(row['end_at']),
    executionCount: Number(row['execution_count']),
    maxExecutionCount: Number(row['max_execution_count']),
    lastRunAt: toDateOrNull(row['last_run_at']),
    nextRunAt: toDateOrNull(row['next_run_at']),
    lastError: strOrNull(row['last_error']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
    softDeletedAt: toDateOrNull(row['soft_deleted_at']),
  };
}

/** The row of a new schedule: every column, so no dialect's defaults matter. */
export function toRow(schedule: Schedule): Row {
  return {
    id: schedule.id,
    name: schedule.name,
    description: schedule.description,
    status: schedule.status,
    task_definition_id: schedule.taskDefinitionId,
    queue_name: schedule.queueName,
    parameters: JSON.stringify(schedule.parameters),
    recurrence_rule: encodeRule(schedule.recurrenceRule),
    cron: schedule.cron,
    timezone: schedule.timezone,
    end_at: schedule.endAt,
    execution_count: schedule.executionCount,
    max_execution_count: schedule.maxExecutionCount,
    last_run_at: schedule.lastRunAt,
    next_run_at: schedule.nextRunAt,
    last_error: schedule.lastError,
    created_at: schedule.createdAt,
    updated_at: schedule.updatedAt,
    soft_deleted_at: schedule.softDeletedAt,
  };
}
