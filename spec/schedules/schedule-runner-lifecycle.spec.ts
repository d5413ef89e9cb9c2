import { expect } from 'chai';
import { ScheduleRunner, TaskStoreError, nextRunAt, type TaskStore } from '../../lib/index.js';
import { deferred, expectError, forEachDialect, waitFor } from '../support/index.js';
import { DAILY, createSchedule, definition, recordingLogger, reload, setNextRunAt } from './schedule-helpers.js';

const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

forEachDialect('ScheduleRunner: exactly once across runners', (t) => {
  it('two runners on two stores racing over 20 due schedules enqueue exactly 20 tasks, round after round', async function () {
    const def = await definition(t.store);
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push((await createSchedule(t.store, def, { name: `s${n}`, parameters: { n } })).id);
    const makeAllDue = () =>
      t.store
        .knex('task_schedule')
        .whereIn('id', ids)
        .update({ next_run_at: new Date(Date.now() - 60_000) });
    const runners = [new ScheduleRunner(await t.openStore()), new ScheduleRunner(await t.openStore())];
    const errors: Error[] = [];
    for (const runner of runners) runner.on('error', (error) => errors.push(error));
    const race = async (): Promise<number> => {
      let fired = 0;
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all([...runners, ...runners].map((runner) => runner.runOnce()));
        fired += results.reduce((sum, result) => sum + result.fired, 0);
      }
      return fired;
    };

    await makeAllDue();
    expect(await race()).to.equal(20);
    const first = await t.store.taskQueueList();
    expect(first.map((item) => item.parameters['n']).sort((a, b) => Number(a) - Number(b))).to.deep.equal([...Array(20).keys()]);

    await makeAllDue();
    expect(await race()).to.equal(20);
    expect(await t.store.taskQueueCount()).to.equal(40);
    for (const schedule of await t.store.scheduleList()) expect(schedule.executionCount, schedule.name).to.equal(2);
    expect(errors.map((error) => error.message)).to.deep.equal([]);
  });
});

forEachDialect('ScheduleRunner: setInitialRuns', (t) => {
  it('plans every active schedule that lacks nextRunAt, page after page, and completes those that cannot run', async function () {
    const def = await definition(t.store);
    const ids: string[] = [];
    for (let n = 0; n < 130; n++) ids.push((await createSchedule(t.store, def, { name: `s${n}` })).id);
    await t.store.knex('task_schedule').whereIn('id', ids).update({ next_run_at: null });
    const draft = await createSchedule(t.store, def, { name: 'draft', status: 'draft' });
    const startsAt = new Date(Date.now() - 60_000);
    const spent = await createSchedule(t.store, def, { name: 'spent', recurrenceRule: { frequency: 'none', startsAt } });
    await t.store.knex('task_schedule').where({ id: spent.id }).update({ next_run_at: null, last_run_at: startsAt, execution_count: 1 });

    const before = new Date();
    const runner = new ScheduleRunner(t.store);
    expect(await runner.setInitialRuns()).to.equal(131);
    const after = new Date();
    const expected = [nextRunAt(DAILY, before)?.getTime(), nextRunAt(DAILY, after)?.getTime()];
    for (const schedule of await t.store.scheduleList({ ids })) {
      expect(schedule.status).to.equal('active');
      expect(expected).to.include(schedule.nextRunAt?.getTime());
    }
    expect(await reload(t.store, spent.id)).to.include({ status: 'completed', nextRunAt: null });
    expect(await reload(t.store, draft.id)).to.include({ status: 'draft', nextRunAt: null });
    expect(await runner.setInitialRuns()).to.equal(0);
  });
});

forEachDialect('ScheduleRunner: start and stop', (t) => {
  it('start() plans missing runs, then fires what is due; start twice is a no-op; stop ends it; restartable', async function () {
    const schedule = await createSchedule(t.store, await definition(t.store), {
      recurrenceRule: { frequency: 'none', startsAt: new Date(Date.now() - 1000) },
    });
    await setNextRunAt(t.store, schedule.id, null);
    const runner = new ScheduleRunner(t.store, { intervalSeconds: 0.05 });
    expect(runner.isRunning()).to.equal(false);
    runner.start();
    runner.start();
    expect(runner.isRunning()).to.equal(true);
    await waitFor(async () => (await t.store.taskQueueCount()) === 1, { message: 'the one-off schedule fired' });
    await runner.stop();
    expect(runner.isRunning()).to.equal(false);
    await runner.stop(); // a second stop is harmless

    const next = await createSchedule(t.store, await t.store.taskDefinitionCreate({ alias: 'Second' }), {
      recurrenceRule: { frequency: 'none', startsAt: new Date(Date.now() - 1000) },
    });
    runner.start();
    await waitFor(async () => (await reload(t.store, next.id)).status === 'completed', { message: 'the restarted runner fired' });
    await runner.stop();
    expect(await t.store.taskQueueCount()).to.equal(2);
  });

  it('sleeps until the earliest nextRunAt rather than the whole interval, and wakes for schedules created meanwhile', async function () {
    const def = await definition(t.store);
    await createSchedule(t.store, def, { name: 'soon', recurrenceRule: { frequency: 'none', startsAt: new Date(Date.now() + 300) } });
    const runner = new ScheduleRunner(t.store, { intervalSeconds: 600 });
    runner.start();
    await waitFor(async () => (await t.store.taskQueueCount()) === 1, { message: 'the schedule due in 300 ms fired' });
    await createSchedule(t.store, def, { name: 'now', recurrenceRule: { frequency: 'none', startsAt: new Date() } });
    await waitFor(async () => (await t.store.taskQueueCount()) === 2, { message: 'the schedule created while the runner slept fired' });
    await runner.stop();
  });

  it('stop() waits for the occurrence being fired, which still commits', async function () {
    const store = await t.openStore();
    await createSchedule(store, await definition(store), { recurrenceRule: { frequency: 'none', startsAt: new Date(Date.now() - 1000) } });
    const entered = deferred();
    const gate = deferred();
    const enqueue = store.taskDefinitionEnqueueByAlias.bind(store);
    store.taskDefinitionEnqueueByAlias = (async (...args: Parameters<TaskStore['taskDefinitionEnqueueByAlias']>) => {
      entered.resolve();
      await gate.promise;
      return enqueue(...args);
    }) as TaskStore['taskDefinitionEnqueueByAlias'];
    const runner = new ScheduleRunner(store, { intervalSeconds: 0.05 });
    runner.start();
    await entered.promise;

    let stopped = false;
    const stopping = runner.stop().then(() => {
      stopped = true;
    });
    await ticks(20);
    expect(stopped, 'stop resolved while an occurrence was being fired').to.equal(false);
    expect(runner.isRunning()).to.equal(true);
    gate.resolve();
    await stopping;
    expect(runner.isRunning()).to.equal(false);
    expect(await store.taskQueueCount()).to.equal(1);
  });

  it('a throwing listener is logged and does not stop the pass', async function () {
    const def = await definition(t.store);
    for (const name of ['a', 'b'])
      await createSchedule(t.store, def, { name, recurrenceRule: { frequency: 'none', startsAt: new Date(Date.now() - 1000) } });
    const logger = recordingLogger();
    const runner = new ScheduleRunner(t.store, { logger });
    runner.on('schedule:fired', () => {
      throw new Error('listener boom');
    });
    expect((await runner.runOnce()).fired).to.equal(2);
    expect(logger.calls.filter((call) => call.level === 'error')).to.have.length(2);
  });

  it("reports database trouble as 'error' events and keeps running", async function () {
    const store = await t.openStore({ scheduleTableName: 'no_such_schedules' });
    await expectError(() => new ScheduleRunner(store).runOnce(), 'DATABASE');
    const runner = new ScheduleRunner(store, { intervalSeconds: 0.05 });
    const errors: Error[] = [];
    runner.on('error', (error) => errors.push(error));
    runner.start();
    await waitFor(() => errors.length >= 2, { message: 'two errors reported' });
    expect(runner.isRunning()).to.equal(true);
    await runner.stop();
    expect(errors[0]).to.be.instanceOf(TaskStoreError);
  });

  it('refuses bad options and a closed store', async function () {
    for (const options of [{ intervalSeconds: 0 }, { intervalSeconds: -1 }, { intervalSeconds: 'x' }, { intervalSeconds: 2_147_484 }]) {
      expect(() => new ScheduleRunner(t.store, options as never)).to.throw(TaskStoreError, 'intervalSeconds');
    }
    expect(() => new ScheduleRunner(t.store, { every: 1 } as never)).to.throw(TaskStoreError, "'every'");
    const store = await t.openStore();
    await store.close();
    const runner = new ScheduleRunner(store);
    expect(() => runner.start()).to.throw(TaskStoreError, 'closed');
    await expectError(() => runner.runOnce(), 'INVALID_STATE');
  });
});
