import { expect } from 'chai';
import { ScheduleRunner, nextRunAt, type Schedule, type TaskQueueItem } from '../../lib/index.js';
import { forEachDialect } from '../support/index.js';
import { DAILY, HOURLY, createSchedule, definition, makeDue, recordingLogger, reload, setNextRunAt } from './schedule-helpers.js';

const DAY_MS = 86_400_000;

forEachDialect('ScheduleRunner: firing', (t) => {
  it('enqueues a due schedule once, with its parameters and queue, and moves nextRunAt to the next occurrence', async function () {
    const def = await definition(t.store);
    const schedule = await createSchedule(t.store, def, { queueName: 'reports', parameters: { to: 'ops' } });
    await makeDue(t.store, schedule.id);
    const runner = new ScheduleRunner(t.store);
    const fired: [Schedule, TaskQueueItem][] = [];
    runner.on('schedule:fired', (s, item) => fired.push([s, item]));

    expect(await runner.runOnce()).to.deep.equal({ fired: 1, completed: 0, deactivated: 0, failed: 0 });
    const items = await t.store.taskQueueList();
    expect(items).to.have.length(1);
    expect(items[0]).to.include({ taskId: def.id, queueName: 'reports', status: 'queued' });
    expect(items[0]!.parameters).to.deep.equal({ to: 'ops', task_alias: def.alias });

    const after = await reload(t.store, schedule.id);
    expect(after).to.include({ status: 'active', executionCount: 1, lastError: null });
    expect(after.lastRunAt).to.be.instanceOf(Date);
    expect(after.nextRunAt?.toISOString()).to.equal(nextRunAt(DAILY, after.lastRunAt!)?.toISOString());
    expect(fired).to.have.length(1);
    expect(fired[0]![0]).to.deep.equal(after);
    expect(fired[0]![1].id).to.equal(items[0]!.id);

    expect(await runner.runOnce()).to.deep.equal({ fired: 0, completed: 0, deactivated: 0, failed: 0 });
    expect(await t.store.taskQueueCount()).to.equal(1);
  });

  it('leaves schedules alone that are not due, not active, or soft-deleted', async function () {
    const def = await definition(t.store);
    await createSchedule(t.store, def, { name: 'future' });
    for (const status of ['draft', 'inactive', 'completed']) {
      const schedule = await createSchedule(t.store, def, { name: status, status: status as Schedule['status'] });
      await makeDue(t.store, schedule.id);
    }
    const deleted = await createSchedule(t.store, def, { name: 'deleted' });
    await makeDue(t.store, deleted.id);
    await t.store.scheduleSoftDeleteById(deleted.id);

    expect((await new ScheduleRunner(t.store).runOnce()).fired).to.equal(0);
    expect(await t.store.taskQueueCount()).to.equal(0);
  });

  it('catches up after a long gap by firing once and moving to the next future occurrence', async function () {
    const schedule = await createSchedule(t.store, await definition(t.store), { recurrenceRule: HOURLY });
    await makeDue(t.store, schedule.id, 30 * DAY_MS);
    const runner = new ScheduleRunner(t.store);
    await runner.runOnce();
    await runner.runOnce();
    expect(await t.store.taskQueueCount()).to.equal(1);
    const after = await reload(t.store, schedule.id);
    expect(after.executionCount).to.equal(1);
    expect(after.nextRunAt!.getTime()).to.be.greaterThan(after.lastRunAt!.getTime());
    expect(after.nextRunAt?.toISOString()).to.equal(nextRunAt(HOURLY, after.lastRunAt!)?.toISOString());
  });

  it('completes a schedule when maxExecutionCount is reached', async function () {
    const schedule = await createSchedule(t.store, await definition(t.store), { maxExecutionCount: 2 });
    const runner = new ScheduleRunner(t.store);
    const completed: Schedule[] = [];
    runner.on('schedule:completed', (s) => completed.push(s));

    await makeDue(t.store, schedule.id);
    await runner.runOnce();
    expect(await reload(t.store, schedule.id)).to.include({ status: 'active', executionCount: 1 });
    await makeDue(t.store, schedule.id);
    expect(await runner.runOnce()).to.deep.equal({ fired: 1, completed: 1, deactivated: 0, failed: 0 });
    const done = await reload(t.store, schedule.id);
    expect(done).to.include({ status: 'completed', executionCount: 2, nextRunAt: null });
    expect(completed.map((s) => s.id)).to.deep.equal([schedule.id]);

    await setNextRunAt(t.store, schedule.id, new Date(Date.now() - 1000));
    await runner.runOnce();
    expect(await t.store.taskQueueCount()).to.equal(2);
  });

  it('completes a schedule whose next occurrence lies after endAt', async function () {
    const schedule = await createSchedule(t.store, await definition(t.store));
    // endAt just before the next occurrence: the due one still fires, nothing after it.
    const endAt = new Date(nextRunAt(DAILY, new Date())!.getTime() - 1);
    await t.store.knex('task_schedule').where({ id: schedule.id }).update({ end_at: endAt });
    await makeDue(t.store, schedule.id);
    await new ScheduleRunner(t.store).runOnce();
    expect(await t.store.taskQueueCount()).to.equal(1);
    expect(await reload(t.store, schedule.id)).to.include({ status: 'completed', executionCount: 1, nextRunAt: null });
  });

  it('completes without enqueueing a schedule whose due occurrence is already past endAt', async function () {
    const schedule = await createSchedule(t.store, await definition(t.store));
    await t.store
      .knex('task_schedule')
      .where({ id: schedule.id })
      .update({ end_at: new Date(Date.now() - DAY_MS) });
    await makeDue(t.store, schedule.id, 1000);
    expect(await new ScheduleRunner(t.store).runOnce()).to.deep.equal({ fired: 0, completed: 1, deactivated: 0, failed: 0 });
    expect(await t.store.taskQueueCount()).to.equal(0);
    expect(await reload(t.store, schedule.id)).to.include({ status: 'completed', executionCount: 0 });
  });

  it("fires a 'none' rule once, then completes it", async function () {
    const schedule = await createSchedule(t.store, await definition(t.store), {
      recurrenceRule: { frequency: 'none', startsAt: new Date(Date.now() - 1000) },
    });
    const runner = new ScheduleRunner(t.store);
    expect((await runner.runOnce()).fired).to.equal(1);
    expect((await runner.runOnce()).fired).to.equal(0);
    expect(await t.store.taskQueueCount()).to.equal(1);
    expect(await reload(t.store, schedule.id)).to.include({ status: 'completed', executionCount: 1, nextRunAt: null });
  });

  it('fires cron schedules as well', async function () {
    const schedule = await createSchedule(t.store, await definition(t.store), { recurrenceRule: undefined, cron: '*/10 * * * *' });
    await makeDue(t.store, schedule.id);
    await new ScheduleRunner(t.store).runOnce();
    const after = await reload(t.store, schedule.id);
    expect(after.executionCount).to.equal(1);
    expect(after.nextRunAt?.toISOString()).to.equal(nextRunAt('*/10 * * * *', after.lastRunAt!)?.toISOString());
  });

  it('fires every due schedule in one pass, however many (paging)', async function () {
    const def = await definition(t.store);
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) ids.push((await createSchedule(t.store, def, { name: `s${i}` })).id);
    await t.store
      .knex('task_schedule')
      .whereIn('id', ids)
      .update({ next_run_at: new Date(Date.now() - 60_000) });
    expect((await new ScheduleRunner(t.store).runOnce()).fired).to.equal(130);
    expect(await t.store.taskQueueCount()).to.equal(130);
  });
});

forEachDialect('ScheduleRunner: a definition that is gone', (t) => {
  const variants: [string, (store: typeof t.store, id: string) => Promise<unknown>, string][] = [
    ['hard-deleted', (store, id) => store.taskDefinitionDeleteById(id), 'not found'],
    ['soft-deleted', (store, id) => store.taskDefinitionSoftDeleteById(id), 'soft-deleted'],
    ['canceled', (store, id) => store.taskDefinitionUpdate({ id, status: 'canceled' }), 'canceled'],
  ];
  for (const [how, remove, reason] of variants) {
    it(`does not enqueue when the definition is ${how}: inactive with lastError, logged once`, async function () {
      const def = await definition(t.store);
      const schedule = await createSchedule(t.store, def);
      await makeDue(t.store, schedule.id);
      await remove(t.store, def.id);
      const logger = recordingLogger();
      const runner = new ScheduleRunner(t.store, { logger });
      const deactivated: string[] = [];
      runner.on('schedule:deactivated', (_s, why) => deactivated.push(why));

      expect((await runner.runOnce()).deactivated).to.equal(1);
      await makeDue(t.store, schedule.id); // even a due time written again does not make it fire: it is inactive
      expect((await runner.runOnce()).deactivated).to.equal(0);

      expect(await t.store.taskQueueCount()).to.equal(0);
      const after = await reload(t.store, schedule.id);
      expect(after).to.include({ status: 'inactive', executionCount: 0 });
      expect(after.lastError).to.include(reason);
      const complaints = logger.calls.filter((call) => call.level === 'warn' || call.level === 'error');
      expect(complaints).to.have.length(1);
      expect(complaints[0]!.message).to.include(schedule.id).and.include(reason);
      expect(deactivated).to.have.length(1);
    });
  }

  it('runs again once reactivated with a live definition; lastError is cleared', async function () {
    const def = await definition(t.store);
    const schedule = await createSchedule(t.store, def);
    await makeDue(t.store, schedule.id);
    await t.store.taskDefinitionDeleteById(def.id);
    const runner = new ScheduleRunner(t.store);
    await runner.runOnce();
    const replacement = await t.store.taskDefinitionCreate({ alias: 'Replacement' });
    const reactivated = await t.store.scheduleUpdate({ id: schedule.id, status: 'active', taskDefinitionId: replacement.id });
    expect(reactivated).to.include({ status: 'active', lastError: null });
    expect(reactivated.nextRunAt).to.be.instanceOf(Date);
    await makeDue(t.store, schedule.id);
    expect((await runner.runOnce()).fired).to.equal(1);
    expect((await t.store.taskQueueList())[0]?.taskId).to.equal(replacement.id);
  });
});
