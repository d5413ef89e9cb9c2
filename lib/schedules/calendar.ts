/**
 * Calendar arithmetic for the recurrence engine: proleptic Gregorian dates as day numbers
 * (days since 1970-01-01), and conversions between instants and wall-clock time in an IANA
 * zone. Pure integer maths plus luxon's zone offsets; no Date parsing, no loops over time.
 */
import { FixedOffsetZone, IANAZone, type Zone } from 'luxon';

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Days in one Gregorian cycle: after 400 years every date falls on the same weekday again. */
export const GREGORIAN_CYCLE_DAYS = 146_097;

/** A date without a time or zone; `month` is 1..12. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

const floorDiv = (a: number, b: number): number => Math.floor(a / b);
const mod = (a: number, b: number): number => ((a % b) + b) % b;

/** Day number of a civil date (1970-01-01 is 0). H. Hinnant's days_from_civil. */
export function dayNumberOf(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = floorDiv(153 * (month + (month > 2 ? -3 : 9)) + 2, 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + floorDiv(yearOfEra, 4) - floorDiv(yearOfEra, 100) + dayOfYear;
  return era * GREGORIAN_CYCLE_DAYS + dayOfEra - 719_468;
}

/** The civil date of a day number. H. Hinnant's civil_from_days. */
export function civilDateOf(dayNumber: number): CivilDate {
  const z = dayNumber + 719_468;
  const era = floorDiv(z, GREGORIAN_CYCLE_DAYS);
  const dayOfEra = z - era * GREGORIAN_CYCLE_DAYS;
  const yearOfEra = floorDiv(dayOfEra - floorDiv(dayOfEra, 1460) + floorDiv(dayOfEra, 36_524) - floorDiv(dayOfEra, 146_096), 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + floorDiv(yearOfEra, 4) - floorDiv(yearOfEra, 100));
  const mp = floorDiv(5 * dayOfYear + 2, 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day: dayOfYear - floorDiv(153 * mp + 2, 5) + 1 };
}

/** 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
export const weekdayOf = (dayNumber: number): number => mod(dayNumber + 3, 7);

export const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A luxon zone for an already validated IANA name ('UTC' skips the Intl look-ups). */
export const zoneOf = (timezone: string): Zone =>
  timezone.toUpperCase() === 'UTC' ? FixedOffsetZone.utcInstance : IANAZone.create(timezone);

/** The local day number and milliseconds since local midnight of an instant in `zone`. */
export function wallClockOf(instantMs: number, zone: Zone): { dayNumber: number; msOfDay: number } {
  const localMs = instantMs + zone.offset(instantMs) * MINUTE_MS;
  const dayNumber = floorDiv(localMs, DAY_MS);
  return { dayNumber, msOfDay: localMs - dayNumber * DAY_MS };
}

/**
 * The instant at which the wall clock in `zone` shows `msOfDay` on `dayNumber`.
 * - A time that occurs twice (fall-back) resolves to the earlier instant.
 * - A time that does not exist (spring-forward) is moved forward by the length of the gap
 *   (02:30 on a day that jumps from 02:00 to 03:00 becomes 03:30), as luxon does.
 */
export function instantOf(dayNumber: number, msOfDay: number, zone: Zone): number {
  const localMs = dayNumber * DAY_MS + msOfDay;
  const offsetBefore = zone.offset(localMs - DAY_MS) * MINUTE_MS;
  const offsetAfter = zone.offset(localMs + DAY_MS) * MINUTE_MS;
  const candidates = [localMs - offsetBefore, localMs - offsetAfter].sort((a, b) => a - b);
  for (const candidate of candidates) {
    if (candidate + zone.offset(candidate) * MINUTE_MS === localMs) return candidate;
  }
  return localMs - offsetBefore; // in a gap: read with the offset in force before it
}
