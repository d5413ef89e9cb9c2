import { expect } from 'chai';
import knexFactory from 'knex';
import { TaskStore, TaskStoreError } from '../../lib/index.js';
import type { TaskStoreOptions } from '../../lib/index.js';
import { expectError, forEachDialect, freshMigrationSteps, knexConfigFor, uniqueTable } from '../support/index.js';

function freshTables(): Required<Pick<TaskStoreOptions, 'taskDefinitionTableName' | 'taskQueueTableName' | 'scheduleTableName'>> {
  return {
    taskDefinitionTableName: uniqueTable('def'),
    taskQueueTableName: uniqueTable('queue'),
    scheduleTableName: uniqueTable('sched'),
  };
}

forEachDialect('TaskStore.open and migrations', (t) => {
  async function tablesExist(store: TaskStore, tables: ReturnType<typeof freshTables>): Promise<boolean[]> {
    return Promise.all(
      [tables.taskDefinitionTableName, tables.taskQueueTableName, tables.scheduleTableName].map((name) => store.knex.schema.hasTable(name)),
    );
  }

  it('reports its dialect and exposes its knex instance', async function () {
    expect(t.store.dialect).to.equal(t.dialect);
    const rows: unknown = await t.store.knex.raw('select 1 as one');
    expect(rows).to.not.equal(undefined);
  });

  it('creates the three tables on open when automigrate is on (the default)', async function () {
    const tables = freshTables();
    const store = t.track(await TaskStore.open({ database: t.url, ...tables }));
    expect(await tablesExist(store, tables)).to.deep.equal([true, true, true]);
  });

  it('creates nothing with automigrate: false', async function () {
    const tables = freshTables();
    const store = await t.openStore({ ...tables, automigrate: false });
    expect(await tablesExist(store, tables)).to.deep.equal([false, false, false]);
  });

  it('migrateUp is idempotent', async function () {
    const tables = freshTables();
    const store = await t.openStore({ ...tables, automigrate: false });
    await store.migrateUp();
    await store.migrateUp();
    expect(await tablesExist(store, tables)).to.deep.equal([true, true, true]);
    const definition = await store.taskDefinitionCreate({ alias: 'AfterTwoMigrations' });
    expect((await store.taskDefinitionFindById(definition.id))?.alias).to.equal('AfterTwoMigrations');
  });

  it('migrateUp resolves the steps that changed the schema: all that apply on a fresh database, [] once up to date', async function () {
    const tables = freshTables();
    const store = await t.openStore({ ...tables, automigrate: false });
    const fresh = freshMigrationSteps(t.dialect);
    expect(await store.migrateUp()).to.deep.equal(fresh);
    expect(await store.migrateUp()).to.deep.equal([]);
    const index = `${tables.taskQueueTableName}_claim_idx`;
    await store.knex.schema.alterTable(tables.taskQueueTableName, (table) => table.dropIndex([], index));
    expect(await store.migrateUp()).to.deep.equal(['001-create-tables']);
    expect(await store.migrateUp()).to.deep.equal([]);
    const countsIndex = `${tables.taskQueueTableName}_status_queue_idx`;
    await store.knex.schema.alterTable(tables.taskQueueTableName, (table) => table.dropIndex([], countsIndex));
    expect(await store.migrateUp()).to.deep.equal(['008-dashboard-counts']);
    expect(await store.migrateUp()).to.deep.equal([]);
  });

  it('two stores migrating the same tables at once both succeed', async function () {
    const tables = freshTables();
    const a = await t.openStore({ ...tables });
    const b = await t.openStore({ ...tables });
    const results = await Promise.allSettled([a.migrateUp(), b.migrateUp()]);
    expect(results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).to.deep.equal(['ok', 'ok']);
    expect(await tablesExist(a, tables)).to.deep.equal([true, true, true]);
  });

  it('two stores opening with automigrate on the same fresh tables at once both succeed', async function () {
    const tables = freshTables();
    const opened = await Promise.allSettled([
      TaskStore.open({ database: t.url, ...tables }),
      TaskStore.open({ database: t.url, ...tables }),
    ]);
    for (const result of opened) if (result.status === 'fulfilled') t.track(result.value);
    expect(opened.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).to.deep.equal(['ok', 'ok']);
  });

  it('migrateDown drops the three tables, is idempotent, and down then up round-trips', async function () {
    const tables = freshTables();
    const store = await t.openStore({ ...tables, automigrate: true });
    await store.taskDefinitionCreate({ alias: 'WillBeDropped' });
    await store.migrateDown();
    expect(await tablesExist(store, tables)).to.deep.equal([false, false, false]);
    await store.migrateDown();
    expect(await tablesExist(store, tables)).to.deep.equal([false, false, false]);
    await store.migrateUp();
    expect(await tablesExist(store, tables)).to.deep.equal([true, true, true]);
    expect(await store.taskDefinitionCount()).to.equal(0);
    const definition = await store.taskDefinitionCreate({ alias: 'WillBeDropped' });
    expect(definition.alias).to.equal('WillBeDropped');
  });

  it('stores on different table names do not see each other', async function () {
    const a = await t.openStore({ ...freshTables(), automigrate: true });
    const b = await t.openStore({ ...freshTables(), automigrate: true });
    await a.taskDefinitionCreate({ alias: 'OnlyInA' });
    expect(await a.taskDefinitionCount()).to.equal(1);
    expect(await b.taskDefinitionCount()).to.equal(0);
    expect(await b.taskDefinitionFindByAlias('OnlyInA')).to.equal(null);
  });

  it('close is safe to call twice', async function () {
    const store = await TaskStore.open({ database: t.url, automigrate: false });
    await store.close();
    await store.close();
  });

  it('uses TASKSTORE_DATABASE_URL when database is omitted', async function () {
    const saved = process.env['TASKSTORE_DATABASE_URL'];
    process.env['TASKSTORE_DATABASE_URL'] = t.url;
    try {
      const store = t.track(await TaskStore.open({ automigrate: false }));
      expect(store.dialect).to.equal(t.dialect);
      await t.store.taskDefinitionCreate({ alias: 'SeenThroughEnv' });
      expect((await store.taskDefinitionFindByAlias('SeenThroughEnv'))?.alias).to.equal('SeenThroughEnv');
    } finally {
      if (saved === undefined) delete process.env['TASKSTORE_DATABASE_URL'];
      else process.env['TASKSTORE_DATABASE_URL'] = saved;
    }
  });

  it('accepts a Knex.Config', async function () {
    const store = t.track(await TaskStore.open({ database: knexConfigFor(t.dialect, t.url), automigrate: false }));
    expect(store.dialect).to.equal(t.dialect);
    await t.store.taskDefinitionCreate({ alias: 'SeenThroughConfig' });
    expect(await store.taskDefinitionCount()).to.equal(1);
  });

  it('accepts a Knex instance and leaves it open on close (the caller owns it)', async function () {
    const knex = knexFactory(knexConfigFor(t.dialect, t.url));
    try {
      const store = await TaskStore.open({ database: knex, automigrate: false });
      expect(store.dialect).to.equal(t.dialect);
      expect(store.knex).to.equal(knex);
      await store.taskDefinitionCreate({ alias: 'ThroughInstance' });
      await store.close();
      const rows = await knex('task_definition').select('alias');
      expect(rows.map((row: { alias: string }) => row.alias)).to.deep.equal(['ThroughInstance']);
    } finally {
      await knex.destroy();
    }
  });

  it('rejects bad options with INVALID_ARGUMENT naming the option', async function () {
    const cases: [TaskStoreOptions, string][] = [
      [{ database: t.url, taskDefinitionTableName: '' }, 'taskDefinitionTableName'],
      [{ database: t.url, taskQueueTableName: 'x; drop table y' }, 'taskQueueTableName'],
      [{ database: t.url, scheduleTableName: '  ' }, 'scheduleTableName'],
      [{ database: 'oracle://x' }, 'database'],
      [{ database: t.url, heartbeatIntervalMs: -1 }, 'heartbeatIntervalMs'],
      [{ database: t.url, heartbeatIntervalMs: 2 ** 31 }, 'heartbeatIntervalMs'],
    ];
    for (const [options, name] of cases) {
      const error = await expectError(() => TaskStore.open({ automigrate: false, ...options }), 'INVALID_ARGUMENT', name);
      expect(error).to.be.instanceOf(TaskStoreError);
    }
  });

  it('wraps driver errors as DATABASE with the original as cause', async function () {
    const tables = freshTables();
    const store = await t.openStore({ ...tables, automigrate: false });
    const error = await expectError(() => store.taskDefinitionCreate({ alias: 'NoTableYet' }), 'DATABASE');
    expect(error.cause).to.be.instanceOf(Error);
  });
});

describe('TaskStore.open with SQLite in memory', function () {
  it("opens 'sqlite::memory:', migrates and round-trips a definition", async function () {
    const store = await TaskStore.open({ database: 'sqlite::memory:' });
    try {
      expect(store.dialect).to.equal('sqlite');
      const created = await store.taskDefinitionCreate({ alias: 'InMemory' });
      expect((await store.taskDefinitionFindById(created.id))?.alias).to.equal('InMemory');
    } finally {
      await store.close();
    }
  });
});
