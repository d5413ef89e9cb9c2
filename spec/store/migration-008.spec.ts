/**
 * Migration 008-dashboard-counts: the two counting indexes, added to an existing database in
 * place (its rows kept), the (task_id) index of 001 replaced and not brought back by a later
 * run of 001, a half run completed, and down restoring what was there before.
 */
import { expect } from 'chai';
import { dashboardCounts } from '../../migrations/008-dashboard-counts.js';
import type { TaskStore } from '../../lib/index.js';
import { freshMigratedStore, forEachDialect, uniqueAlias } from '../support/index.js';

forEachDialect('migration 008-dashboard-counts', (t) => {
  const freshStore = () => freshMigratedStore(t);

  const indexesOf = async (store: TaskStore, table: string, context: Parameters<typeof dashboardCounts.up>[1]) => ({
    statusQueue: await context.adapter.hasIndex(store.knex, table, `${table}_status_queue_idx`),
    taskIdStatus: await context.adapter.hasIndex(store.knex, table, `${table}_task_id_status_idx`),
    taskId: await context.adapter.hasIndex(store.knex, table, `${table}_task_id_idx`),
  });

  it('a fresh database has the counting indexes and no task_id-only index; another migrateUp brings none back', async () => {
    const { store, queueTable, context } = await freshStore();
    expect(await indexesOf(store, queueTable, context)).to.deep.equal({ statusQueue: true, taskIdStatus: true, taskId: false });
    expect(await store.migrateUp()).to.deep.equal([]);
    expect(await indexesOf(store, queueTable, context)).to.deep.equal({ statusQueue: true, taskIdStatus: true, taskId: false });
  });

  it('upgrades a database made before it in place, keeping its rows and counts; down restores the task_id index; both idempotent', async () => {
    const { store, queueTable, context } = await freshStore();
    await dashboardCounts.down(store.knex, context);
    await dashboardCounts.down(store.knex, context);
    expect(await indexesOf(store, queueTable, context)).to.deep.equal({ statusQueue: false, taskIdStatus: false, taskId: true });

    const definition = await store.taskDefinitionCreate({ alias: uniqueAlias('BeforeEight') });
    for (const status of ['queued', 'queued', 'failed'] as const)
      await store.taskQueueCreate({ taskId: definition.id, queueName: 'eight', status });
    const before = await store.taskQueueCountsByQueue();

    expect(await store.migrateUp()).to.deep.equal(['008-dashboard-counts']);
    expect(await store.migrateUp()).to.deep.equal([]);
    expect(await indexesOf(store, queueTable, context)).to.deep.equal({ statusQueue: true, taskIdStatus: true, taskId: false });
    expect(await store.taskQueueCountsByQueue()).to.deep.equal(before);
    expect(await store.taskQueueCountsByQueue({ cap: 1 })).to.deep.equal([
      { queueName: 'eight', stats: { ...before[0]!.stats, queued: 1 }, total: 2, capped: ['queued'] },
    ]);
    expect(await store.taskQueueCount({ taskId: definition.id })).to.equal(3);
  });

  it('completes a half run: a missing index is added, what is there is left alone', async () => {
    const { store, queueTable, context } = await freshStore();
    await store.knex.schema.alterTable(queueTable, (table) => table.dropIndex([], `${queueTable}_task_id_status_idx`));
    expect(await dashboardCounts.up(store.knex, context)).to.equal(true);
    expect(await indexesOf(store, queueTable, context)).to.deep.equal({ statusQueue: true, taskIdStatus: true, taskId: false });
    expect(await dashboardCounts.up(store.knex, context)).to.equal(false);
  });
});
