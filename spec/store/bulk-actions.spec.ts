/**
 * Bulk actions on a filtered set (requeue, cancel, soft delete in batches), run now, the
 * list's search filters (parameters text, unique key) and lastError.
 */
import { expect } from 'chai';
import { TaskQueueRunner, defineTask, lastError, type TaskQueueItem, type TaskStatus, type TaskStore } from '../../lib/index.js';
import { deferred, detailMessages, expectError, forEachDialect, uniqueAlias, uniqueQueue, waitFor, within } from '../support/index.js';

async function statusesOf(store: TaskStore, queueName: string): Promise<Record<string, TaskStatus>> {
  const items = await store.taskQueueList({ queueName, includeSoftDeleted: true });
  return Object.fromEntries(items.map((item) => [item.id, item.softDeletedAt ? ('deleted' as TaskStatus) : item.status]));
}

forEachDialect('bulk actions on a filtered set', (t) => {
  let taskId: string;
  const create = (queueName: string, status: TaskStatus, extra: { uniqueKey?: string; parameters?: Record<string, string> } = {}) =>
    t.store.taskQueueCreate({ taskId, queueName, status, ...extra });
  const createMany = async (queueName: string, status: TaskStatus, count: number): Promise<TaskQueueItem[]> => {
    const items: TaskQueueItem[] = [];
    for (let n = 0; n < count; n++) items.push(await create(queueName, status));
    return items;
  };

  beforeEach(async () => {
    taskId = (await t.store.taskDefinitionCreate({ alias: uniqueAlias('Bulk') })).id;
  });

  it('requeueMany changes exactly the failed tasks of the queue, over several batches; dryRun counts and writes nothing', async () => {
    const [queue, other] = [uniqueQueue(), uniqueQueue()];
    const failed = await createMany(queue, 'failed', 7);
    const rest = [
      ...(await createMany(queue, 'canceled', 2)),
      ...(await createMany(queue, 'success', 2)),
      ...(await createMany(queue, 'queued', 2)),
    ];
    const elsewhere = await createMany(other, 'failed', 3);
    const before = { here: await statusesOf(t.store, queue), there: await statusesOf(t.store, other) };

    const dry = await t.store.taskQueueRequeueMany({ queueName: queue, status: 'failed' }, { dryRun: true, batchSize: 3 });
    expect(dry).to.deep.equal({ matched: 7, changed: 0, skipped: 0, conflicts: 0 });
    expect(await statusesOf(t.store, queue), 'a dry run writes nothing').to.deep.equal(before.here);

    const result = await t.store.taskQueueRequeueMany({ queueName: queue, status: 'failed' }, { batchSize: 3 });
    expect(result).to.deep.equal({ matched: 7, changed: 7, skipped: 0, conflicts: 0 });
    const after = await statusesOf(t.store, queue);
    for (const item of failed) expect(after[item.id], 'a failed task of the queue').to.equal('queued');
    for (const item of rest) expect(after[item.id], `a ${item.status} task is left alone`).to.equal(item.status);
    expect(await statusesOf(t.store, other), 'another queue is left alone').to.deep.equal(before.there);
    const requeued = (await t.store.taskQueueFindById(failed[0]!.id))!;
    expect(requeued).to.include({ attempts: 0, completedAt: null });
    expect(detailMessages(requeued.details)).to.include('Task requeued');
    expect(elsewhere).to.have.length(3);
  });

  it('requeueMany without a status takes failed and canceled tasks; a task whose unique key is held is skipped and counted', async () => {
    const queue = uniqueQueue();
    const k = uniqueAlias('key');
    const holder = await create(queue, 'queued', { uniqueKey: `${k}-held` });
    const first = await create(queue, 'failed', { uniqueKey: `${k}-twice` });
    const second = await create(queue, 'canceled', { uniqueKey: `${k}-twice` });
    const blocked = await create(queue, 'failed', { uniqueKey: `${k}-held` });
    const free = await create(queue, 'failed', { uniqueKey: `${k}-free` });
    const plain = await create(queue, 'canceled');

    const result = await t.store.taskQueueRequeueMany({ queueName: queue }, { batchSize: 2 });
    expect(result).to.deep.equal({ matched: 5, changed: 3, skipped: 2, conflicts: 2 });
    const after = await statusesOf(t.store, queue);
    expect([after[first.id], after[second.id], after[blocked.id], after[free.id], after[plain.id], after[holder.id]]).to.deep.equal([
      'queued',
      'canceled',
      'failed',
      'queued',
      'queued',
      'queued',
    ]);
    await expectError(() => t.store.taskQueueRequeueById(blocked.id), 'ALREADY_EXISTS', /unique key/);
    expect((await t.store.taskQueueFindById(blocked.id))!.status, 'the refused requeue wrote nothing').to.equal('failed');
  });

  it('cancelMany cancels queued, paused and running tasks of the filter in batches; a running one is told and its finish is fenced out', async () => {
    const queue = uniqueQueue();
    const alias = uniqueAlias('BulkCancel');
    const started = deferred();
    const aborted = deferred();
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        async handle(ctx) {
          started.resolve();
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          aborted.resolve();
          return true; // a late success, fenced out
        },
      }),
      true,
    );
    const running = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1 });
    runner.start();
    try {
      await within(started.promise, 10_000, 'the handler starting');
      const queued = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}], { delayMs: 3_600_000 });
      const paused = await create(queue, 'paused');
      const done = await create(queue, 'success');
      const result = await t.store.taskQueueCancelMany({ queueName: queue }, { batchSize: 2 });
      expect(result).to.deep.equal({ matched: 5, changed: 5, skipped: 0, conflicts: 0 });
      await within(aborted.promise, 10_000, 'ctx.signal aborting');
      await waitFor(() => runner.activeCount === 0, { message: 'the handler settled' });
      const after = await statusesOf(t.store, queue);
      for (const item of [running, ...queued, paused]) expect(after[item.id]).to.equal('canceled');
      expect(after[done.id]).to.equal('success');
    } finally {
      await runner.stop();
    }
    const row = (await t.store.taskQueueFindById(running.id))!;
    expect(row).to.include({ status: 'canceled', claimToken: null });
    expect(detailMessages(row.details)).to.include('Task canceled while running').and.not.include('Task completed');
  });

  it('softDeleteMany hides exactly the tasks of the filter and frees their unique keys', async () => {
    const queue = uniqueQueue();
    const key = uniqueAlias('soft');
    const keyed = await create(queue, 'queued', { uniqueKey: key });
    const failed = await createMany(queue, 'failed', 4);
    const kept = await createMany(queue, 'success', 2);
    const result = await t.store.taskQueueSoftDeleteMany({ queueName: queue, statuses: ['queued', 'failed'] }, { batchSize: 2 });
    expect(result).to.deep.equal({ matched: 5, changed: 5, skipped: 0, conflicts: 0 });
    const after = await statusesOf(t.store, queue);
    for (const item of [keyed, ...failed]) expect(after[item.id]).to.equal('deleted');
    for (const item of kept) expect(after[item.id]).to.equal('success');
    expect((await create(queue, 'queued', { uniqueKey: key })).uniqueKey, 'the key is free again').to.equal(key);
    expect(await t.store.taskQueueSoftDeleteMany({ queueName: queue, status: 'failed' }), 'nothing left to delete').to.deep.equal({
      matched: 0,
      changed: 0,
      skipped: 0,
      conflicts: 0,
    });
  });

  it('refuses bad input with INVALID_ARGUMENT and writes nothing', async () => {
    const queue = uniqueQueue();
    await createMany(queue, 'failed', 2);
    await createMany(queue, 'queued', 2);
    const before = await statusesOf(t.store, queue);
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        'a status requeue does not apply to',
        () => t.store.taskQueueRequeueMany({ queueName: queue, status: 'queued' }),
        /failed, canceled/,
      ],
      ['a status cancel does not apply to', () => t.store.taskQueueCancelMany({ queueName: queue, statuses: ['failed'] }), /queued/],
      ['paging', () => t.store.taskQueueSoftDeleteMany({ queueName: queue, limit: 1 } as never), /limit is not a filter/],
      ['soft-deleted rows', () => t.store.taskQueueSoftDeleteMany({ includeSoftDeleted: true } as never), /includeSoftDeleted/],
      ['an unknown key', () => t.store.taskQueueCancelMany({ queue } as never), /queue/],
      ['an unknown status', () => t.store.taskQueueRequeueMany({ status: 'broken' as TaskStatus }), /status/],
      ['a batch size of 0', () => t.store.taskQueueRequeueMany({ queueName: queue }, { batchSize: 0 }), /batchSize/],
      ['a dryRun that is not a boolean', () => t.store.taskQueueCancelMany({ queueName: queue }, { dryRun: 'yes' as never }), /dryRun/],
      ['a filter that is not an object', () => t.store.taskQueueSoftDeleteMany(null as never), /filter/],
      ['an empty search text', () => t.store.taskQueueSoftDeleteMany({ parametersText: ' ' }), /parametersText/],
    ];
    for (const [what, action, message] of cases)
      await expectError(action, 'INVALID_ARGUMENT', message).catch((error: Error) => {
        throw new Error(`${what}: ${error.message}`);
      });
    expect(await statusesOf(t.store, queue)).to.deep.equal(before);
  });
});

forEachDialect('run now, search and last error', (t) => {
  let taskId: string;
  beforeEach(async () => {
    taskId = (await t.store.taskDefinitionCreate({ alias: uniqueAlias('Ops') })).id;
  });

  it('taskQueueRunNowById makes a delayed task due now; a due one keeps its place; other states are INVALID_STATE', async () => {
    const queue = uniqueQueue();
    const later = new Date(Date.now() + 3_600_000);
    const delayed = await t.store.taskQueueCreate({ taskId, queueName: queue, availableAt: later });
    expect(await t.store.taskQueueClaimNext(queue), 'not due yet').to.equal(null);
    const due = await t.store.taskQueueRunNowById(delayed.id);
    expect(due.availableAt.getTime()).to.be.at.most(Date.now());
    expect(detailMessages(due.details)).to.include('Run now requested');
    expect((await t.store.taskQueueClaimNext(queue))?.id, 'claimable at once').to.equal(delayed.id);

    const past = new Date(Date.now() - 60_000);
    const waiting = await t.store.taskQueueCreate({ taskId, queueName: queue, availableAt: past });
    expect((await t.store.taskQueueRunNowById(waiting.id)).availableAt.getTime(), 'a due task keeps its place in line').to.equal(
      past.getTime(),
    );

    const failed = await t.store.taskQueueCreate({ taskId, queueName: queue, status: 'failed' });
    await expectError(() => t.store.taskQueueRunNowById(failed.id), 'INVALID_STATE', /it is failed \(only queued/);
    await expectError(() => t.store.taskQueueRunNowById(delayed.id), 'INVALID_STATE', /it is running/);
    await expectError(() => t.store.taskQueueRunNowById('0190b6b2-0000-7000-8000-000000000000'), 'NOT_FOUND');
    await expectError(() => t.store.taskQueueRunNowById(''), 'INVALID_ARGUMENT');
  });

  it('parametersText matches a substring of the stored JSON ignoring case; %, _, \\ and ! match themselves', async () => {
    const queue = uniqueQueue();
    const make = (parameters: Record<string, string>) => t.store.taskQueueCreate({ taskId, queueName: queue, parameters });
    const percent = await make({ code: '50%_off' });
    const lookalike = await make({ code: '50xyoff' });
    const backslash = await make({ path: 'C:\\dir' });
    const bang = await make({ note: 'hi!x' });
    const upper = await make({ name: 'MIXED Case' });
    const found = async (parametersText: string) =>
      (await t.store.taskQueueList({ queueName: queue, parametersText, orderBy: 'createdAt' })).map((item) => item.id);
    expect(await found('50%_')).to.deep.equal([percent.id]);
    expect(await found('%')).to.deep.equal([percent.id]);
    expect(await found('_')).to.deep.equal([percent.id]);
    expect(await found('\\')).to.deep.equal([backslash.id]);
    expect(await found('i!x')).to.deep.equal([bang.id]);
    expect(await found('!')).to.deep.equal([bang.id]);
    expect(await found('mixed case')).to.deep.equal([upper.id]);
    expect(await found('"code"')).to.deep.equal([percent.id, lookalike.id]);
    expect(await t.store.taskQueueCount({ queueName: queue, parametersText: 'off' })).to.equal(2);
  });

  it('uniqueKey matches exactly and uniqueKeyPrefix by prefix, wildcards literally; bulk actions take the same filter', async () => {
    const queue = uniqueQueue();
    const base = uniqueAlias('k');
    const make = (uniqueKey: string) => t.store.taskQueueCreate({ taskId, queueName: queue, status: 'failed', uniqueKey });
    const underscore = await make(`${base}_1`);
    const letter = await make(`${base}x1`);
    const percent = await make(`${base}%2`);
    const ids = async (filter: { uniqueKey?: string; uniqueKeyPrefix?: string }) =>
      (await t.store.taskQueueList({ queueName: queue, ...filter, orderBy: 'createdAt' })).map((item) => item.id);
    expect(await ids({ uniqueKey: `${base}_1` })).to.deep.equal([underscore.id]);
    expect(await ids({ uniqueKey: base }), 'exact, not a prefix').to.deep.equal([]);
    expect(await ids({ uniqueKeyPrefix: `${base}_` })).to.deep.equal([underscore.id]);
    expect(await ids({ uniqueKeyPrefix: `${base}%` })).to.deep.equal([percent.id]);
    expect(await ids({ uniqueKeyPrefix: base })).to.deep.equal([underscore.id, letter.id, percent.id]);
    const result = await t.store.taskQueueRequeueMany({ queueName: queue, uniqueKeyPrefix: `${base}_` });
    expect(result).to.include({ matched: 1, changed: 1 });
    expect((await t.store.taskQueueFindById(letter.id))!.status).to.equal('failed');
  });

  it("lastError reads the last failure from the details log: the error's message, the reason before a bare 'Task failed', or null", async () => {
    const queue = uniqueQueue();
    const alias = uniqueAlias('Fails');
    await t.store.taskHandlerAdd(
      defineTask<{ n: number }>({
        alias,
        handle(ctx) {
          throw new Error(`boom ${ctx.params.n}\nsecond line`);
        },
      }),
      true,
    );
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 7 });
    const failed = (await t.store.taskQueueProcessNext(queue))!;
    expect(failed.status).to.equal('failed');
    expect(lastError(failed)).to.match(/^boom 7\nsecond line/);
    expect(lastError((await t.store.taskQueueList({ queueName: queue, status: 'failed' }))[0]!)).to.equal(lastError(failed));
    await t.store.taskQueueRequeueById(item.id);
    expect(lastError((await t.store.taskQueueFindById(item.id))!), 'kept after a requeue').to.match(/^boom 7/);

    const orphan = await t.store.taskQueueCreate({ taskId, queueName: uniqueQueue() });
    expect(lastError(orphan)).to.equal(null);
    expect(lastError({ details: '2024-01-01 00:00:00 : No handler for alias: X\n2024-01-01 00:00:00 : Task failed' })).to.equal(
      'No handler for alias: X',
    );
    expect(lastError({ details: '2024-01-01 00:00:00 : working\n2024-01-01 00:00:00 : Task failed' })).to.equal('Task failed');
    expect(lastError({ details: '2024-01-01 00:00:00 : Failed forcefully after 5 minutes timeout' })).to.equal(
      'Failed forcefully after 5 minutes timeout',
    );
  });
});
