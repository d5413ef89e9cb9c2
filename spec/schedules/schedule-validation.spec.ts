import { expect } from 'chai';
import type { ScheduleCreateInput } from '../../lib/index.js';
import { expectError, forEachDialect } from '../support/index.js';
import { DAILY, createSchedule, definition, reload } from './schedule-helpers.js';

class NotPlain {
  value = 1;
}

forEachDialect('schedules: bad input', (t) => {
  /** Each case: fields over a valid schedule, and the text the message must contain (the field). */
  const cases: [string, Partial<ScheduleCreateInput> | Record<string, unknown>, string][] = [
    ['interval 0', { recurrenceRule: { frequency: 'daily', interval: 0 } }, 'recurrenceRule.interval'],
    ['daysOfMonth 32', { recurrenceRule: { frequency: 'monthly', daysOfMonth: [32] } }, 'recurrenceRule.daysOfMonth[0]'],
    ['an unknown frequency', { recurrenceRule: { frequency: 'fortnightly' } }, 'recurrenceRule.frequency'],
    [
      'endsAt before startsAt',
      { recurrenceRule: { frequency: 'daily', startsAt: '2025-02-01T00:00:00Z', endsAt: '2025-01-01T00:00:00Z' } },
      'recurrenceRule.endsAt',
    ],
    ['a startsAt without offset', { recurrenceRule: { frequency: 'daily', startsAt: '2025-01-01T09:00:00' } }, 'recurrenceRule.startsAt'],
    ["'none' without startsAt", { recurrenceRule: { frequency: 'none' } }, 'recurrenceRule.startsAt'],
    ['an invalid cron', { recurrenceRule: undefined, cron: '61 * * * *' }, 'cron'],
    ['a cron with 4 fields', { recurrenceRule: undefined, cron: '* * * *' }, 'cron'],
    ['an unknown time zone', { timezone: 'Mars/Olympus' }, 'timezone'],
    ['both a rule and a cron', { cron: '* * * * *' }, 'not both'],
    ['neither a rule nor a cron', { recurrenceRule: undefined }, 'recurrenceRule or a cron'],
    ['an empty name', { name: '' }, 'schedule.name'],
    ['an unknown status', { status: 'paused' }, 'schedule.status'],
    ['a negative maxExecutionCount', { maxExecutionCount: -1 }, 'schedule.maxExecutionCount'],
    ['a fractional maxExecutionCount', { maxExecutionCount: 1.5 }, 'schedule.maxExecutionCount'],
    ['an endAt without offset', { endAt: '2030-01-01' }, 'schedule.endAt'],
    ['an invalid endAt Date', { endAt: new Date('nope') }, 'schedule.endAt'],
    ['parameters that are not a plain object', { parameters: new NotPlain() }, 'schedule.parameters'],
    ['parameters holding a function', { parameters: { fn: () => 1 } }, 'schedule.parameters.fn'],
    ['an array as parameters', { parameters: [1, 2] }, 'schedule.parameters'],
    ['an unknown option', { every: 'day' }, "'every'"],
    ['both taskDefinitionId and alias', { alias: 'ScheduledTask' }, 'not both'],
    ['a queue name too long', { queueName: 'q'.repeat(101) }, 'schedule.queueName'],
  ];

  for (const [title, fields, field] of cases) {
    it(`rejects ${title} with INVALID_ARGUMENT naming it, writing nothing`, async function () {
      const def = await definition(t.store);
      const input = { name: 'bad', taskDefinitionId: def.id, recurrenceRule: DAILY, ...fields } as ScheduleCreateInput;
      await expectError(() => t.store.scheduleCreate(input), 'INVALID_ARGUMENT', field);
      expect(await t.store.scheduleCount({ includeSoftDeleted: true })).to.equal(0);
    });
  }

  it('rejects a missing name and a missing definition', async function () {
    await expectError(() => t.store.scheduleCreate({ recurrenceRule: DAILY, alias: 'x' } as never), 'INVALID_ARGUMENT', 'name');
    await expectError(() => t.store.scheduleCreate({ name: 'x', recurrenceRule: DAILY }), 'INVALID_ARGUMENT', 'taskDefinitionId or alias');
    await expectError(() => t.store.scheduleCreate(null as never), 'INVALID_ARGUMENT');
  });

  it('rejects a bad update with INVALID_ARGUMENT and leaves the row as it was', async function () {
    const schedule = await createSchedule(t.store, await definition(t.store));
    await expectError(
      () => t.store.scheduleUpdate({ id: schedule.id, recurrenceRule: { frequency: 'daily', interval: 0 } }),
      'INVALID_ARGUMENT',
      'recurrenceRule.interval',
    );
    await expectError(
      () => t.store.scheduleUpdate({ id: schedule.id, recurrenceRule: DAILY, cron: '* * * * *' }),
      'INVALID_ARGUMENT',
      'not both',
    );
    await expectError(
      () => t.store.scheduleUpdate({ id: schedule.id, recurrenceRule: null }),
      'INVALID_ARGUMENT',
      'recurrenceRule or a cron',
    );
    await expectError(() => t.store.scheduleUpdate({ id: schedule.id, timezone: 'Nowhere/Land' }), 'INVALID_ARGUMENT', 'timezone');
    await expectError(() => t.store.scheduleUpdate({ id: schedule.id, status: 'running' as never }), 'INVALID_ARGUMENT', 'status');
    await expectError(() => t.store.scheduleUpdate({ id: '', name: 'x' }), 'INVALID_ARGUMENT', 'id');
    await expectError(() => t.store.scheduleUpdate({ id: schedule.id, alias: 'NoSuchTask' }), 'NOT_FOUND', 'NoSuchTask');
    expect(await reload(t.store, schedule.id)).to.deep.equal(schedule);
  });
});
