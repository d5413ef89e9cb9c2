/**
 * The runners registry on every dialect: a started TaskQueueRunner or ScheduleRunner lists
 * itself with its host, pid, queue, concurrency and active count and is gone after stop; the
 * active count follows the heartbeats; a row not seen within the window is not listed and is
 * aged out by the next heartbeat; the runners of two stores see each other; bad input is
 * refused; and a registry that cannot be written is reported once and stops no processing.
 */
import { hostname } from 'node:os';
import { expect } from 'chai';
import { defineTask, ScheduleRunner, TaskQueueRunner, type RunnerInfo, type TaskStore } from '../../lib/index.js';
import { deferred, expectError, forEachDialect, TABLES, uniqueAlias, uniqueQueue, UUID_V7, waitFor } from '../support/index.js';
import { sleep } from '../support/runner-helpers.js';

/** Fast registry heartbeats, so a test sees a change within a few tens of milliseconds. */
const FAST = { runnerHeartbeatIntervalMs: 50 };

forEachDialect('runners registry', (t) => {
  const ofQueue = async (store: TaskStore, queue: string): Promise<RunnerInfo[]> =>
    (await store.runnerList()).filter((runner) => runner.queueName === queue);

  it('a started runner lists itself with its host, pid, queue and options, and is gone once stopped', async () => {
    const queue = uniqueQueue();
    const before = Date.now();
    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 4, prefetch: 2, intervalSeconds: 0.5 });
    const schedules = new ScheduleRunner(t.store, { intervalSeconds: 30 });
    runner.start();
    schedules.start();
    try {
      const [entry] = await waitFor(() => ofQueue(t.store, queue).then((rows) => (rows.length === 1 ? rows : null)), {
        message: 'the runner listed',
      });
      expect(entry).to.deep.include({
        kind: 'queue',
        queueName: queue,
        host: hostname(),
        pid: process.pid,
        concurrency: 4,
        prefetch: 2,
        pollIntervalMs: 500,
        activeCount: 0,
      });
      expect(entry!.id).to.match(UUID_V7);
      expect(entry!.startedAt.getTime()).to.be.within(before - 1000, Date.now() + 1000);
      expect(entry!.lastSeenAt).to.be.instanceOf(Date);
      const scheduleRows = await waitFor(() => t.store.runnerList({ kind: 'schedule' }).then((rows) => (rows.length === 1 ? rows : null)));
      expect(scheduleRows[0]).to.deep.include({
        kind: 'schedule',
        queueName: null,
        concurrency: null,
        prefetch: null,
        pollIntervalMs: 30_000,
      });
      expect((await t.store.runnerList({ queueName: queue })).map((row) => row.id)).to.deep.equal([entry!.id]);
    } finally {
      await runner.stop();
      await schedules.stop();
    }
    expect(await t.store.runnerList()).to.deep.equal([]);
    expect(await t.store.knex(TABLES.runners).count({ n: '*' })).to.satisfy((rows: { n: unknown }[]) => Number(rows[0]!.n) === 0);

    // A restart registers again, under a new id.
    runner.start();
    try {
      const [again] = await waitFor(() => ofQueue(t.store, queue).then((rows) => (rows.length === 1 ? rows : null)));
      expect(again!.queueName).to.equal(queue);
    } finally {
      await runner.stop();
    }
  });

  it('the active count follows the running handlers at each heartbeat', async () => {
    const store = await t.openStore(FAST);
    const queue = uniqueQueue();
    const alias = uniqueAlias('Held');
    const release = deferred();
    let started = 0;
    await store.taskHandlerAdd(
      defineTask({
        alias,
        async handle() {
          started += 1;
          await release.promise;
        },
      }),
      true,
    );
    const runner = new TaskQueueRunner(store, { queueName: queue, maxConcurrency: 3, intervalSeconds: 0.05 });
    runner.start();
    try {
      await waitFor(() => ofQueue(store, queue).then((rows) => rows[0]?.activeCount === 0), { message: 'listed idle' });
      await store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}]);
      await waitFor(() => started === 2, { message: 'two handlers running' });
      const busy = await waitFor(() => ofQueue(store, queue).then((rows) => (rows[0]?.activeCount === 2 ? rows[0] : null)), {
        message: 'active count 2',
      });
      release.resolve();
      const idle = await waitFor(() => ofQueue(store, queue).then((rows) => (rows[0]?.activeCount === 0 ? rows[0] : null)), {
        message: 'active count back to 0',
      });
      expect(idle.id).to.equal(busy.id);
      expect(idle.lastSeenAt.getTime()).to.be.greaterThan(busy.lastSeenAt.getTime());
    } finally {
      release.resolve();
      await runner.stop();
    }
  });

  it('a row not seen within the window is not listed, and the next heartbeat deletes it', async () => {
    const store = await t.openStore(FAST);
    const stale = {
      id: '01900000-0000-7000-8000-000000000001',
      kind: 'queue',
      queue_name: 'ghost',
      host: 'gone.example',
      pid: 4242,
      concurrency: 1,
      prefetch: 0,
      poll_interval_ms: 10_000,
      active_count: 1,
      started_at: new Date(Date.now() - 7_200_000),
      last_seen_at: new Date(Date.now() - 3_600_000),
    };
    await store.knex(TABLES.runners).insert(stale);
    expect(await store.runnerList()).to.deep.equal([]);
    // A wider window still sees it: it is only stale, not gone yet.
    expect((await store.runnerList({ staleAfterMs: 7_200_000 })).map((row) => row.host)).to.deep.equal(['gone.example']);

    const queue = uniqueQueue();
    const runner = new TaskQueueRunner(store, { queueName: queue });
    runner.start();
    try {
      await waitFor(async () => (await store.knex(TABLES.runners).where({ id: stale.id })).length === 0, {
        message: 'the stale row deleted',
      });
      expect((await store.runnerList()).map((row) => row.queueName)).to.deep.equal([queue]);
    } finally {
      await runner.stop();
    }
  });

  it('a runner whose row was aged out (a frozen process) writes it again, same id and start, at its next heartbeat', async () => {
    const store = await t.openStore(FAST);
    const queue = uniqueQueue();
    const runner = new TaskQueueRunner(store, { queueName: queue });
    runner.start();
    try {
      const [entry] = await waitFor(() => ofQueue(store, queue).then((rows) => (rows.length === 1 ? rows : null)));
      // What another runner's sweep does to a row not seen within the window.
      await store.knex(TABLES.runners).where({ id: entry!.id }).delete();
      const [back] = await waitFor(() => ofQueue(store, queue).then((rows) => (rows.length === 1 ? rows : null)), {
        message: 'the row written again',
      });
      expect(back!.id).to.equal(entry!.id);
      expect(back!.startedAt.getTime()).to.equal(entry!.startedAt.getTime());
    } finally {
      await runner.stop();
    }
  });

  it('the runners of two stores (two processes) list each other', async () => {
    const one = await t.openStore();
    const two = await t.openStore();
    const [queueOne, queueTwo] = [uniqueQueue('one'), uniqueQueue('two')];
    const runners = [
      new TaskQueueRunner(one, { queueName: queueOne }),
      new TaskQueueRunner(two, { queueName: queueTwo, maxConcurrency: 2 }),
    ];
    runners.forEach((runner) => runner.start());
    try {
      for (const store of [one, two, t.store]) {
        const listed = await waitFor(() => store.runnerList().then((rows) => (rows.length === 2 ? rows : null)));
        expect(listed.map((row) => [row.queueName, row.concurrency])).to.have.deep.members([
          [queueOne, 1],
          [queueTwo, 2],
        ]);
      }
    } finally {
      await Promise.all(runners.map((runner) => runner.stop()));
    }
    expect(await one.runnerList()).to.deep.equal([]);
  });

  it('refuses bad options and bad registry writes with INVALID_ARGUMENT', async () => {
    await expectError(() => t.store.runnerList({ staleAfterMs: 0 }), 'INVALID_ARGUMENT', /staleAfterMs/);
    await expectError(() => t.store.runnerList({ kind: 'worker' as never }), 'INVALID_ARGUMENT', /kind/);
    await expectError(() => t.store.runnerList({ queueName: 'x'.repeat(101) }), 'INVALID_ARGUMENT', /queueName/);
    await expectError(() => t.store.runnerList({ limit: 5 } as never), 'INVALID_ARGUMENT', /unknown option 'limit'/);
    const good = {
      id: '01900000-0000-7000-8000-0000000000aa',
      kind: 'queue' as const,
      queueName: 'q',
      host: 'h',
      pid: 1,
      concurrency: 1,
      prefetch: 0,
      pollIntervalMs: 1000,
      activeCount: 0,
      startedAt: new Date(),
    };
    for (const [bad, words] of [
      [{ ...good, kind: 'worker' }, /kind/],
      [{ ...good, host: '' }, /host/],
      [{ ...good, pid: -1 }, /pid/],
      [{ ...good, concurrency: 0 }, /concurrency/],
      [{ ...good, activeCount: 1.5 }, /activeCount/],
      [{ ...good, kind: 'schedule' }, /queueName must be null/],
      [{ ...good, startedAt: 'yesterday' }, /startedAt/],
      [{ ...good, id: '' }, /id/],
    ] as const) {
      await expectError(() => t.store.runnerHeartbeat(bad as never), 'INVALID_ARGUMENT', words);
    }
    await expectError(() => t.store.runnerUnregister(''), 'INVALID_ARGUMENT', /id/);
    expect(await t.store.runnerList({ staleAfterMs: 3_600_000 })).to.deep.equal([]);
    await t.store.runnerHeartbeat(good);
    expect((await t.store.runnerList()).map((row) => row.id)).to.deep.equal([good.id]);
    await t.store.runnerUnregister(good.id);
    await t.store.runnerUnregister(good.id); // already gone: not an error
    expect(await t.store.runnerList()).to.deep.equal([]);
    await expectError(() => t.openStore({ runnerHeartbeatIntervalMs: -1 }), 'INVALID_ARGUMENT', /runnerHeartbeatIntervalMs/);
  });

  it('a registry it cannot write is reported once as an error; the runner keeps processing and registers once it can', async () => {
    const table = `rr_${uniqueQueue('t').slice(-10)}`;
    const store = await t.openStore({ ...FAST, taskQueueTableName: table, automigrate: true });
    await store.knex.schema.dropTable(`${table}_runners`);
    const queue = uniqueQueue();
    const alias = uniqueAlias('Kept');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const runner = new TaskQueueRunner(store, { queueName: queue, intervalSeconds: 0.05 });
    const errors: Error[] = [];
    runner.on('error', (error) => errors.push(error));
    runner.start();
    try {
      const item = await store.taskDefinitionEnqueueByAlias(queue, alias, {});
      await waitFor(async () => (await store.taskQueueFindById(item.id))?.status === 'success', { message: 'the task processed' });
      await waitFor(() => errors.length > 0, { message: 'the registry failure reported' });
      await sleep(300); // several more failed heartbeats
      expect(errors, errors.map(String).join('\n')).to.have.length(1);
      expect(errors[0]!.message).to.include('runnerHeartbeat');
      expect(runner.isRunning()).to.equal(true);
      await store.migrateUp();
      await waitFor(() => ofQueue(store, queue).then((rows) => rows.length === 1), { message: 'registered once the table is back' });
    } finally {
      await runner.stop();
    }
    expect(await store.runnerList()).to.deep.equal([]);
    await store.migrateDown();
  });
});
