/**
 * Migration 005-live-control: the progress columns and the unique_key index, added to an
 * existing database in place (its rows kept), completed after a half run, and dropped by down.
 */
import { expect } from 'chai';
import { liveControl } from '../../migrations/005-live-control.js';
import type { TaskStore } from '../../lib/index.js';
import { freshMigratedStore, forEachDialect, uniqueAlias } from '../support/index.js';

const COLUMNS = ['progress_percent', 'progress_data', 'progress_updated_at'];

forEachDialect('migration 005-live-control', (t) => {
  const freshStore = () => freshMigratedStore(t);

  const schemaOf = async (store: TaskStore, table: string, context: Parameters<typeof liveControl.up>[1]) => ({
    columns: await Promise.all(COLUMNS.map((column) => store.knex.schema.hasColumn(table, column))),
    index: await context.adapter.hasIndex(store.knex, table, `${table}_unique_key_idx`),
  });

  it('upgrades a database made before it in place, keeping its rows; down drops what it added; both idempotent', async () => {
    const { store, queueTable, context } = await freshStore();
    await liveControl.down(store.knex, context);
    await liveControl.down(store.knex, context);
    expect(await schemaOf(store, queueTable, context)).to.deep.equal({ columns: [false, false, false], index: false });

    const alias = uniqueAlias('BeforeFive');
    await store.taskDefinitionCreate({ alias });
    // The rows of a database from before: read without the progress columns.
    const old = await store.knex(queueTable).insert({
      id: '00000000-0000-7000-8000-000000000001',
      task_id: (await store.taskDefinitionFindByAlias(alias))!.id,
      queue_name: 'default',
      status: 'queued',
      parameters: '{"n":1}',
      output: '',
      details: '',
      attempts: 0,
      max_attempts: 1,
      priority: 0,
      available_at: new Date(),
      created_at: new Date(),
      updated_at: new Date(),
    });
    expect(old).to.not.equal(undefined);

    expect(await store.migrateUp()).to.deep.equal(['005-live-control']);
    expect(await store.migrateUp()).to.deep.equal([]);
    expect(await schemaOf(store, queueTable, context)).to.deep.equal({ columns: [true, true, true], index: true });
    const item = await store.taskQueueFindById('00000000-0000-7000-8000-000000000001');
    expect(item).to.deep.include({ parameters: { n: 1 }, progress: null });
  });

  it('completes a half run: a missing column or index is added, what is there is left alone', async () => {
    const { store, queueTable, context } = await freshStore();
    await store.knex.raw('ALTER TABLE ?? DROP COLUMN ??', [queueTable, 'progress_data']);
    expect(await liveControl.up(store.knex, context)).to.equal(true);
    expect(await schemaOf(store, queueTable, context)).to.deep.equal({ columns: [true, true, true], index: true });
    expect(await liveControl.up(store.knex, context)).to.equal(false);
  });
});
