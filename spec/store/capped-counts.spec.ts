/**
 * Counts that stop at a cap (docs/dashboard.md, "Reads for dashboards"): by queue and status,
 * by definition and status, and a filtered count. Below the cap they equal the exact counts;
 * above it the count is the cap and the group is marked capped; soft-deleted tasks never count.
 */
import { expect } from 'chai';
import type { TaskQueueItem, TaskStatus, TaskStore } from '../../lib/index.js';
import { expectError, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

forEachDialect('capped counts', (t) => {
  async function definitionId(store: TaskStore): Promise<string> {
    return (await store.taskDefinitionCreate({ alias: uniqueAlias('Capped') })).id;
  }

  /** `count` tasks of one definition in one queue with one status. */
  async function tasks(store: TaskStore, taskId: string, queueName: string, status: TaskStatus, count: number): Promise<TaskQueueItem[]> {
    const made: TaskQueueItem[] = [];
    for (let i = 0; i < count; i++) made.push(await store.taskQueueCreate({ taskId, queueName, status, parameters: { i } }));
    return made;
  }

  it('counts by queue and status up to the cap: the cap and `capped` above it, the exact count at and below it', async () => {
    const [a, b] = [uniqueQueue('a'), uniqueQueue('b')];
    const id = await definitionId(t.store);
    await tasks(t.store, id, a, 'queued', 4);
    await tasks(t.store, id, a, 'failed', 3);
    await tasks(t.store, id, a, 'success', 1);
    const [deleted] = await tasks(t.store, id, b, 'success', 2);
    await tasks(t.store, id, b, 'running', 1);
    await t.store.taskQueueSoftDeleteById(deleted!.id);
    const mine = <R extends { queueName: string }>(rows: R[]) => rows.filter((row) => row.queueName === a || row.queueName === b);

    const capped = mine(await t.store.taskQueueCountsByQueue({ cap: 3 }));
    expect(
      capped.map((row) => [row.queueName, row.stats.queued, row.stats.failed, row.stats.success, row.stats.running, row.total, row.capped]),
    ).to.deep.equal([
      [a, 3, 3, 1, 0, 7, ['queued']],
      [b, 0, 0, 1, 1, 2, []],
    ]);

    const exact = mine(await t.store.taskQueueCountsByQueue());
    expect(exact.map((row) => [row.queueName, row.stats.queued, row.total, row.capped])).to.deep.equal([
      [a, 4, 8, []],
      [b, 0, 2, []],
    ]);
    // A cap above every count answers exactly what the exact read answers.
    expect(mine(await t.store.taskQueueCountsByQueue({ cap: 1_000_000 }))).to.deep.equal(exact);
  });

  it('finds every queue, whatever its name, in name order, as the exact read does', async () => {
    const id = await definitionId(t.store);
    const base = uniqueQueue('n');
    // Names that sort close together; 'x ' differs from 'x' on every dialect (MySQL: NO PAD).
    const names = [`${base}`, `${base} `, `${base}-`, `${base}_Z`, `${base}é`, `${base}${'z'.repeat(20)}`];
    for (const [i, name] of names.entries()) await tasks(t.store, id, name, i % 2 === 0 ? 'queued' : 'canceled', 1);
    const ours = (rows: { queueName: string }[]) => rows.map((row) => row.queueName).filter((name) => name.startsWith(base));
    const exact = ours(await t.store.taskQueueCountsByQueue());
    expect([...exact].sort()).to.deep.equal([...names].sort());
    expect(ours(await t.store.taskQueueCountsByQueue({ cap: 1 }))).to.deep.equal(exact);
  });

  it('counts by definition up to the cap, for the given definitions only, of one queue when given', async () => {
    const [queue, other] = [uniqueQueue('d'), uniqueQueue('e')];
    const [one, two, three] = [await definitionId(t.store), await definitionId(t.store), await definitionId(t.store)];
    await tasks(t.store, one, queue, 'queued', 3);
    await tasks(t.store, one, other, 'failed', 2);
    await tasks(t.store, two, queue, 'success', 2);
    await tasks(t.store, three, queue, 'queued', 1);
    const row = (rows: { taskId: string; stats: Record<TaskStatus, number>; total: number; capped: TaskStatus[] }[], id: string) => {
      const found = rows.find((entry) => entry.taskId === id);
      return found && [found.stats.queued, found.stats.failed, found.stats.success, found.total, found.capped];
    };

    const page = await t.store.taskQueueCountsByDefinition({ taskIds: [one, two], cap: 2 });
    expect(page.map((entry) => entry.taskId).sort()).to.deep.equal([one, two].sort());
    expect(row(page, one)).to.deep.equal([2, 2, 0, 4, ['queued']]);
    expect(row(page, two)).to.deep.equal([0, 0, 2, 2, []]);

    const inQueue = await t.store.taskQueueCountsByDefinition({ queueName: queue, cap: 2 });
    expect(row(inQueue, one)).to.deep.equal([2, 0, 0, 2, ['queued']]);
    expect(row(inQueue, three)).to.deep.equal([1, 0, 0, 1, []]);

    // Without taskIds, every definition with live tasks: the same as the exact read below the cap.
    const all = await t.store.taskQueueCountsByDefinition({ cap: 1_000_000 });
    expect(all).to.deep.equal(await t.store.taskQueueCountsByDefinition());
    expect(row(all, one)).to.deep.equal([3, 2, 0, 5, []]);
    expect(await t.store.taskQueueCountsByDefinition({ taskIds: [], cap: 5 })).to.deep.equal([]);
    expect(row(await t.store.taskQueueCountsByDefinition({ taskIds: [one] }), one)).to.deep.equal([3, 2, 0, 5, []]);
  });

  it('taskQueueCountCapped reads at most cap + 1 matching rows: { count, capped }', async () => {
    const queue = uniqueQueue('c');
    const id = await definitionId(t.store);
    const made = await tasks(t.store, id, queue, 'failed', 4);
    await tasks(t.store, id, queue, 'queued', 2);
    await t.store.taskQueueSoftDeleteById(made[0]!.id);
    expect(await t.store.taskQueueCountCapped({ queueName: queue }, { cap: 5 })).to.deep.equal({ count: 5, capped: false });
    expect(await t.store.taskQueueCountCapped({ queueName: queue }, { cap: 4 })).to.deep.equal({ count: 4, capped: true });
    expect(await t.store.taskQueueCountCapped({ queueName: queue, status: 'failed' }, { cap: 2 })).to.deep.equal({
      count: 2,
      capped: true,
    });
    expect(await t.store.taskQueueCountCapped({ queueName: queue, includeSoftDeleted: true })).to.deep.equal({ count: 6, capped: false });
    expect(await t.store.taskQueueCountCapped({ queueName: queue, status: 'paused' }, { cap: 1 })).to.deep.equal({
      count: 0,
      capped: false,
    });
  });

  it('queueList passes the cap on: its entries list the capped statuses', async () => {
    const queue = uniqueQueue('l');
    const id = await definitionId(t.store);
    await tasks(t.store, id, queue, 'queued', 3);
    await t.store.queuePause(queue);
    const entry = (await t.store.queueList({ cap: 2 })).find((row) => row.queueName === queue);
    expect(entry).to.deep.include({ paused: true, capped: ['queued'] });
    expect(entry?.stats.queued).to.equal(2);
    expect((await t.store.queueList()).find((row) => row.queueName === queue)).to.deep.include({ capped: [] });
  });

  it('refuses a cap that is not a whole number from 1 to 1,000,000, and unknown options', async () => {
    for (const cap of [0, -1, 1.5, 1_000_001, '10', null]) {
      await expectError(() => t.store.taskQueueCountsByQueue({ cap } as never), 'INVALID_ARGUMENT', /cap/);
      await expectError(() => t.store.taskQueueCountsByDefinition({ cap } as never), 'INVALID_ARGUMENT', /cap/);
      await expectError(() => t.store.taskQueueCountCapped({}, { cap } as never), 'INVALID_ARGUMENT', /cap/);
    }
    await expectError(() => t.store.taskQueueCountsByQueue({ limit: 5 } as never), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskQueueCountCapped({}, { max: 5 } as never), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskQueueCountsByDefinition({ taskIds: 'abc' } as never), 'INVALID_ARGUMENT', /taskIds/);
    const tooMany = Array.from({ length: 1001 }, (_, i) => `id-${i}`);
    await expectError(() => t.store.taskQueueCountsByDefinition({ taskIds: tooMany, cap: 5 }), 'INVALID_ARGUMENT', /at most 1000/);
  });
});
