import { expect } from 'chai';
import { TASK_STATUSES } from '../../lib/index.js';
import type { TaskQueueItem, TaskStatus } from '../../lib/index.js';
import { UUID_V7, clockPast, expectError, forEachDialect } from '../support/index.js';

const UNKNOWN_ID = '0190b6b2-0000-7000-8000-000000000000';

forEachDialect('task queue CRUD', (t) => {
  let taskId: string;

  beforeEach(async function () {
    taskId = (await t.store.taskDefinitionCreate({ alias: 'Crud' })).id;
  });

  it('creates with defaults', async function () {
    const before = Date.now();
    const item = await t.store.taskQueueCreate({ taskId });
    expect(item.id).to.match(UUID_V7);
    expect(item).to.include({
      taskId,
      queueName: 'default',
      status: 'queued',
      output: '',
      details: '',
      attempts: 0,
      maxAttempts: 1,
      priority: 0,
      uniqueKey: null,
      startedAt: null,
      completedAt: null,
      heartbeatAt: null,
      claimToken: null,
      softDeletedAt: null,
    });
    expect(item.parameters).to.deep.equal({});
    for (const date of [item.availableAt, item.createdAt, item.updatedAt]) {
      expect(date).to.be.instanceOf(Date);
      expect(date.getTime()).to.be.within(before - 1000, Date.now() + 1000);
    }
    expect(await t.store.taskQueueFindById(item.id)).to.deep.equal(item);
  });

  it('round-trips dates with millisecond precision and every given field', async function () {
    const availableAt = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
    const created = await t.store.taskQueueCreate({
      taskId,
      queueName: 'reports',
      parameters: { a: 'b', list: [1, 'two', null], nested: { deep: true }, unicode: 'zß水🚀' },
      status: 'paused',
      priority: 12,
      maxAttempts: 3,
      availableAt,
      uniqueKey: 'u-1',
      output: 'out',
      details: 'det',
    });
    const found = await t.store.taskQueueFindById(created.id);
    expect(found?.availableAt.getTime()).to.equal(availableAt.getTime());
    expect(found).to.deep.equal(created);
    expect(found).to.include({
      queueName: 'reports',
      status: 'paused',
      priority: 12,
      maxAttempts: 3,
      uniqueKey: 'u-1',
      output: 'out',
      details: 'det',
    });
    expect(found?.parameters).to.deep.equal({ a: 'b', list: [1, 'two', null], nested: { deep: true }, unicode: 'zß水🚀' });
  });

  it('keeps milliseconds of createdAt and updatedAt through a re-read', async function () {
    const items: TaskQueueItem[] = [];
    for (let n = 0; n < 5; n += 1) items.push(await t.store.taskQueueCreate({ taskId }));
    for (const item of items) {
      const found = await t.store.taskQueueFindById(item.id);
      expect(found?.createdAt.getTime()).to.equal(item.createdAt.getTime());
      expect(found?.updatedAt.getTime()).to.equal(item.updatedAt.getTime());
    }
  });

  it("findById('') is INVALID_ARGUMENT; an unknown id is null", async function () {
    await expectError(() => t.store.taskQueueFindById(''), 'INVALID_ARGUMENT');
    expect(await t.store.taskQueueFindById(UNKNOWN_ID)).to.equal(null);
  });

  it('rejects bad create input and writes nothing', async function () {
    await expectError(() => t.store.taskQueueCreate({ taskId: '' }), 'INVALID_ARGUMENT', 'taskId');
    await expectError(() => t.store.taskQueueCreate({ taskId, status: 'done' as never }), 'INVALID_ARGUMENT', 'status');
    await expectError(() => t.store.taskQueueCreate({ taskId, parameters: [1] as never }), 'INVALID_ARGUMENT', 'parameters');
    await expectError(() => t.store.taskQueueCreate({ taskId, priority: 0.5 }), 'INVALID_ARGUMENT', 'priority');
    await expectError(() => t.store.taskQueueCreate({ taskId, maxAttempts: -1 }), 'INVALID_ARGUMENT', 'maxAttempts');
    await expectError(() => t.store.taskQueueCreate({ taskId, availableAt: new Date(Number.NaN) }), 'INVALID_ARGUMENT', 'availableAt');
    expect(await t.store.taskQueueCount({ includeSoftDeleted: true })).to.equal(0);
  });

  it('update returns the updated entity, persists it, and advances updatedAt', async function () {
    const item = await t.store.taskQueueCreate({ taskId });
    await clockPast(item.updatedAt, 5);
    const availableAt = new Date(Date.UTC(2031, 5, 6, 7, 8, 9, 10));
    const updated = await t.store.taskQueueUpdate({
      id: item.id,
      queueName: 'moved',
      status: 'paused',
      parameters: { x: 1 },
      output: 'o',
      details: 'd',
      priority: 3,
      maxAttempts: 4,
      availableAt,
    });
    expect(updated).to.include({
      id: item.id,
      queueName: 'moved',
      status: 'paused',
      output: 'o',
      details: 'd',
      priority: 3,
      maxAttempts: 4,
    });
    expect(updated.parameters).to.deep.equal({ x: 1 });
    expect(updated.availableAt.getTime()).to.equal(availableAt.getTime());
    expect(updated.updatedAt.getTime()).to.be.greaterThan(item.updatedAt.getTime());
    expect(await t.store.taskQueueFindById(item.id)).to.deep.equal(updated);
  });

  it('update with a partial leaves the other fields alone', async function () {
    const item = await t.store.taskQueueCreate({ taskId, parameters: { keep: true }, priority: 2 });
    const updated = await t.store.taskQueueUpdate({ id: item.id, output: 'only output' });
    expect(updated).to.include({ output: 'only output', priority: 2, status: 'queued' });
    expect(updated.parameters).to.deep.equal({ keep: true });
  });

  it('update of an unknown id is NOT_FOUND', async function () {
    await expectError(() => t.store.taskQueueUpdate({ id: UNKNOWN_ID, output: 'x' }), 'NOT_FOUND');
  });

  it('soft delete hides the item; includeSoftDeleted shows it; restore brings it back', async function () {
    const live = await t.store.taskQueueCreate({ taskId });
    const gone = await t.store.taskQueueCreate({ taskId });
    await t.store.taskQueueSoftDeleteById(gone.id);
    expect(await t.store.taskQueueFindById(gone.id)).to.equal(null);
    expect((await t.store.taskQueueList()).map((item) => item.id)).to.deep.equal([live.id]);
    expect(await t.store.taskQueueCount()).to.equal(1);
    expect(await t.store.taskQueueCount({ includeSoftDeleted: true })).to.equal(2);
    const [deleted] = await t.store.taskQueueList({ id: gone.id, includeSoftDeleted: true });
    expect(deleted?.softDeletedAt).to.be.instanceOf(Date);

    await t.store.taskQueueRestoreById(gone.id);
    expect((await t.store.taskQueueFindById(gone.id))?.softDeletedAt).to.equal(null);
    expect(await t.store.taskQueueCount()).to.equal(2);
  });

  it('soft delete of an unknown id is NOT_FOUND; delete hard deletes; unknown delete is NOT_FOUND', async function () {
    await expectError(() => t.store.taskQueueSoftDeleteById(UNKNOWN_ID), 'NOT_FOUND');
    const item = await t.store.taskQueueCreate({ taskId });
    await t.store.taskQueueDeleteById(item.id);
    expect(await t.store.taskQueueCount({ includeSoftDeleted: true })).to.equal(0);
    await expectError(() => t.store.taskQueueDeleteById(item.id), 'NOT_FOUND');
  });

  describe('list and count', function () {
    let items: TaskQueueItem[];
    let otherTaskId: string;

    beforeEach(async function () {
      otherTaskId = (await t.store.taskDefinitionCreate({ alias: 'Other' })).id;
      items = [];
      const rows: [string, string, TaskStatus, number][] = [
        ['a', taskId, 'queued', 1],
        ['a', taskId, 'failed', 5],
        ['b', otherTaskId, 'queued', 3],
        ['b', taskId, 'success', 2],
        ['a', otherTaskId, 'canceled', 4],
      ];
      for (const [queueName, task, status, priority] of rows) {
        items.push(await t.store.taskQueueCreate({ taskId: task, queueName, status, priority }));
      }
    });

    const ids = (list: TaskQueueItem[]): string[] => list.map((item) => item.id);

    it('defaults to creation order (createdAt, then id)', async function () {
      expect(ids(await t.store.taskQueueList())).to.deep.equal(ids(items));
    });

    it('filters by id, ids, queueName, taskId, status and statuses', async function () {
      expect(ids(await t.store.taskQueueList({ id: items[2]!.id }))).to.deep.equal([items[2]!.id]);
      expect(ids(await t.store.taskQueueList({ ids: [items[0]!.id, items[4]!.id] }))).to.deep.equal([items[0]!.id, items[4]!.id]);
      expect(ids(await t.store.taskQueueList({ queueName: 'b' }))).to.deep.equal([items[2]!.id, items[3]!.id]);
      expect(ids(await t.store.taskQueueList({ taskId: otherTaskId }))).to.deep.equal([items[2]!.id, items[4]!.id]);
      expect(ids(await t.store.taskQueueList({ status: 'queued' }))).to.deep.equal([items[0]!.id, items[2]!.id]);
      expect(ids(await t.store.taskQueueList({ statuses: ['failed', 'canceled'] }))).to.deep.equal([items[1]!.id, items[4]!.id]);
      expect(ids(await t.store.taskQueueList({ queueName: 'a', status: 'queued', taskId }))).to.deep.equal([items[0]!.id]);
      expect(await t.store.taskQueueCount({ queueName: 'a' })).to.equal(3);
    });

    it('filters by createdFrom / createdTo inclusively', async function () {
      const middle = items[2]!;
      expect(ids(await t.store.taskQueueList({ createdFrom: middle.createdAt, createdTo: middle.createdAt }))).to.include(middle.id);
      expect(await t.store.taskQueueCount({ createdFrom: items[0]!.createdAt, createdTo: items[4]!.createdAt })).to.equal(5);
      expect(await t.store.taskQueueCount({ createdFrom: new Date(Date.now() + 60_000) })).to.equal(0);
      expect(await t.store.taskQueueCount({ createdTo: new Date(Date.now() - 3_600_000) })).to.equal(0);
    });

    it('pages with limit and offset; count ignores them', async function () {
      expect(ids(await t.store.taskQueueList({ limit: 2 }))).to.deep.equal(ids(items.slice(0, 2)));
      expect(ids(await t.store.taskQueueList({ limit: 2, offset: 3 }))).to.deep.equal(ids(items.slice(3, 5)));
      expect(ids(await t.store.taskQueueList({ offset: 4 }))).to.deep.equal(ids(items.slice(4)));
      expect(await t.store.taskQueueCount({ limit: 1, offset: 2 })).to.equal(5);
    });

    it('orders by an allowlisted column in either direction', async function () {
      expect((await t.store.taskQueueList({ orderBy: 'priority', sortOrder: 'desc' })).map((item) => item.priority)).to.deep.equal([
        5, 4, 3, 2, 1,
      ]);
      expect((await t.store.taskQueueList({ orderBy: 'priority' })).map((item) => item.priority)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(ids(await t.store.taskQueueList({ orderBy: 'createdAt', sortOrder: 'desc' }))).to.deep.equal(ids(items).reverse());
    });

    it('treats SQL-looking filter values as plain values', async function () {
      expect(await t.store.taskQueueList({ queueName: "a' OR '1'='1" })).to.deep.equal([]);
      expect(await t.store.taskQueueCount({ queueName: "a'; DELETE FROM task_queue; --" })).to.equal(0);
      expect(await t.store.taskQueueCount()).to.equal(5);
    });
  });

  describe('requeue and cancel', function () {
    it('requeues failed and canceled items: queued, attempts 0, available now', async function () {
      for (const status of ['failed', 'canceled'] as const) {
        const item = await t.store.taskQueueCreate({ taskId, status, availableAt: new Date(Date.UTC(2035, 0, 1)) });
        await t.store.taskQueueUpdate({ id: item.id, details: 'old' });
        const before = Date.now();
        await t.store.taskQueueRequeueById(item.id);
        const requeued = await t.store.taskQueueFindById(item.id);
        expect(requeued, status).to.include({ status: 'queued', attempts: 0 });
        expect(requeued?.completedAt).to.equal(null);
        expect(requeued?.availableAt.getTime()).to.be.within(before - 1000, Date.now() + 1000);
      }
    });

    it('requeue resets attempts of an item that ran', async function () {
      await t.store.taskQueueCreate({ taskId, queueName: 'rq' });
      const claimed = await t.store.taskQueueClaimNext('rq');
      expect(claimed?.attempts).to.equal(1);
      await t.store.taskQueueUpdate({ id: claimed!.id, status: 'failed' });
      await t.store.taskQueueRequeueById(claimed!.id);
      const requeued = await t.store.taskQueueFindById(claimed!.id);
      expect(requeued).to.include({ status: 'queued', attempts: 0, claimToken: null });
      expect((await t.store.taskQueueClaimNext('rq'))?.id).to.equal(claimed!.id);
    });

    it('a requeued item is claimable at once, even right after a burst of updates', async function () {
      const item = await t.store.taskQueueCreate({ taskId, queueName: 'burst', status: 'failed' });
      for (let n = 0; n < 30; n += 1) await t.store.taskQueueUpdate({ id: item.id, output: `edit ${n}` });
      await t.store.taskQueueRequeueById(item.id);
      const requeued = await t.store.taskQueueFindById(item.id);
      const now = Date.now();
      expect(requeued!.availableAt.getTime(), 'availableAt is not in the future').to.be.at.most(now);
      expect((await t.store.taskQueueClaimNext('burst'))?.id).to.equal(item.id);
    });

    it('refuses to requeue queued, running, paused and success items (INVALID_STATE); unknown is NOT_FOUND', async function () {
      for (const status of ['queued', 'running', 'paused', 'success'] as const) {
        const item = await t.store.taskQueueCreate({ taskId, status });
        await expectError(() => t.store.taskQueueRequeueById(item.id), 'INVALID_STATE');
        expect((await t.store.taskQueueFindById(item.id))?.status).to.equal(status);
      }
      await expectError(() => t.store.taskQueueRequeueById(UNKNOWN_ID), 'NOT_FOUND');
    });

    it('cancels queued and paused items', async function () {
      for (const status of ['queued', 'paused'] as const) {
        const item = await t.store.taskQueueCreate({ taskId, status });
        await t.store.taskQueueCancelById(item.id);
        expect((await t.store.taskQueueFindById(item.id))?.status, status).to.equal('canceled');
      }
    });

    it('refuses to cancel running, success, failed and canceled items (INVALID_STATE); unknown is NOT_FOUND', async function () {
      for (const status of ['running', 'success', 'failed'] as const) {
        const item = await t.store.taskQueueCreate({ taskId, status });
        await expectError(() => t.store.taskQueueCancelById(item.id), 'INVALID_STATE');
        expect((await t.store.taskQueueFindById(item.id))?.status).to.equal(status);
      }
      await expectError(() => t.store.taskQueueCancelById(UNKNOWN_ID), 'NOT_FOUND');
    });

    it('a canceled item is never claimed', async function () {
      const item = await t.store.taskQueueCreate({ taskId, queueName: 'cq' });
      await t.store.taskQueueCancelById(item.id);
      expect(await t.store.taskQueueClaimNext('cq')).to.equal(null);
    });
  });

  describe('stats and purge', function () {
    it('counts all six statuses, zero when none, excluding soft-deleted rows', async function () {
      const empty = await t.store.taskQueueStats({});
      expect(empty).to.deep.equal(Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])));

      for (const status of ['queued', 'queued', 'running', 'failed', 'success', 'success', 'success'] as const) {
        await t.store.taskQueueCreate({ taskId, status, queueName: 'one' });
      }
      await t.store.taskQueueCreate({ taskId, status: 'paused', queueName: 'two' });
      const hidden = await t.store.taskQueueCreate({ taskId, status: 'canceled', queueName: 'one' });
      await t.store.taskQueueSoftDeleteById(hidden.id);

      expect(await t.store.taskQueueStats({})).to.deep.equal({
        queued: 2,
        running: 1,
        success: 3,
        failed: 1,
        canceled: 0,
        paused: 1,
        waiting: 0,
      });
      expect(await t.store.taskQueueStats({ queueName: 'one' })).to.deep.equal({
        queued: 2,
        running: 1,
        success: 3,
        failed: 1,
        canceled: 0,
        paused: 0,
        waiting: 0,
      });
      expect(await t.store.taskQueueStats({ queueName: 'nobody' })).to.deep.equal(
        Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])),
      );
    });

    it('purges finished rows last updated before olderThan, by default success, failed and canceled', async function () {
      const made: Record<string, string> = {};
      for (const status of TASK_STATUSES) made[status] = (await t.store.taskQueueCreate({ taskId, status, queueName: 'p' })).id;
      expect(await t.store.taskQueuePurge({ olderThan: new Date(Date.now() - 60_000) })).to.equal(0);
      expect(await t.store.taskQueueCount()).to.equal(TASK_STATUSES.length);

      const purged = await t.store.taskQueuePurge({ olderThan: new Date(Date.now() + 60_000) });
      expect(purged).to.equal(3);
      const left = (await t.store.taskQueueList({ includeSoftDeleted: true })).map((item) => item.status).sort();
      expect(left).to.deep.equal(['paused', 'queued', 'running', 'waiting']);
    });

    it('purges only the given statuses and queue', async function () {
      await t.store.taskQueueCreate({ taskId, status: 'failed', queueName: 'p1' });
      await t.store.taskQueueCreate({ taskId, status: 'success', queueName: 'p1' });
      await t.store.taskQueueCreate({ taskId, status: 'failed', queueName: 'p2' });
      const olderThan = new Date(Date.now() + 60_000);
      expect(await t.store.taskQueuePurge({ olderThan, statuses: ['failed'], queueName: 'p1' })).to.equal(1);
      const left = (await t.store.taskQueueList()).map((item) => `${item.queueName}:${item.status}`).sort();
      expect(left).to.deep.equal(['p1:success', 'p2:failed']);
    });

    it('purges in batches of batchSize, each its own statement, and only the matching rows', async function () {
      const failed = [];
      for (let n = 0; n < 7; n++) failed.push((await t.store.taskQueueCreate({ taskId, status: 'failed', queueName: 'pb' })).id);
      const kept = await t.store.taskQueueCreate({ taskId, status: 'queued', queueName: 'pb' });
      const deletes: string[] = [];
      const onQuery = (query: { sql: string }) => {
        if (/^delete/i.test(query.sql)) deletes.push(query.sql);
      };
      t.store.knex.on('query', onQuery);
      try {
        expect(await t.store.taskQueuePurge({ olderThan: new Date(Date.now() + 60_000), batchSize: 3 })).to.equal(7);
      } finally {
        t.store.knex.off('query', onQuery);
      }
      expect(deletes).to.have.length(3);
      expect((await t.store.taskQueueList({ queueName: 'pb', includeSoftDeleted: true })).map((item) => item.id)).to.deep.equal([kept.id]);
      for (const bad of [0, 10_001, 1.5, '3']) {
        await expectError(
          () => t.store.taskQueuePurge({ olderThan: new Date(), batchSize: bad as never }),
          'INVALID_ARGUMENT',
          'batchSize',
        );
      }
    });

    it('rejects a purge without a valid olderThan', async function () {
      await t.store.taskQueueCreate({ taskId, status: 'failed' });
      await expectError(() => t.store.taskQueuePurge({} as never), 'INVALID_ARGUMENT', 'olderThan');
      await expectError(() => t.store.taskQueuePurge({ olderThan: new Date('x') }), 'INVALID_ARGUMENT', 'olderThan');
      await expectError(() => t.store.taskQueuePurge({ olderThan: new Date(), statuses: ['gone' as never] }), 'INVALID_ARGUMENT');
      expect(await t.store.taskQueueCount()).to.equal(1);
    });
  });
});
