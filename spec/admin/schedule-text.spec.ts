/** How the dashboard words a schedule's timing, no database needed. */
import { expect } from 'chai';
import { describeTiming, everyText } from '../../lib/admin/pages/schedules.js';
import type { Frequency, RecurrenceRule } from '../../lib/schedules/recurrence.js';

describe('dashboard schedule timing text', () => {
  it('every frequency, with interval 1 and n', () => {
    const cases: [Frequency, number, string][] = [
      ['secondly', 1, 'every second'],
      ['secondly', 20, 'every 20 seconds'],
      ['minutely', 1, 'every minute'],
      ['minutely', 15, 'every 15 minutes'],
      ['hourly', 1, 'every hour'],
      ['hourly', 2, 'every 2 hours'],
      ['daily', 1, 'every day'],
      ['daily', 3, 'every 3 days'],
      ['weekly', 1, 'every week'],
      ['weekly', 2, 'every 2 weeks'],
      ['monthly', 1, 'every month'],
      ['monthly', 6, 'every 6 months'],
      ['yearly', 1, 'every year'],
      ['yearly', 10, 'every 10 years'],
      ['none', 1, 'once'],
    ];
    for (const [frequency, interval, text] of cases) expect(everyText(frequency, interval), `${frequency} × ${interval}`).to.equal(text);
  });

  it('a schedule: the cron expression, or the rule in words with its filters and start', () => {
    const rule = (value: RecurrenceRule) => describeTiming({ cron: null, recurrenceRule: value });
    expect(describeTiming({ cron: '*/5 * * * *', recurrenceRule: null })).to.equal('cron */5 * * * *');
    expect(rule({ frequency: 'secondly', interval: 20 })).to.equal('every 20 seconds');
    expect(rule({ frequency: 'minutely' })).to.equal('every minute');
    expect(rule({ frequency: 'daily', interval: 1 })).to.equal('every day');
    expect(rule({ frequency: 'hourly', interval: 2, startsAt: new Date('2026-01-01T08:00:00Z') })).to.equal(
      'every 2 hours from 2026-01-01 08:00',
    );
    expect(rule({ frequency: 'weekly', daysOfWeek: ['monday', 'friday'] })).to.equal('every week on monday, friday');
    expect(rule({ frequency: 'none', startsAt: new Date('2026-03-01T12:30:00Z') })).to.equal('once at 2026-03-01 12:30');
    expect(describeTiming({ cron: null, recurrenceRule: null })).to.equal('–');
  });
});
