import { expect } from 'chai';
import { DateTime } from 'luxon';
import { TaskStoreError } from '../../lib/foundation/errors.js';
import {
  nextRunAt,
  nextScheduleRunAt,
  validateCron,
  validateRecurrenceRule,
  validateScheduleTiming,
  validateTimezone,
  type RecurrenceRule,
} from '../../lib/schedules/recurrence.js';

/** The next `count` occurrences after `from`, by feeding each answer back in as `now`. */
function occurrences(rule: RecurrenceRule | string, from: string, count: number, timezone?: string): string[] {
  const found: string[] = [];
  let now = new Date(from);
  for (let i = 0; i < count; i++) {
    const next = nextRunAt(rule, now, timezone === undefined ? {} : { timezone });
    if (next === null) break;
    expect(next.getTime(), 'strictly after now').to.be.greaterThan(now.getTime());
    found.push(next.toISOString());
    now = next;
  }
  return found;
}

/** Occurrences whose local date in `timezone` is `localDate` (YYYY-MM-DD), iterating from the day before. */
function occurrencesOnLocalDay(rule: RecurrenceRule | string, localDate: string, timezone: string): DateTime[] {
  const dayStart = DateTime.fromISO(localDate, { zone: timezone });
  const onDay: DateTime[] = [];
  let now = dayStart.minus({ days: 1 }).toJSDate();
  for (let i = 0; i < 200; i++) {
    const next = nextRunAt(rule, now, { timezone });
    if (next === null) break;
    const local = DateTime.fromJSDate(next, { zone: timezone });
    if (local.toISODate()! > localDate) break;
    if (local.toISODate() === localDate) onDay.push(local);
    now = next;
  }
  return onDay;
}

function expectInvalid(action: () => unknown, message: string | RegExp): TaskStoreError {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(TaskStoreError);
    const failure = error as TaskStoreError;
    expect(failure.code, failure.message).to.equal('INVALID_ARGUMENT');
    if (typeof message === 'string') expect(failure.message).to.include(message);
    else expect(failure.message).to.match(message);
    return failure;
  }
  return expect.fail(`expected INVALID_ARGUMENT matching ${String(message)}, but nothing was thrown`);
}

interface SequenceCase {
  title: string;
  rule: RecurrenceRule | string;
  from: string;
  timezone?: string;
  expected: string[];
}

const SEQUENCES: SequenceCase[] = [
  // daily
  {
    title: 'daily at 09:00, starting strictly after now even when now is an occurrence',
    rule: { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z' },
    from: '2025-01-01T09:00:00Z',
    expected: ['2025-01-02T09:00:00.000Z', '2025-01-03T09:00:00.000Z', '2025-01-04T09:00:00.000Z'],
  },
  {
    title: 'daily: before startsAt the first occurrence is startsAt',
    rule: { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z' },
    from: '2024-06-01T00:00:00Z',
    expected: ['2025-01-01T09:00:00.000Z', '2025-01-02T09:00:00.000Z'],
  },
  {
    title: 'daily every 3 days',
    rule: { frequency: 'daily', interval: 3, startsAt: '2025-01-01T09:00:00Z' },
    from: '2025-01-02T00:00:00Z',
    expected: ['2025-01-04T09:00:00.000Z', '2025-01-07T09:00:00.000Z', '2025-01-10T09:00:00.000Z'],
  },
  {
    title: 'daily on weekdays only (daysOfWeek limits)',
    rule: { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z', daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] },
    from: '2025-01-03T10:00:00Z', // a Friday, after its run
    expected: ['2025-01-06T09:00:00.000Z', '2025-01-07T09:00:00.000Z', '2025-01-08T09:00:00.000Z'],
  },
  {
    title: 'daily limited to December',
    rule: { frequency: 'daily', startsAt: '2025-01-01T00:00:00Z', monthsOfYear: ['december'] },
    from: '2025-02-01T00:00:00Z',
    expected: ['2025-12-01T00:00:00.000Z', '2025-12-02T00:00:00.000Z'],
  },
  {
    title: 'daily without startsAt runs at midnight',
    rule: { frequency: 'daily' },
    from: '2025-05-05T12:00:00Z',
    expected: ['2025-05-06T00:00:00.000Z', '2025-05-07T00:00:00.000Z'],
  },
  // weekly
  {
    title: 'weekly on the weekday of startsAt',
    rule: { frequency: 'weekly', startsAt: '2025-01-01T08:00:00Z' }, // a Wednesday
    from: '2025-01-01T08:00:00Z',
    expected: ['2025-01-08T08:00:00.000Z', '2025-01-15T08:00:00.000Z'],
  },
  {
    title: 'every 2 weeks on Monday and Wednesday (the Monday before startsAt is skipped)',
    rule: { frequency: 'weekly', interval: 2, startsAt: '2025-01-01T10:00:00Z', daysOfWeek: ['wednesday', 'monday'] },
    from: '2024-12-25T00:00:00Z',
    expected: [
      '2025-01-01T10:00:00.000Z',
      '2025-01-13T10:00:00.000Z',
      '2025-01-15T10:00:00.000Z',
      '2025-01-27T10:00:00.000Z',
      '2025-01-29T10:00:00.000Z',
    ],
  },
  {
    title: 'weekly on Friday limited to daysOfMonth 13 (Friday the 13th)',
    rule: { frequency: 'weekly', startsAt: '2025-01-03T00:00:00Z', daysOfWeek: ['friday'], daysOfMonth: [13] },
    from: '2025-01-01T00:00:00Z',
    expected: ['2025-06-13T00:00:00.000Z', '2026-02-13T00:00:00.000Z'],
  },
  // monthly
  {
    title: 'monthly on the 1st and 15th',
    rule: { frequency: 'monthly', startsAt: '2025-01-01T00:00:00Z', daysOfMonth: [15, 1] },
    from: '2025-01-01T00:00:00Z',
    expected: ['2025-01-15T00:00:00.000Z', '2025-02-01T00:00:00.000Z', '2025-02-15T00:00:00.000Z', '2025-03-01T00:00:00.000Z'],
  },
  {
    title: 'every 3 months on the 15th',
    rule: { frequency: 'monthly', interval: 3, startsAt: '2025-01-10T12:00:00Z', daysOfMonth: [15] },
    from: '2025-01-01T00:00:00Z',
    expected: [
      '2025-01-15T12:00:00.000Z',
      '2025-04-15T12:00:00.000Z',
      '2025-07-15T12:00:00.000Z',
      '2025-10-15T12:00:00.000Z',
      '2026-01-15T12:00:00.000Z',
    ],
  },
  {
    title: 'monthly from the 31st skips the months without one',
    rule: { frequency: 'monthly', startsAt: '2025-01-31T09:00:00Z' },
    from: '2025-01-31T09:00:00Z',
    expected: [
      '2025-03-31T09:00:00.000Z',
      '2025-05-31T09:00:00.000Z',
      '2025-07-31T09:00:00.000Z',
      '2025-08-31T09:00:00.000Z',
      '2025-10-31T09:00:00.000Z',
    ],
  },
  {
    title: 'monthly on daysOfMonth 31 skips short months too',
    rule: { frequency: 'monthly', startsAt: '2024-01-01T00:00:00Z', daysOfMonth: [31] },
    from: '2024-01-31T00:00:00Z',
    expected: ['2024-03-31T00:00:00.000Z', '2024-05-31T00:00:00.000Z'],
  },
  {
    title: 'monthly on the last day (-1), leap February included',
    rule: { frequency: 'monthly', startsAt: '2024-01-01T00:00:00Z', daysOfMonth: [-1] },
    from: '2024-01-01T00:00:00Z',
    expected: ['2024-01-31T00:00:00.000Z', '2024-02-29T00:00:00.000Z', '2024-03-31T00:00:00.000Z', '2024-04-30T00:00:00.000Z'],
  },
  {
    title: 'monthly on the second-to-last day (-2)',
    rule: { frequency: 'monthly', startsAt: '2025-01-01T00:00:00Z', daysOfMonth: [-2] },
    from: '2025-01-01T00:00:00Z',
    expected: ['2025-01-30T00:00:00.000Z', '2025-02-27T00:00:00.000Z', '2025-03-30T00:00:00.000Z'],
  },
  {
    title: 'monthly on every Monday (daysOfWeek expands within the month)',
    rule: { frequency: 'monthly', startsAt: '2025-02-01T07:00:00Z', daysOfWeek: ['monday'] },
    from: '2025-02-01T00:00:00Z',
    expected: [
      '2025-02-03T07:00:00.000Z',
      '2025-02-10T07:00:00.000Z',
      '2025-02-17T07:00:00.000Z',
      '2025-02-24T07:00:00.000Z',
      '2025-03-03T07:00:00.000Z',
    ],
  },
  {
    title: 'monthly with daysOfMonth and daysOfWeek: both must match',
    rule: { frequency: 'monthly', startsAt: '2025-01-01T00:00:00Z', daysOfMonth: [13], daysOfWeek: ['friday'] },
    from: '2025-01-01T00:00:00Z',
    expected: ['2025-06-13T00:00:00.000Z', '2026-02-13T00:00:00.000Z', '2026-03-13T00:00:00.000Z', '2026-11-13T00:00:00.000Z'],
  },
  {
    title: 'monthly limited by monthsOfYear',
    rule: { frequency: 'monthly', startsAt: '2025-01-05T00:00:00Z', monthsOfYear: ['june', 'january'] },
    from: '2025-01-05T00:00:00Z',
    expected: ['2025-06-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z'],
  },
  // yearly
  {
    title: 'yearly on the date of startsAt',
    rule: { frequency: 'yearly', startsAt: '2025-03-10T06:00:00Z' },
    from: '2025-03-10T06:00:00Z',
    expected: ['2026-03-10T06:00:00.000Z', '2027-03-10T06:00:00.000Z'],
  },
  {
    title: 'yearly from 29 February only falls in leap years',
    rule: { frequency: 'yearly', startsAt: '2020-02-29T12:00:00Z' },
    from: '2020-03-01T00:00:00Z',
    expected: ['2024-02-29T12:00:00.000Z', '2028-02-29T12:00:00.000Z'],
  },
  {
    title: 'yearly in March and September on the day of startsAt',
    rule: { frequency: 'yearly', startsAt: '2025-01-10T06:00:00Z', monthsOfYear: ['september', 'march'] },
    from: '2025-01-10T06:00:00Z',
    expected: ['2025-03-10T06:00:00.000Z', '2025-09-10T06:00:00.000Z', '2026-03-10T06:00:00.000Z'],
  },
  {
    title: 'yearly on 1 January and 1 July',
    rule: { frequency: 'yearly', startsAt: '2025-01-01T00:00:00Z', monthsOfYear: ['january', 'july'], daysOfMonth: [1] },
    from: '2025-01-01T00:00:00Z',
    expected: ['2025-07-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'],
  },
  {
    title: 'yearly with daysOfMonth only expands to every month',
    rule: { frequency: 'yearly', startsAt: '2025-01-01T00:00:00Z', daysOfMonth: [20] },
    from: '2025-01-01T00:00:00Z',
    expected: ['2025-01-20T00:00:00.000Z', '2025-02-20T00:00:00.000Z', '2025-03-20T00:00:00.000Z'],
  },
  {
    title: 'yearly on every Monday of February',
    rule: { frequency: 'yearly', startsAt: '2025-01-01T00:00:00Z', monthsOfYear: ['february'], daysOfWeek: ['monday'] },
    from: '2025-01-01T00:00:00Z',
    expected: [
      '2025-02-03T00:00:00.000Z',
      '2025-02-10T00:00:00.000Z',
      '2025-02-17T00:00:00.000Z',
      '2025-02-24T00:00:00.000Z',
      '2026-02-02T00:00:00.000Z',
    ],
  },
  {
    title: 'every 2 years',
    rule: { frequency: 'yearly', interval: 2, startsAt: '2021-07-04T00:00:00Z' },
    from: '2024-01-01T00:00:00Z',
    expected: ['2025-07-04T00:00:00.000Z', '2027-07-04T00:00:00.000Z'],
  },
  // hourly and shorter
  {
    title: 'every 15 minutes',
    rule: { frequency: 'minutely', interval: 15, startsAt: '2025-01-01T00:00:00Z' },
    from: '2025-03-03T10:07:00Z',
    expected: ['2025-03-03T10:15:00.000Z', '2025-03-03T10:30:00.000Z', '2025-03-03T10:45:00.000Z'],
  },
  {
    title: 'hourly at :30 on Saturdays only (a failing day is skipped whole)',
    rule: { frequency: 'hourly', startsAt: '2025-01-03T21:30:00Z', daysOfWeek: ['saturday'] },
    from: '2025-01-04T22:00:00Z',
    expected: ['2025-01-04T22:30:00.000Z', '2025-01-04T23:30:00.000Z', '2025-01-11T00:30:00.000Z'],
  },
  {
    title: 'every 7 seconds from the epoch',
    rule: { frequency: 'secondly', interval: 7 },
    from: '2025-06-01T00:00:00Z', // 1748736000 s since the epoch, 1748736000 mod 7 = 4
    expected: ['2025-06-01T00:00:03.000Z', '2025-06-01T00:00:10.000Z'],
  },
  // far-past starts
  {
    title: 'secondly from 1970 answers the next whole second',
    rule: { frequency: 'secondly', startsAt: '1970-01-01T00:00:00Z' },
    from: '2025-06-01T12:34:56.789Z',
    expected: ['2025-06-01T12:34:57.000Z', '2025-06-01T12:34:58.000Z'],
  },
  {
    title: 'daily from 1900',
    rule: { frequency: 'daily', startsAt: '1900-01-01T06:00:00Z' },
    from: '2025-03-01T05:00:00Z',
    expected: ['2025-03-01T06:00:00.000Z', '2025-03-02T06:00:00.000Z'],
  },
  {
    title: 'every 2 days from 1900 keeps the parity (2025-03-01 is day 45715, odd)',
    rule: { frequency: 'daily', interval: 2, startsAt: '1900-01-01T06:00:00Z' },
    from: '2025-03-01T05:00:00Z',
    expected: ['2025-03-02T06:00:00.000Z', '2025-03-04T06:00:00.000Z'],
  },
  // endsAt
  {
    title: 'endsAt is inclusive',
    rule: { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z', endsAt: '2025-01-03T09:00:00Z' },
    from: '2025-01-01T09:00:00Z',
    expected: ['2025-01-02T09:00:00.000Z', '2025-01-03T09:00:00.000Z'],
  },
  {
    title: 'an occurrence after endsAt ends the rule',
    rule: { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z', endsAt: '2025-01-03T08:59:59Z' },
    from: '2025-01-01T09:00:00Z',
    expected: ['2025-01-02T09:00:00.000Z'],
  },
  // time zones
  {
    title: 'daily without startsAt in a zone runs at local midnight',
    rule: { frequency: 'daily' },
    timezone: 'Europe/Berlin',
    from: '2025-06-01T12:00:00Z',
    expected: ['2025-06-01T22:00:00.000Z', '2025-06-02T22:00:00.000Z'],
  },
  {
    title: 'weekdays are local: Monday 08:00 in Tokyo is Sunday 23:00 UTC',
    rule: { frequency: 'daily', startsAt: '2025-01-01T08:00:00+09:00', daysOfWeek: ['monday'] },
    timezone: 'Asia/Tokyo',
    from: '2025-01-01T00:00:00Z',
    expected: ['2025-01-05T23:00:00.000Z', '2025-01-12T23:00:00.000Z'],
  },
  {
    title: 'weekly keeps the wall-clock time across a DST change (New York)',
    rule: { frequency: 'weekly', startsAt: '2025-03-03T09:00:00-05:00' },
    timezone: 'America/New_York',
    from: '2025-03-03T14:00:00Z',
    expected: ['2025-03-10T13:00:00.000Z', '2025-03-17T13:00:00.000Z'],
  },
  {
    title: 'monthly on the 1st at 09:00 Berlin, winter and summer',
    rule: { frequency: 'monthly', startsAt: '2025-01-01T09:00:00+01:00', daysOfMonth: [1] },
    timezone: 'Europe/Berlin',
    from: '2025-02-15T00:00:00Z',
    expected: ['2025-03-01T08:00:00.000Z', '2025-04-01T07:00:00.000Z'],
  },
  // cron
  {
    title: 'cron, 5 fields, every 15 minutes',
    rule: '*/15 * * * *',
    from: '2025-03-03T10:07:00Z',
    expected: ['2025-03-03T10:15:00.000Z', '2025-03-03T10:30:00.000Z'],
  },
  {
    title: 'cron, 5 fields, strictly after now',
    rule: '0 9 * * 1-5',
    from: '2025-01-03T09:00:00Z', // a Friday, at the occurrence itself
    expected: ['2025-01-06T09:00:00.000Z', '2025-01-07T09:00:00.000Z'],
  },
  {
    title: 'cron, 6 fields with leading seconds',
    rule: '*/10 * * * * *',
    from: '2025-03-03T10:00:05.500Z',
    expected: ['2025-03-03T10:00:10.000Z', '2025-03-03T10:00:20.000Z'],
  },
  {
    title: 'cron in a zone: 09:00 New York is 14:00 UTC in winter, 13:00 in summer',
    rule: '0 9 * * *',
    timezone: 'America/New_York',
    from: '2025-03-07T15:00:00Z',
    expected: ['2025-03-08T14:00:00.000Z', '2025-03-09T13:00:00.000Z'],
  },
  {
    title: 'cron, 6 fields in a zone',
    rule: '30 0 12 * * *',
    timezone: 'Asia/Kolkata',
    from: '2025-01-01T00:00:00Z',
    expected: ['2025-01-01T06:30:30.000Z', '2025-01-02T06:30:30.000Z'],
  },
];

describe('nextRunAt', () => {
  describe('sequences', () => {
    for (const { title, rule, from, timezone, expected } of SEQUENCES) {
      it(title, () => {
        expect(occurrences(rule, from, expected.length, timezone)).to.deep.equal(expected);
      });
    }
  });

  describe('frequency none', () => {
    const rule: RecurrenceRule = { frequency: 'none', startsAt: '2025-05-01T12:00:00Z' };

    it('returns startsAt while it lies ahead', () => {
      expect(nextRunAt(rule, new Date('2025-04-01T00:00:00Z'))?.toISOString()).to.equal('2025-05-01T12:00:00.000Z');
    });

    it('returns null at and after startsAt, so it never fires twice', () => {
      expect(nextRunAt(rule, new Date('2025-05-01T12:00:00Z'))).to.equal(null);
      expect(nextRunAt(rule, new Date('2030-01-01T00:00:00Z'))).to.equal(null);
    });

    it('ignores the time zone', () => {
      expect(nextRunAt(rule, new Date('2025-04-01T00:00:00Z'), { timezone: 'Asia/Tokyo' })?.toISOString()).to.equal(
        '2025-05-01T12:00:00.000Z',
      );
    });
  });

  describe('ending and impossible rules', () => {
    it('returns null once now is past endsAt', () => {
      const rule: RecurrenceRule = { frequency: 'hourly', startsAt: '2025-01-01T00:00:00Z', endsAt: '2025-01-02T00:00:00Z' };
      expect(nextRunAt(rule, new Date('2025-01-01T23:00:00Z'))?.toISOString()).to.equal('2025-01-02T00:00:00.000Z');
      expect(nextRunAt(rule, new Date('2025-01-02T00:00:00Z'))).to.equal(null);
    });

    it('returns null for a yearly rule whose interval never reaches a leap day', () => {
      const rule: RecurrenceRule = {
        frequency: 'yearly',
        interval: 4,
        startsAt: '2021-01-01T00:00:00Z',
        monthsOfYear: ['february'],
        daysOfMonth: [29],
      };
      expect(nextRunAt(rule, new Date('2025-01-01T00:00:00Z'))).to.equal(null);
    });

    it('returns null for a rule every 7 days from a Monday limited to Tuesdays', () => {
      const rule: RecurrenceRule = { frequency: 'daily', interval: 7, startsAt: '2025-01-06T00:00:00Z', daysOfWeek: ['tuesday'] };
      expect(nextRunAt(rule, new Date('2025-01-01T00:00:00Z'))).to.equal(null);
    });

    it('returns null for an hourly rule whose interval never reaches the filtered weekday', () => {
      const rule: RecurrenceRule = { frequency: 'hourly', interval: 168, startsAt: '2025-01-06T12:00:00Z', daysOfWeek: ['tuesday'] };
      expect(nextRunAt(rule, new Date('2025-01-01T00:00:00Z'))).to.equal(null);
    });

    it('finds an occurrence decades away (29 February on a Monday)', () => {
      const rule: RecurrenceRule = {
        frequency: 'daily',
        startsAt: '2025-01-01T00:00:00Z',
        monthsOfYear: ['february'],
        daysOfMonth: [29],
        daysOfWeek: ['monday'],
      };
      expect(nextRunAt(rule, new Date('2025-01-01T00:00:00Z'))?.toISOString()).to.equal('2044-02-29T00:00:00.000Z');
    });

    it('answers a secondly rule from 1970 a thousand times over without scanning', () => {
      let now = new Date('2025-06-01T00:00:00.000Z');
      for (let i = 0; i < 1000; i++) now = nextRunAt({ frequency: 'secondly' }, now)!;
      expect(now.toISOString()).to.equal('2025-06-01T00:16:40.000Z');
    });
  });

  describe('daylight saving time', () => {
    const daily = (startsAt: string): RecurrenceRule => ({ frequency: 'daily', startsAt });

    it('Europe/Berlin spring-forward: a 02:30 daily run fires once, at 03:30 local', () => {
      const runs = occurrencesOnLocalDay(daily('2025-03-01T02:30:00+01:00'), '2025-03-30', 'Europe/Berlin');
      expect(runs.map((run) => run.toISO())).to.deep.equal(['2025-03-30T03:30:00.000+02:00']);
    });

    it('Europe/Berlin fall-back: a 02:30 daily run fires once, at the first 02:30', () => {
      const runs = occurrencesOnLocalDay(daily('2025-10-01T02:30:00+02:00'), '2025-10-26', 'Europe/Berlin');
      expect(runs.map((run) => run.toISO())).to.deep.equal(['2025-10-26T02:30:00.000+02:00']);
      expect(occurrences(daily('2025-10-01T02:30:00+02:00'), '2025-10-26T00:30:00Z', 1, 'Europe/Berlin')).to.deep.equal([
        '2025-10-27T01:30:00.000Z',
      ]);
    });

    it('America/New_York spring-forward: a 02:30 daily run fires once, at 03:30 local', () => {
      const runs = occurrencesOnLocalDay(daily('2025-03-01T02:30:00-05:00'), '2025-03-09', 'America/New_York');
      expect(runs.map((run) => run.toISO())).to.deep.equal(['2025-03-09T03:30:00.000-04:00']);
    });

    it('America/New_York fall-back: a 01:30 daily run fires once, at the first 01:30', () => {
      const runs = occurrencesOnLocalDay(daily('2025-10-01T01:30:00-04:00'), '2025-11-02', 'America/New_York');
      expect(runs.map((run) => run.toISO())).to.deep.equal(['2025-11-02T01:30:00.000-04:00']);
    });

    it('hourly in Europe/Berlin counts real hours: 23 runs on spring-forward day, 25 on fall-back day', () => {
      const hourly: RecurrenceRule = { frequency: 'hourly', startsAt: '2025-01-01T00:15:00+01:00' };
      for (const [day, count] of [
        ['2025-03-30', 23],
        ['2025-10-26', 25],
      ] as const) {
        const runs = occurrencesOnLocalDay(hourly, day, 'Europe/Berlin');
        expect(runs, day).to.have.length(count);
        runs.slice(1).forEach((run, i) => expect(run.toMillis() - runs[i]!.toMillis()).to.equal(3_600_000));
      }
    });

    it('hourly in America/New_York has no missing or doubled instant on either transition', () => {
      const hourly: RecurrenceRule = { frequency: 'hourly', startsAt: '2025-01-01T00:00:00-05:00' };
      expect(occurrencesOnLocalDay(hourly, '2025-03-09', 'America/New_York')).to.have.length(23);
      const fallBack = occurrencesOnLocalDay(hourly, '2025-11-02', 'America/New_York');
      expect(fallBack.map((run) => run.toFormat('HH:mm ZZ')).slice(0, 4)).to.deep.equal([
        '00:00 -04:00',
        '01:00 -04:00',
        '01:00 -05:00',
        '02:00 -05:00',
      ]);
    });

    it('cron 30 2 * * * in Europe/Berlin fires once on both transition days', () => {
      expect(occurrencesOnLocalDay('30 2 * * *', '2025-03-30', 'Europe/Berlin').map((run) => run.toISO())).to.deep.equal([
        '2025-03-30T03:30:00.000+02:00',
      ]);
      expect(occurrencesOnLocalDay('30 2 * * *', '2025-10-26', 'Europe/Berlin')).to.have.length(1);
    });

    it('cron 30 1 * * * in America/New_York fires once on the fall-back day', () => {
      expect(occurrencesOnLocalDay('30 1 * * *', '2025-11-02', 'America/New_York')).to.have.length(1);
    });
  });
});

describe('validateRecurrenceRule', () => {
  it('returns a normalised copy and leaves the input alone', () => {
    const input = {
      frequency: 'WEEKLY',
      startsAt: '2025-01-01T09:00:00+01:00',
      daysOfWeek: ['Friday', 'monday', 'monday'],
      daysOfMonth: [],
      monthsOfYear: ['JULY', 'january'],
    };
    const copy = structuredClone(input);
    expect(validateRecurrenceRule(input)).to.deep.equal({
      frequency: 'weekly',
      interval: 1,
      startsAt: new Date('2025-01-01T08:00:00Z'),
      daysOfWeek: ['monday', 'friday'],
      monthsOfYear: ['january', 'july'],
    });
    expect(input).to.deep.equal(copy);
  });

  it('accepts Dates and round-trips through JSON', () => {
    const rule = validateRecurrenceRule({
      frequency: 'daily',
      startsAt: new Date('2025-01-01T09:00:00Z'),
      endsAt: new Date('2026-01-01T00:00:00Z'),
    });
    expect(validateRecurrenceRule(JSON.parse(JSON.stringify(rule)))).to.deep.equal(rule);
  });

  it('sorts daysOfMonth with the negative (from-the-end) values last', () => {
    expect(validateRecurrenceRule({ frequency: 'monthly', daysOfMonth: [-1, 15, 1, -2] }).daysOfMonth).to.deep.equal([1, 15, -1, -2]);
  });

  it('uses the field name it is given', () => {
    expectInvalid(
      () => validateRecurrenceRule({ frequency: 'daily', interval: 0 }, 'schedule.recurrenceRule'),
      'schedule.recurrenceRule.interval',
    );
  });

  const INVALID: Array<[string, unknown, string | RegExp]> = [
    ['a non-object rule', null, 'recurrenceRule must be a plain object (got null)'],
    ['an unknown key', { frequency: 'daily', every: 2 }, "recurrenceRule: unknown option 'every'"],
    ['a missing frequency', {}, 'recurrenceRule.frequency must be one of none, secondly'],
    [
      'an unknown frequency',
      { frequency: 'fortnightly' },
      "recurrenceRule.frequency must be one of none, secondly, minutely, hourly, daily, weekly, monthly, yearly (got 'fortnightly')",
    ],
    ['interval 0', { frequency: 'daily', interval: 0 }, 'recurrenceRule.interval must be a positive integer (got 0)'],
    ['a negative interval', { frequency: 'daily', interval: -2 }, 'recurrenceRule.interval must be a positive integer (got -2)'],
    ['a fractional interval', { frequency: 'daily', interval: 1.5 }, 'recurrenceRule.interval must be a positive integer (got 1.5)'],
    ['a string interval', { frequency: 'daily', interval: '2' }, "recurrenceRule.interval must be a positive integer (got '2')"],
    [
      'daysOfMonth 0',
      { frequency: 'monthly', daysOfMonth: [1, 0] },
      "recurrenceRule.daysOfMonth[1] must be an integer from 1 to 31, or from -1 to -31 counting back from the month's end (got 0)",
    ],
    ['daysOfMonth 32', { frequency: 'monthly', daysOfMonth: [32] }, 'recurrenceRule.daysOfMonth[0] must be an integer from 1 to 31'],
    ['daysOfMonth -32', { frequency: 'monthly', daysOfMonth: [-32] }, '(got -32)'],
    [
      'a string in daysOfMonth',
      { frequency: 'monthly', daysOfMonth: ['1'] },
      "recurrenceRule.daysOfMonth[0] must be an integer from 1 to 31, or from -1 to -31 counting back from the month's end (got '1')",
    ],
    ['daysOfMonth not an array', { frequency: 'monthly', daysOfMonth: 15 }, 'recurrenceRule.daysOfMonth must be an array (got 15)'],
    [
      'daysOfWeek funday',
      { frequency: 'weekly', daysOfWeek: ['monday', 'funday'] },
      "recurrenceRule.daysOfWeek[1] must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday (got 'funday')",
    ],
    [
      'monthsOfYear smarch',
      { frequency: 'yearly', monthsOfYear: ['smarch'] },
      'recurrenceRule.monthsOfYear[0] must be one of january, february',
    ],
    [
      'startsAt not a date',
      { frequency: 'daily', startsAt: 'tomorrow' },
      "recurrenceRule.startsAt must be a valid Date or an ISO 8601 string with a UTC offset, such as '2025-01-01T09:00:00Z' or '2025-01-01T09:00:00+01:00' (got 'tomorrow')",
    ],
    [
      'startsAt month 13',
      { frequency: 'daily', startsAt: '2025-13-01T00:00:00Z' },
      'recurrenceRule.startsAt must be a valid Date or an ISO 8601 string',
    ],
    ['startsAt without an offset', { frequency: 'daily', startsAt: '2025-01-01T09:00:00' }, "(got '2025-01-01T09:00:00')"],
    ['startsAt date only', { frequency: 'daily', startsAt: '2025-01-01' }, "(got '2025-01-01')"],
    [
      'startsAt an invalid Date',
      { frequency: 'daily', startsAt: new Date(Number.NaN) },
      'recurrenceRule.startsAt must be a valid Date (got Invalid Date)',
    ],
    [
      'startsAt a number',
      { frequency: 'daily', startsAt: 1735689600000 },
      'recurrenceRule.startsAt must be a valid Date or an ISO 8601 string',
    ],
    ['endsAt not a date', { frequency: 'daily', endsAt: 'never' }, 'recurrenceRule.endsAt must be a valid Date or an ISO 8601 string'],
    [
      'endsAt before startsAt',
      { frequency: 'daily', startsAt: '2025-02-01T00:00:00Z', endsAt: '2025-01-01T00:00:00Z' },
      'recurrenceRule.endsAt must not be before recurrenceRule.startsAt (got 2025-01-01T00:00:00.000Z < 2025-02-01T00:00:00.000Z)',
    ],
    [
      'frequency none without startsAt',
      { frequency: 'none' },
      "recurrenceRule.startsAt is required when recurrenceRule.frequency is 'none'",
    ],
    [
      'frequency none with a filter',
      { frequency: 'none', startsAt: '2025-01-01T00:00:00Z', daysOfWeek: ['monday'] },
      "recurrenceRule.daysOfWeek cannot be used with frequency 'none'",
    ],
    [
      'daysOfMonth that never occur in monthsOfYear',
      { frequency: 'yearly', daysOfMonth: [31, 30], monthsOfYear: ['february'] },
      'recurrenceRule.daysOfMonth [30, 31] never occurs in recurrenceRule.monthsOfYear [february]',
    ],
    [
      '-31 in 30-day months',
      { frequency: 'monthly', daysOfMonth: [-31], monthsOfYear: ['april', 'june'] },
      'recurrenceRule.daysOfMonth [-31] never occurs',
    ],
  ];
  for (const [title, rule, message] of INVALID) {
    it(`rejects ${title}`, () => {
      expectInvalid(() => validateRecurrenceRule(rule), message);
    });
  }

  it('accepts daysOfMonth that occur in at least one of the months', () => {
    const rule: RecurrenceRule = {
      frequency: 'yearly',
      startsAt: '2025-01-01T00:00:00Z',
      daysOfMonth: [30],
      monthsOfYear: ['february', 'april'],
    };
    expect(occurrences(rule, '2025-01-01T00:00:00Z', 2)).to.deep.equal(['2025-04-30T00:00:00.000Z', '2026-04-30T00:00:00.000Z']);
  });

  it('nextRunAt validates the rule it is given', () => {
    expectInvalid(
      () => nextRunAt({ frequency: 'daily', interval: 0 }, new Date()),
      'recurrenceRule.interval must be a positive integer (got 0)',
    );
  });
});

describe('validateCron', () => {
  it('accepts 5 and 6 fields and normalises whitespace', () => {
    expect(validateCron('  0  9 * *   1-5 ')).to.equal('0 9 * * 1-5');
    expect(validateCron('*/10 * * * * *')).to.equal('*/10 * * * * *');
    expect(validateCron('0 0 * * THU')).to.equal('0 0 * * THU');
  });

  const INVALID: Array<[string, unknown, string | RegExp]> = [
    [
      '4 fields',
      '* * * *',
      "cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 (a leading seconds field) (got 4 fields: '* * * *')",
    ],
    ['7 fields', '0 0 0 * * * 2025', '(got 7 fields'],
    ['an alias', '@daily', "(got 1 field: '@daily')"],
    ['words', 'every day', '(got 2 fields'],
    [
      'an out-of-range minute',
      '61 * * * *',
      "cron is not a valid cron expression: Constraint error, got value 61 expected range 0-59 (got '61 * * * *')",
    ],
    ['a day that never exists', '0 0 30 2 *', 'cron is not a valid cron expression'],
    ['the random H value', 'H * * * *', "cron must not use the random 'H' value"],
    ['an empty string', '', 'cron must be a non-empty string'],
    ['a number', 5, 'cron must be a non-empty string (got 5)'],
  ];
  for (const [title, expr, message] of INVALID) {
    it(`rejects ${title}`, () => {
      expectInvalid(() => validateCron(expr), message);
    });
  }

  it('names the field it is given, and nextRunAt reports cron errors as cron', () => {
    expectInvalid(() => validateCron('* * *', 'schedule.cron'), 'schedule.cron must have 5 fields');
    expectInvalid(() => nextRunAt('0 0 30 2 *', new Date()), 'cron is not a valid cron expression');
  });
});

describe('validateTimezone and nextRunAt arguments', () => {
  it('accepts IANA names', () => {
    expect(validateTimezone('Europe/Berlin')).to.equal('Europe/Berlin');
    expect(validateTimezone('UTC')).to.equal('UTC');
  });

  const INVALID: Array<[string, () => unknown, string]> = [
    [
      'an unknown zone',
      () => validateTimezone('Mars/Olympus'),
      "timezone must be an IANA time zone such as 'UTC', 'Europe/Berlin' or 'America/New_York' (got 'Mars/Olympus')",
    ],
    ['an empty zone', () => validateTimezone(''), 'timezone must be a non-empty string'],
    ['a custom field name', () => validateTimezone('Nowhere', 'schedule.timezone'), 'schedule.timezone must be an IANA time zone'],
    [
      'an unknown zone in nextRunAt',
      () => nextRunAt({ frequency: 'daily' }, new Date(), { timezone: 'Europe/Atlantis' }),
      "timezone must be an IANA time zone such as 'UTC', 'Europe/Berlin' or 'America/New_York' (got 'Europe/Atlantis')",
    ],
    ['an unknown zone with cron', () => nextRunAt('0 * * * *', new Date(), { timezone: 'Nowhere' }), "(got 'Nowhere')"],
    ['an invalid now', () => nextRunAt({ frequency: 'daily' }, new Date(Number.NaN)), 'now must be a valid Date (got Invalid Date)'],
    [
      'a string now',
      () => nextRunAt({ frequency: 'daily' }, '2025-01-01' as unknown as Date),
      "now must be a valid Date (got '2025-01-01')",
    ],
    ['an unknown option', () => nextRunAt({ frequency: 'daily' }, new Date(), { tz: 'UTC' } as never), "options: unknown option 'tz'"],
  ];
  for (const [title, action, message] of INVALID) {
    it(`rejects ${title}`, () => {
      expectInvalid(action, message);
    });
  }
});

describe('validateScheduleTiming and nextScheduleRunAt', () => {
  it('needs exactly one of recurrenceRule and cron', () => {
    expectInvalid(() => validateScheduleTiming({}), 'a schedule needs a recurrenceRule or a cron expression');
    expectInvalid(
      () => validateScheduleTiming({ cron: '* * * * *', recurrenceRule: { frequency: 'daily' } }),
      'give either recurrenceRule or cron, not both',
    );
  });

  it('validates and normalises each field', () => {
    expect(validateScheduleTiming({ cron: ' 0 9 * * * ', timezone: 'Europe/Berlin' })).to.deep.equal({
      cron: '0 9 * * *',
      timezone: 'Europe/Berlin',
    });
    expect(validateScheduleTiming({ recurrenceRule: { frequency: 'daily' } })).to.deep.equal({
      recurrenceRule: { frequency: 'daily', interval: 1 },
    });
    expectInvalid(() => validateScheduleTiming({ cron: '0 9 * * *', timezone: 'Nowhere' }), 'timezone must be an IANA time zone');
  });

  it('evaluates the timing in its zone', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    expect(nextScheduleRunAt({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }, now)?.toISOString()).to.equal('2025-01-01T08:00:00.000Z');
    expect(nextScheduleRunAt({ recurrenceRule: { frequency: 'daily' }, timezone: 'Asia/Tokyo' }, now)?.toISOString()).to.equal(
      '2025-01-01T15:00:00.000Z',
    );
  });

  it('rejects a timing with both or neither rule', () => {
    expectInvalid(() => nextScheduleRunAt({ cron: '* * * * *', recurrenceRule: { frequency: 'daily' } }, new Date()), 'not both');
    expectInvalid(() => nextScheduleRunAt({ timezone: 'UTC' }, new Date()), 'a schedule needs a recurrenceRule or a cron expression');
  });
});
