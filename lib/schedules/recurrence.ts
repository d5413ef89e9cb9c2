/**
 * Recurrence rules for schedules and `nextRunAt`, the one function that says when a schedule
 * fires next. Rules follow RFC 5545 RRULE semantics (FREQ, INTERVAL, BYDAY without ordinals,
 * BYMONTHDAY, BYMONTH) counted from `startsAt`; cron strings are handed to lib/schedules/cron.ts.
 * docs/schedules.md describes the behaviour for users; this file is the reference.
 */
import { IANAZone, type Zone } from 'luxon';
import {
  civilDateOf,
  dayNumberOf,
  daysInMonth,
  GREGORIAN_CYCLE_DAYS,
  HOUR_MS,
  instantOf,
  MINUTE_MS,
  SECOND_MS,
  wallClockOf,
  weekdayOf,
  zoneOf,
} from './calendar.js';
import { nextCronRunAt, validateCron } from './cron.js';
import { invalidArgument } from '../foundation/errors.js';
import { parseInstant } from '../foundation/time.js';
import { FREQUENCIES, MONTHS, WEEKDAYS, type Frequency, type RecurrenceRule, type ScheduleTiming } from '../foundation/recurrence-rule.js';
import {
  assertDate,
  assertInteger,
  assertKnownKeys,
  assertNonEmptyString,
  assertOneOf,
  assertPlainObject,
} from '../foundation/validate.js';

export { validateCron } from './cron.js';

export { FREQUENCIES, MONTHS, WEEKDAYS, type Frequency, type RecurrenceRule, type ScheduleTiming } from '../foundation/recurrence-rule.js';

const RULE_KEYS = ['frequency', 'interval', 'startsAt', 'endsAt', 'daysOfWeek', 'daysOfMonth', 'monthsOfYear'] as const;
const FILTER_KEYS = ['daysOfWeek', 'daysOfMonth', 'monthsOfYear'] as const;
/** Longest length of each month (February counts its leap day). */
const MAX_MONTH_LENGTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

// ---------------------------------------------------------------------------------------
// Validation

const show = (value: unknown): string =>
  typeof value === 'string'
    ? `'${value}'`
    : Array.isArray(value)
      ? 'an array'
      : value instanceof Date
        ? String(value)
        : (JSON.stringify(value) ?? String(value));

function oneOfIgnoringCase<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value === 'string' && allowed.includes(value.toLowerCase() as T)) return value.toLowerCase() as T;
  assertOneOf(value, allowed, name); // throws: value is not one of them
  return value;
}

function optionalInstant(value: unknown, name: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) {
    assertDate(value, name);
    return new Date(value.getTime());
  }
  const parsed = typeof value === 'string' ? parseInstant(value, { requireOffset: true }) : null;
  if (parsed) return parsed;
  throw invalidArgument(
    `${name} must be a valid Date or an ISO 8601 string with a UTC offset, such as '2025-01-01T09:00:00Z' or '2025-01-01T09:00:00+01:00' (got ${show(value)})`,
  );
}

/** An optional list: absent or empty gives undefined; items are checked, de-duplicated and sorted. */
function optionalList<T>(
  value: unknown,
  name: string,
  item: (value: unknown, name: string) => T,
  rank: (item: T) => number,
): T[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidArgument(`${name} must be an array (got ${show(value)})`);
  const items = [...new Set(value.map((entry, index) => item(entry, `${name}[${index}]`)))];
  return items.length === 0 ? undefined : items.sort((a, b) => rank(a) - rank(b));
}

function monthDay(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value === 0 || value < -31 || value > 31) {
    throw invalidArgument(
      `${name} must be an integer from 1 to 31, or from -1 to -31 counting back from the month's end (got ${show(value)})`,
    );
  }
  return value;
}

/**
 * Checks a recurrence rule and returns a normalised copy: interval defaulted to 1, startsAt and
 * endsAt as Dates, names lower-cased, filters de-duplicated and sorted, empty filters dropped.
 * Throws INVALID_ARGUMENT naming the offending field (`recurrenceRule.interval`, …).
 */
export function validateRecurrenceRule(rule: unknown, field = 'recurrenceRule'): RecurrenceRule {
  assertPlainObject(rule, field);
  assertKnownKeys(rule, RULE_KEYS, field);
  const frequency = oneOfIgnoringCase(rule['frequency'], FREQUENCIES, `${field}.frequency`);
  const interval = rule['interval'] ?? 1;
  assertInteger(interval, `${field}.interval`, 1);
  const normalised: RecurrenceRule = { frequency, interval };

  const startsAt = optionalInstant(rule['startsAt'], `${field}.startsAt`);
  const endsAt = optionalInstant(rule['endsAt'], `${field}.endsAt`);
  if (startsAt) normalised.startsAt = startsAt;
  if (endsAt) normalised.endsAt = endsAt;
  if (startsAt && endsAt && endsAt < startsAt) {
    throw invalidArgument(`${field}.endsAt must not be before ${field}.startsAt (got ${endsAt.toISOString()} < ${startsAt.toISOString()})`);
  }

  const daysOfWeek = optionalList(
    rule['daysOfWeek'],
    `${field}.daysOfWeek`,
    (v, n) => oneOfIgnoringCase(v, WEEKDAYS, n),
    (d) => WEEKDAYS.indexOf(d),
  );
  const daysOfMonth = optionalList(rule['daysOfMonth'], `${field}.daysOfMonth`, monthDay, (d) => (d > 0 ? d : 100 - d));
  const monthsOfYear = optionalList(
    rule['monthsOfYear'],
    `${field}.monthsOfYear`,
    (v, n) => oneOfIgnoringCase(v, MONTHS, n),
    (m) => MONTHS.indexOf(m),
  );
  if (daysOfWeek) normalised.daysOfWeek = daysOfWeek;
  if (daysOfMonth) normalised.daysOfMonth = daysOfMonth;
  if (monthsOfYear) normalised.monthsOfYear = monthsOfYear;

  if (frequency === 'none') {
    if (!startsAt) throw invalidArgument(`${field}.startsAt is required when ${field}.frequency is 'none' (it is the one occurrence)`);
    const filter = FILTER_KEYS.find((key) => normalised[key] !== undefined);
    if (filter) throw invalidArgument(`${field}.${filter} cannot be used with frequency 'none'`);
  }
  if (daysOfMonth && monthsOfYear) {
    const possible = daysOfMonth.some((day) => monthsOfYear.some((month) => Math.abs(day) <= MAX_MONTH_LENGTH[MONTHS.indexOf(month)]!));
    if (!possible) {
      throw invalidArgument(
        `${field}.daysOfMonth [${daysOfMonth.join(', ')}] never occurs in ${field}.monthsOfYear [${monthsOfYear.join(', ')}]`,
      );
    }
  }
  return normalised;
}

/** Names already found valid: luxon's check builds an Intl formatter (about 0.3 ms) each time. */
const knownZones = new Set<string>(['UTC']);

/** Checks an IANA time zone name (via luxon) and returns it. */
export function validateTimezone(tz: unknown, field = 'timezone'): string {
  assertNonEmptyString(tz, field, 100);
  if (knownZones.has(tz)) return tz;
  if (!IANAZone.isValidZone(tz)) {
    throw invalidArgument(`${field} must be an IANA time zone such as 'UTC', 'Europe/Berlin' or 'America/New_York' (got '${tz}')`);
  }
  knownZones.add(tz);
  return tz;
}

/**
 * Checks the timing fields of a schedule: exactly one of `recurrenceRule` and `cron`, plus an
 * optional `timezone`. Returns normalised copies (absent fields left out).
 */
export function validateScheduleTiming(timing: ScheduleTiming): ScheduleTiming {
  const { recurrenceRule, cron, timezone } = timing;
  ruleOf(timing);
  return {
    ...(recurrenceRule !== undefined && { recurrenceRule: validateRecurrenceRule(recurrenceRule) }),
    ...(cron !== undefined && { cron: validateCron(cron) }),
    ...(timezone !== undefined && { timezone: validateTimezone(timezone) }),
  };
}

// ---------------------------------------------------------------------------------------
// Evaluation

type DatePeriod = 'daily' | 'weekly' | 'monthly' | 'yearly';
const SUB_DAILY_MS = { secondly: SECOND_MS, minutely: MINUTE_MS, hourly: HOUR_MS } as const;
/** Periods in one 400-year Gregorian cycle, after which every calendar pattern repeats. */
const PERIODS_PER_CYCLE: Record<DatePeriod, number> = {
  daily: GREGORIAN_CYCLE_DAYS,
  weekly: GREGORIAN_CYCLE_DAYS / 7,
  monthly: 4800,
  yearly: 400,
};
/**
 * Hourly and shorter: how many times an occurrence may land on a day the filters reject before
 * the search gives up (null). Only an interval longer than a day can land on rejected days
 * again and again; an interval of a day or less finds the next matching day at once.
 */
const MAX_SKIPPED_DAYS = 1000;

/** A validated rule resolved against a zone: the anchor in wall-clock terms and the filters as numbers. */
interface Plan {
  frequency: Frequency;
  interval: number;
  zone: Zone;
  anchorMs: number;
  anchorDay: number;
  anchorMsOfDay: number;
  endMs: number;
  weekdays?: ReadonlySet<number>; // 0 = Monday
  monthDays?: readonly number[];
  months?: ReadonlySet<number>; // 1..12
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const monthIndexOf = (dayNumber: number): number => {
  const { year, month } = civilDateOf(dayNumber);
  return year * 12 + month - 1;
};

function planOf(rule: RecurrenceRule, zone: Zone): Plan {
  const anchorMs = rule.startsAt ? new Date(rule.startsAt).getTime() : instantOf(0, 0, zone);
  const { dayNumber, msOfDay } = wallClockOf(anchorMs, zone);
  return {
    frequency: rule.frequency,
    interval: rule.interval ?? 1,
    zone,
    anchorMs,
    anchorDay: dayNumber,
    anchorMsOfDay: msOfDay,
    endMs: rule.endsAt ? new Date(rule.endsAt).getTime() : Infinity,
    ...(rule.daysOfWeek && { weekdays: new Set(rule.daysOfWeek.map((d) => WEEKDAYS.indexOf(d))) }),
    ...(rule.daysOfMonth && { monthDays: rule.daysOfMonth }),
    ...(rule.monthsOfYear && { months: new Set(rule.monthsOfYear.map((m) => MONTHS.indexOf(m) + 1)) }),
  };
}

/** The day of the month a daysOfMonth value names, or undefined when that month has no such day. */
function resolveMonthDay(year: number, month: number, value: number): number | undefined {
  const length = daysInMonth(year, month);
  const day = value > 0 ? value : length + value + 1;
  return day >= 1 && day <= length ? day : undefined;
}

/** Whether a local day passes every filter (all three used as limits). */
function matchesDay(plan: Plan, dayNumber: number): boolean {
  if (plan.weekdays && !plan.weekdays.has(weekdayOf(dayNumber))) return false;
  if (!plan.months && !plan.monthDays) return true;
  const { year, month, day } = civilDateOf(dayNumber);
  if (plan.months && !plan.months.has(month)) return false;
  return !plan.monthDays || plan.monthDays.some((value) => resolveMonthDay(year, month, value) === day);
}

/** Days of one month selected by a monthly or yearly rule: daysOfMonth and daysOfWeek expand. */
function expandMonth(plan: Plan, year: number, month: number): number[] {
  if (plan.months && !plan.months.has(month)) return [];
  const first = dayNumberOf(year, month, 1);
  let days: number[];
  if (plan.monthDays) {
    const resolved = plan.monthDays.map((value) => resolveMonthDay(year, month, value)).filter((d) => d !== undefined);
    days = [...new Set(resolved)].sort((a, b) => a - b);
  } else if (plan.weekdays) {
    days = Array.from({ length: daysInMonth(year, month) }, (_, i) => i + 1);
  } else {
    const anchorDayOfMonth = civilDateOf(plan.anchorDay).day; // skipped, not moved, in shorter months
    days = anchorDayOfMonth <= daysInMonth(year, month) ? [anchorDayOfMonth] : [];
  }
  const dayNumbers = days.map((day) => first + day - 1);
  return plan.weekdays ? dayNumbers.filter((d) => plan.weekdays!.has(weekdayOf(d))) : dayNumbers;
}

/** Index of the period (0 = the one holding startsAt) that contains a local day. */
function periodIndexOf(plan: Plan, period: DatePeriod, dayNumber: number): number {
  const n = plan.interval;
  switch (period) {
    case 'daily':
      return Math.floor((dayNumber - plan.anchorDay) / n);
    case 'weekly':
      return Math.floor((dayNumber - weekdayOf(dayNumber) - (plan.anchorDay - weekdayOf(plan.anchorDay))) / (7 * n));
    case 'monthly':
      return Math.floor((monthIndexOf(dayNumber) - monthIndexOf(plan.anchorDay)) / n);
    case 'yearly':
      return Math.floor((civilDateOf(dayNumber).year - civilDateOf(plan.anchorDay).year) / n);
  }
}

/** The first day of period k and the candidate days in it, in order. */
function periodDays(plan: Plan, period: DatePeriod, k: number): { start: number; days: number[] } {
  const n = plan.interval;
  switch (period) {
    case 'daily': {
      const day = plan.anchorDay + k * n;
      return { start: day, days: matchesDay(plan, day) ? [day] : [] };
    }
    case 'weekly': {
      const start = plan.anchorDay - weekdayOf(plan.anchorDay) + k * n * 7;
      const weekdays = plan.weekdays ? [...plan.weekdays].sort((a, b) => a - b) : [weekdayOf(plan.anchorDay)];
      return { start, days: weekdays.map((w) => start + w).filter((day) => matchesDay(plan, day)) };
    }
    case 'monthly': {
      const index = monthIndexOf(plan.anchorDay) + k * n;
      const year = Math.floor(index / 12);
      const month = index - year * 12 + 1;
      return { start: dayNumberOf(year, month, 1), days: expandMonth(plan, year, month) };
    }
    case 'yearly': {
      const year = civilDateOf(plan.anchorDay).year + k * n;
      const expands = plan.months ?? plan.monthDays ?? plan.weekdays;
      const months = expands ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] : [civilDateOf(plan.anchorDay).month];
      return { start: dayNumberOf(year, 1, 1), days: months.flatMap((month) => expandMonth(plan, year, month)) };
    }
  }
}

/**
 * Daily and longer: jump to the period before the one holding `lowerMs`, then walk periods.
 * The walk stops after one full 400-year cycle of periods, so a rule that can never match
 * (given its interval) ends with null instead of looping.
 */
function nextByCalendar(plan: Plan, period: DatePeriod, lowerMs: number): number | null {
  const lowerDay = wallClockOf(lowerMs, plan.zone).dayNumber - 1;
  const endDay = plan.endMs === Infinity ? Infinity : wallClockOf(plan.endMs, plan.zone).dayNumber + 1;
  const first = Math.max(0, periodIndexOf(plan, period, lowerDay) - 1);
  const cycle = PERIODS_PER_CYCLE[period];
  const last = first + cycle / gcd(cycle, plan.interval) + 2;
  for (let k = first; k <= last; k++) {
    const { start, days } = periodDays(plan, period, k);
    if (start > endDay) return null;
    for (const day of days) {
      if (day < lowerDay || day < plan.anchorDay) continue;
      const at = day === plan.anchorDay ? plan.anchorMs : instantOf(day, plan.anchorMsOfDay, plan.zone);
      if (at < lowerMs) continue;
      return at <= plan.endMs ? at : null;
    }
  }
  return null;
}

/**
 * Hourly and shorter: occurrences are startsAt + k × interval × unit in real elapsed time; the
 * filters limit the local day. A day that fails the filters is skipped as a whole, straight to
 * the next day that passes them (found by date arithmetic, within a 400-year cycle).
 */
function nextByElapsedTime(plan: Plan, unitMs: number, lowerMs: number): number | null {
  const step = unitMs * plan.interval;
  const firstAtOrAfter = (ms: number): number => plan.anchorMs + Math.ceil((ms - plan.anchorMs) / step) * step;
  const lastDay = wallClockOf(lowerMs, plan.zone).dayNumber + GREGORIAN_CYCLE_DAYS;
  let at = firstAtOrAfter(lowerMs);
  for (let hop = 0; hop <= MAX_SKIPPED_DAYS && at <= plan.endMs; hop++) {
    let day = wallClockOf(at, plan.zone).dayNumber;
    if (matchesDay(plan, day)) return at;
    do day++;
    while (day <= lastDay && !matchesDay(plan, day));
    if (day > lastDay) return null;
    at = firstAtOrAfter(instantOf(day, 0, plan.zone));
  }
  return null;
}

/**
 * When a schedule fires next: the first occurrence strictly after `now`, or null when there is
 * none (the rule has ended, its one 'none' occurrence has passed, or no date can ever match).
 *
 * @param rule a RecurrenceRule (validated here) or a cron expression (5 or 6 fields)
 * @param now  the reference instant; occurrences equal to it do not count
 * @param options.timezone IANA zone in which days, weekdays, months and the time of day are
 *   read. Default 'UTC'.
 * @throws TaskStoreError INVALID_ARGUMENT naming the field when the rule, cron, zone or `now` is invalid
 */
export function nextRunAt(rule: RecurrenceRule | string, now: Date, options: { timezone?: string } = {}): Date | null {
  assertDate(now, 'now');
  assertPlainObject(options, 'options');
  assertKnownKeys(options, ['timezone'], 'options');
  const timezone = options.timezone === undefined ? 'UTC' : validateTimezone(options.timezone);
  if (typeof rule === 'string') return nextCronRunAt(validateCron(rule), now, timezone);

  const plan = planOf(validateRecurrenceRule(rule), zoneOf(timezone));
  const lowerMs = Math.max(now.getTime() + 1, plan.anchorMs);
  let next: number | null;
  if (plan.frequency === 'none') next = plan.anchorMs >= lowerMs && plan.anchorMs <= plan.endMs ? plan.anchorMs : null;
  else if (plan.frequency in SUB_DAILY_MS)
    next = nextByElapsedTime(plan, SUB_DAILY_MS[plan.frequency as keyof typeof SUB_DAILY_MS], lowerMs);
  else next = nextByCalendar(plan, plan.frequency as DatePeriod, lowerMs);
  return next === null ? null : new Date(next);
}

/** `nextRunAt` for a schedule's timing fields, validating them on the way. */
export function nextScheduleRunAt(timing: ScheduleTiming, now: Date): Date | null {
  return nextRunAt(ruleOf(timing), now, timing.timezone === undefined ? {} : { timezone: timing.timezone });
}

/** The one rule a schedule's timing holds: its recurrenceRule or its cron, never both. */
function ruleOf({ recurrenceRule, cron }: ScheduleTiming): RecurrenceRule | string {
  if (recurrenceRule !== undefined && cron !== undefined) throw invalidArgument('give either recurrenceRule or cron, not both');
  const rule = recurrenceRule ?? cron;
  if (rule === undefined) throw invalidArgument('a schedule needs a recurrenceRule or a cron expression');
  return rule;
}
