/**
 * Migration 004-queue-settings: an existing database upgrades in place (rows intact, their
 * group null), a half-run step is completed by the next run, running it again changes
 * nothing, and migrateDown drops what it added.
 */
import { expect } from 'chai';
import { adapterForKnex } from '../../adapters/index.js';
import { queueSettings } from '../../migrations/004-queue-settings.js';
import type { TaskStore } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueTable } from '../support/index.js';

function freshTables() {
  return { taskDefinitionTableName: uniqueTable('def'), taskQueueTableName: uniqueTable('queue'), scheduleTableName: uniqueTable('sched') };
}

type Tables = ReturnType<typeof freshTables>;
const context = (store: TaskStore, tables: Tables) => ({
  tables: { taskDefinition: tables.taskDefinitionTableName, taskQueue: tables.taskQueueTableName, schedule: tables.scheduleTableName },
  adapter: adapterForKnex(store.knex),
});

forEachDialect('migration 004-queue-settings', (t) => {
  /** A store whose tables are as migrations 001–003 left them, holding a definition and two tasks. */
  async function oldDatabase(): Promise<{ store: TaskStore; tables: Tables; ids: string[] }> {
    const tables = freshTables();
    const store = await t.openStore({ ...tables, automigrate: true });
    await queueSettings.down(store.knex, context(store, tables));
    expect(await store.knex.schema.hasColumn(tables.taskQueueTableName, 'group_key')).to.equal(false);
    expect(await store.knex.schema.hasTable(`${tables.taskQueueTableName}_settings`)).to.equal(false);
    const alias = uniqueAlias('Old');
    const definition = await store.taskDefinitionCreate({ alias });
    // Rows written as the old schema holds them (no group_key column yet).
    const now = new Date();
    const ids = ['0190a000-0000-7000-8000-000000000001', '0190a000-0000-7000-8000-000000000002'];
    await store.knex(tables.taskQueueTableName).insert(
      ids.map((id, n) => ({
        id,
        task_id: definition.id,
        queue_name: 'old',
        status: 'queued',
        parameters: JSON.stringify({ n, task_alias: alias }),
        output: '',
        details: '',
        attempts: 0,
        max_attempts: 1,
        priority: 0,
        available_at: now,
        created_at: now,
        updated_at: now,
      })),
    );
    return { store, tables, ids };
  }

  it('upgrades an existing database in place: rows intact, groups null, settings usable; a second run changes nothing', async function () {
    const { store, tables, ids } = await oldDatabase();
    expect(await store.migrateUp()).to.deep.equal(['004-queue-settings']);
    const items = await store.taskQueueList({ queueName: 'old', orderBy: 'id' });
    expect(items.map((item) => [item.id, item.group, item.parameters['n']])).to.deep.equal([
      [ids[0], null, 0],
      [ids[1], null, 1],
    ]);
    await store.queueConfigure('old', { concurrency: 1 });
    expect(await store.taskQueueClaim('old', 5)).to.have.length(1);
    expect(await store.migrateUp()).to.deep.equal([]);
    expect((await store.queueSettings('old')).concurrency).to.equal(1);
    expect(await store.knex.schema.hasTable(`${tables.taskQueueTableName}_starts`)).to.equal(true);
  });

  it('completes a half-run step (the column added, the tables not yet)', async function () {
    const { store, tables } = await oldDatabase();
    await store.knex.schema.alterTable(tables.taskQueueTableName, (table) => {
      table.string('group_key', 255).nullable();
    });
    expect(await store.migrateUp()).to.deep.equal(['004-queue-settings']);
    expect(await store.knex.schema.hasTable(`${tables.taskQueueTableName}_settings`)).to.equal(true);
    expect((await store.queuePause('old')).paused).to.equal(true);
    expect(await store.taskQueueClaim('old', 5)).to.deep.equal([]);
  });

  it('migrateDown drops the settings and the starts ledger with the rest', async function () {
    const tables = freshTables();
    const store = await t.openStore({ ...tables, automigrate: true });
    await store.migrateDown();
    for (const table of ['_settings', '_starts', '']) {
      expect(await store.knex.schema.hasTable(`${tables.taskQueueTableName}${table}`), table).to.equal(false);
    }
  });
});
