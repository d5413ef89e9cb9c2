import { expect } from 'chai';
import { nextRunAt } from '../../lib/index.js';
import { UUID_V7, expectError, forEachDialect } from '../support/index.js';
import { DAILY, createSchedule, definition, reload } from './schedule-helpers.js';

forEachDialect('schedules: create, find, update, delete', (t) => {
  it('creates with defaults: active, default queue, {} params, UTC, nextRunAt = first occurrence after now', async function () {
    const def = await definition(t.store);
    const schedule = await t.store.scheduleCreate({ name: 'nightly', taskDefinitionId: def.id, recurrenceRule: DAILY });
    expect(schedule.id).to.match(UUID_V7);
    expect(schedule).to.include({
      name: 'nightly',
      description: '',
      status: 'active',
      taskDefinitionId: def.id,
      queueName: 'default',
      cron: null,
      timezone: 'UTC',
      endAt: null,
      executionCount: 0,
      maxExecutionCount: 0,
      lastRunAt: null,
      lastError: null,
      softDeletedAt: null,
    });
    expect(schedule.parameters).to.deep.equal({});
    expect(schedule.recurrenceRule).to.deep.equal({ frequency: 'daily', interval: 1, startsAt: new Date('2025-01-01T09:00:00Z') });
    expect(schedule.nextRunAt?.toISOString()).to.equal(nextRunAt(DAILY, schedule.createdAt)?.toISOString());
    expect(schedule.nextRunAt!.getTime()).to.be.greaterThan(schedule.createdAt.getTime());
  });

  it('reads back exactly what it created, every field', async function () {
    const def = await definition(t.store);
    const created = await t.store.scheduleCreate({
      name: 'reports',
      alias: def.alias,
      description: 'Ünïcødé ✓',
      queueName: 'reports',
      parameters: { to: 'ops@example.com', count: 3, nested: { ok: true } },
      cron: '0 9 * * 1-5',
      timezone: 'America/New_York',
      endAt: '2099-12-31T23:59:59Z',
      maxExecutionCount: 10,
    });
    expect(created).to.include({
      taskDefinitionId: def.id,
      queueName: 'reports',
      cron: '0 9 * * 1-5',
      timezone: 'America/New_York',
      recurrenceRule: null,
    });
    expect(created.endAt?.toISOString()).to.equal('2099-12-31T23:59:59.000Z');
    expect(created.nextRunAt?.toISOString()).to.equal(
      nextRunAt('0 9 * * 1-5', created.createdAt, { timezone: 'America/New_York' })?.toISOString(),
    );
    expect(await t.store.scheduleFindById(created.id)).to.deep.equal(created);
  });

  it("'' as queue name means 'default'", async function () {
    const schedule = await createSchedule(t.store, await definition(t.store), { queueName: '' });
    expect(schedule.queueName).to.equal('default');
    expect((await reload(t.store, schedule.id)).queueName).to.equal('default');
  });

  it('plans nothing for draft and inactive schedules; activating plans, deactivating clears', async function () {
    const def = await definition(t.store);
    const draft = await createSchedule(t.store, def, { status: 'draft' });
    expect(draft).to.include({ status: 'draft', nextRunAt: null });
    const active = await t.store.scheduleUpdate({ id: draft.id, status: 'active' });
    expect(active.status).to.equal('active');
    expect(active.nextRunAt?.toISOString()).to.equal(nextRunAt(DAILY, active.updatedAt)?.toISOString());
    expect(await reload(t.store, draft.id)).to.deep.equal(active);
    const inactive = await t.store.scheduleUpdate({ id: draft.id, status: 'inactive' });
    expect(inactive).to.include({ status: 'inactive', nextRunAt: null });
    expect((await reload(t.store, draft.id)).nextRunAt).to.equal(null);
  });

  it("a 'none' rule is planned at its startsAt, even one that has just passed", async function () {
    const def = await definition(t.store);
    const past = new Date(Date.now() - 5000);
    const future = new Date(Date.now() + 3_600_000);
    const late = await createSchedule(t.store, def, { name: 'late', recurrenceRule: { frequency: 'none', startsAt: past } });
    const soon = await createSchedule(t.store, def, { name: 'soon', recurrenceRule: { frequency: 'none', startsAt: future } });
    expect(late.nextRunAt?.getTime()).to.equal(past.getTime());
    expect(soon.nextRunAt?.getTime()).to.equal(future.getTime());
  });

  it('an active schedule that can never run again is stored completed', async function () {
    const def = await definition(t.store);
    const ended = await createSchedule(t.store, def, { endAt: new Date(Date.now() - 1000) });
    expect(ended).to.include({ status: 'completed', nextRunAt: null });
    const ruleEnded = await createSchedule(t.store, def, {
      recurrenceRule: { frequency: 'daily', startsAt: '2020-01-01T00:00:00Z', endsAt: '2020-02-01T00:00:00Z' },
    });
    expect(ruleEnded).to.include({ status: 'completed', nextRunAt: null });
  });

  it('updating the timing plans nextRunAt anew; a cron replaces the rule and back', async function () {
    const def = await definition(t.store);
    const schedule = await createSchedule(t.store, def);
    const cron = await t.store.scheduleUpdate({ id: schedule.id, cron: '*/5 * * * *' });
    expect(cron).to.include({ cron: '*/5 * * * *', recurrenceRule: null });
    expect(cron.nextRunAt?.toISOString()).to.equal(nextRunAt('*/5 * * * *', cron.updatedAt)?.toISOString());
    const zoned = await t.store.scheduleUpdate({ id: schedule.id, recurrenceRule: DAILY, timezone: 'Asia/Kolkata' });
    expect(zoned).to.include({ cron: null, timezone: 'Asia/Kolkata' });
    expect(zoned.nextRunAt?.toISOString()).to.equal(nextRunAt(DAILY, zoned.updatedAt, { timezone: 'Asia/Kolkata' })?.toISOString());
    expect(await reload(t.store, schedule.id)).to.deep.equal(zoned);
  });

  it('updating other fields keeps nextRunAt; the whole entity can be passed back', async function () {
    const def = await definition(t.store);
    const other = await t.store.taskDefinitionCreate({ alias: 'Other' });
    const schedule = await createSchedule(t.store, def);
    const renamed = await t.store.scheduleUpdate({
      id: schedule.id,
      name: 'renamed',
      parameters: { a: 1 },
      queueName: 'q2',
      alias: 'other',
    });
    expect(renamed).to.include({ name: 'renamed', queueName: 'q2', taskDefinitionId: other.id });
    expect(renamed.parameters).to.deep.equal({ a: 1 });
    expect(renamed.nextRunAt?.getTime()).to.equal(schedule.nextRunAt?.getTime());
    const found = await reload(t.store, schedule.id);
    const again = await t.store.scheduleUpdate({ ...found, description: 'described' });
    expect(again.description).to.equal('described');
    expect(again.nextRunAt?.getTime()).to.equal(schedule.nextRunAt?.getTime());
    expect(again.updatedAt.getTime()).to.be.greaterThan(found.updatedAt.getTime());
  });

  it('lowering maxExecutionCount to the runs already made completes the schedule', async function () {
    const schedule = await createSchedule(t.store, await definition(t.store));
    await t.store.knex('task_schedule').where({ id: schedule.id }).update({ execution_count: 3 });
    const updated = await t.store.scheduleUpdate({ id: schedule.id, maxExecutionCount: 3 });
    expect(updated).to.include({ status: 'completed', nextRunAt: null, executionCount: 3 });
  });

  it('an unknown definition id or alias is NOT_FOUND and writes nothing', async function () {
    await expectError(
      () => t.store.scheduleCreate({ name: 'x', taskDefinitionId: '0190b6b2-0000-7000-8000-000000000000', recurrenceRule: DAILY }),
      'NOT_FOUND',
      '0190b6b2-0000-7000-8000-000000000000',
    );
    await expectError(() => t.store.scheduleCreate({ name: 'x', alias: 'NoSuchTask', recurrenceRule: DAILY }), 'NOT_FOUND', 'NoSuchTask');
    const def = await definition(t.store);
    await t.store.taskDefinitionSoftDeleteById(def.id);
    await expectError(() => t.store.scheduleCreate({ name: 'x', taskDefinitionId: def.id, recurrenceRule: DAILY }), 'NOT_FOUND');
    expect(await t.store.scheduleCount({ includeSoftDeleted: true })).to.equal(0);
  });

  it('soft delete hides a schedule, restore brings it back, delete removes it', async function () {
    const def = await definition(t.store);
    const schedule = await createSchedule(t.store, def);
    const kept = await createSchedule(t.store, def, { name: 'kept' });
    await t.store.scheduleSoftDeleteById(schedule.id);
    await t.store.scheduleSoftDeleteById(schedule.id); // idempotent
    expect(await t.store.scheduleFindById(schedule.id)).to.equal(null);
    expect((await t.store.scheduleList()).map((s) => s.id)).to.deep.equal([kept.id]);
    expect(await t.store.scheduleCount()).to.equal(1);
    const all = await t.store.scheduleList({ includeSoftDeleted: true });
    expect(all.map((s) => s.id)).to.have.members([schedule.id, kept.id]);
    expect(all.find((s) => s.id === schedule.id)?.softDeletedAt).to.be.instanceOf(Date);
    const restored = await t.store.scheduleRestoreById(schedule.id);
    expect(restored.softDeletedAt).to.equal(null);
    expect(await reload(t.store, schedule.id)).to.deep.equal(restored);
    await t.store.scheduleDeleteById(schedule.id);
    expect(await t.store.scheduleCount({ includeSoftDeleted: true })).to.equal(1);
  });

  it('unknown ids are NOT_FOUND for soft delete, restore, delete and update; an empty id is INVALID_ARGUMENT', async function () {
    const unknown = '0190b6b2-0000-7000-8000-000000000000';
    await expectError(() => t.store.scheduleSoftDeleteById(unknown), 'NOT_FOUND');
    await expectError(() => t.store.scheduleRestoreById(unknown), 'NOT_FOUND');
    await expectError(() => t.store.scheduleDeleteById(unknown), 'NOT_FOUND');
    await expectError(() => t.store.scheduleUpdate({ id: unknown, name: 'x' }), 'NOT_FOUND');
    await expectError(() => t.store.scheduleFindById(''), 'INVALID_ARGUMENT');
    expect(await t.store.scheduleFindById(unknown)).to.equal(null);
  });
});

forEachDialect('schedules: queries', (t) => {
  it('filters by name, status, statuses, queue, definition, ids and creation time', async function () {
    const def = await definition(t.store);
    const other = await t.store.taskDefinitionCreate({ alias: 'Other' });
    const a = await createSchedule(t.store, def, { name: 'a', queueName: 'emails' });
    const b = await createSchedule(t.store, def, { name: 'b', status: 'draft' });
    const c = await createSchedule(t.store, other, { name: 'c', status: 'inactive', queueName: 'emails' });
    const ids = async (query: Parameters<typeof t.store.scheduleList>[0]) => (await t.store.scheduleList(query)).map((s) => s.id).sort();
    expect(await ids({ name: 'b' })).to.deep.equal([b.id]);
    expect(await ids({ status: 'active' })).to.deep.equal([a.id]);
    expect(await ids({ statuses: ['draft', 'inactive'] })).to.deep.equal([b.id, c.id].sort());
    expect(await ids({ queueName: 'emails' })).to.deep.equal([a.id, c.id].sort());
    expect(await ids({ taskDefinitionId: other.id })).to.deep.equal([c.id]);
    expect(await ids({ ids: [a.id, c.id] })).to.deep.equal([a.id, c.id].sort());
    expect(await ids({ id: b.id })).to.deep.equal([b.id]);
    expect(await ids({ createdFrom: new Date(Date.now() + 60_000) })).to.deep.equal([]);
    expect(await ids({ createdTo: new Date(Date.now() + 60_000) })).to.have.length(3);
    expect(await t.store.scheduleCount({ queueName: 'emails' })).to.equal(2);
    expect(await t.store.scheduleCount({ queueName: 'emails', limit: 1 })).to.equal(2);
  });

  it('orders by name, createdAt and nextRunAt, with limit and offset', async function () {
    const def = await definition(t.store);
    const later = await createSchedule(t.store, def, { name: 'b', cron: '0 0 1 1 *', recurrenceRule: undefined });
    const sooner = await createSchedule(t.store, def, {
      name: 'c',
      recurrenceRule: { frequency: 'none', startsAt: new Date(Date.now() + 60_000) },
    });
    const middle = await createSchedule(t.store, def, {
      name: 'a',
      recurrenceRule: { frequency: 'none', startsAt: new Date(Date.now() + 3_600_000) },
    });
    const names = async (query: Parameters<typeof t.store.scheduleList>[0]) => (await t.store.scheduleList(query)).map((s) => s.name);
    expect(await names({ orderBy: 'name' })).to.deep.equal(['a', 'b', 'c']);
    expect(await names({ orderBy: 'name', sortOrder: 'desc' })).to.deep.equal(['c', 'b', 'a']);
    expect(await names({ orderBy: 'nextRunAt' })).to.deep.equal([sooner.name, middle.name, later.name]);
    expect(await names({ orderBy: 'createdAt', limit: 2 })).to.deep.equal(['b', 'c']);
    expect(await names({ orderBy: 'name', limit: 1, offset: 1 })).to.deep.equal(['b']);
    expect(await names({ orderBy: 'name', offset: 2 })).to.deep.equal(['c']);
  });

  it('rejects bad queries with INVALID_ARGUMENT naming the key', async function () {
    await expectError(() => t.store.scheduleList({ orderBy: 'parameters' as never }), 'INVALID_ARGUMENT', 'orderBy');
    await expectError(() => t.store.scheduleList({ status: 'paused' as never }), 'INVALID_ARGUMENT', 'status');
    await expectError(() => t.store.scheduleCount({ queue: 'x' } as never), 'INVALID_ARGUMENT', "'queue'");
    await expectError(() => t.store.scheduleList({ limit: -1 }), 'INVALID_ARGUMENT', 'limit');
    await expectError(() => t.store.scheduleList({ name: '' }), 'INVALID_ARGUMENT', 'name');
  });
});
