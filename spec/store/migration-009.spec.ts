/**
 * Migration 009-trace-context: the nullable trace_context column, added to an existing
 * database in place (its rows kept, reading back with traceContext null), sized for a
 * traceparent and a long tracestate, and dropped by down.
 */
import { expect } from 'chai';
import { traceContext } from '../../migrations/009-trace-context.js';
import { MAX_TRACE_CONTEXT_LENGTH, defineTask } from '../../lib/index.js';
import { freshMigratedStore, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

forEachDialect('migration 009-trace-context', (t) => {
  const freshStore = () => freshMigratedStore(t);

  it('upgrades a database made before it in place, keeping its rows; down drops the column; both idempotent', async () => {
    const { store, queueTable, context } = await freshStore();
    await traceContext.down(store.knex, context);
    await traceContext.down(store.knex, context);
    expect(await store.knex.schema.hasColumn(queueTable, 'trace_context')).to.equal(false);

    const alias = uniqueAlias('BeforeNine');
    const definition = await store.taskDefinitionCreate({ alias });
    await store.knex(queueTable).insert({
      id: '00000000-0000-7000-8000-000000000009',
      task_id: definition.id,
      queue_name: 'default',
      status: 'queued',
      parameters: '{"n":9}',
      output: '',
      details: '',
      attempts: 0,
      max_attempts: 1,
      priority: 0,
      available_at: new Date(),
      created_at: new Date(),
      updated_at: new Date(),
    });

    expect(await store.migrateUp()).to.deep.equal(['009-trace-context']);
    expect(await store.migrateUp()).to.deep.equal([]);
    expect(await store.knex.schema.hasColumn(queueTable, 'trace_context')).to.equal(true);
    const item = await store.taskQueueFindById('00000000-0000-7000-8000-000000000009');
    expect(item).to.deep.include({ parameters: { n: 9 }, traceContext: null });
  });

  it(`holds a trace context of ${MAX_TRACE_CONTEXT_LENGTH} characters as given`, async () => {
    const { context } = await freshStore();
    const longest = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01 ${'v=x,'.repeat(300)}`.slice(0, MAX_TRACE_CONTEXT_LENGTH);
    const store = await t.openStore({
      taskDefinitionTableName: context.tables.taskDefinition,
      taskQueueTableName: context.tables.taskQueue,
      scheduleTableName: context.tables.schedule,
      hooks: [{ aroundEnqueue: (_info, run) => run(longest) }],
    });
    const alias = uniqueAlias('Longest');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const item = await store.taskDefinitionEnqueueByAlias(uniqueQueue(), alias, {});
    expect((await store.taskQueueFindById(item.id))?.traceContext).to.equal(longest);
  });
});
