/** The words of a schedule's timing: recurrence rules in RRULE terms (see lib/schedules/recurrence.ts). */
export const FREQUENCIES = ['none', 'secondly', 'minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
] as const;
export type Month = (typeof MONTHS)[number];

/** When a schedule fires, in RRULE terms. See docs/schedules.md. */
export interface RecurrenceRule {
  /** The period; 'none' fires once, at startsAt. */
  frequency: Frequency;
  /** Every n-th period counted from startsAt (RRULE INTERVAL). Default 1. */
  interval?: number;
  /** First possible occurrence and the anchor of the time of day. Required for 'none'. Default: 1970-01-01 00:00 in the zone. */
  startsAt?: Date | string;
  /** Last possible occurrence, inclusive. Default: none. */
  endsAt?: Date | string;
  /** RRULE BYDAY (no ordinals). Weeks start on Monday. */
  daysOfWeek?: Weekday[];
  /** RRULE BYMONTHDAY: 1..31, or -1..-31 counting back from the month's last day. */
  daysOfMonth?: number[];
  /** RRULE BYMONTH. */
  monthsOfYear?: Month[];
}

/** The timing fields of a schedule: a recurrence rule or a cron expression, in a time zone. */
export interface ScheduleTiming {
  recurrenceRule?: RecurrenceRule;
  cron?: string;
  /** IANA name such as 'Europe/Berlin'. Default 'UTC'. */
  timezone?: string;
}
