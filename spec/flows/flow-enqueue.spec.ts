/**
 * flowEnqueue is all or nothing on every dialect: a bad graph or an unknown alias is refused
 * before anything is written (rows counted in every table), a flow inside the caller's
 * transaction lands or vanishes with it, and runners hear of it only after the commit.
 * Migration 006 upgrades an existing database in place.
 */
import { expect } from 'chai';
import { defineTask } from '../../lib/index.js';
import type { FlowStepInput, TaskStore } from '../../lib/index.js';
import { flows } from '../../migrations/006-flows.js';
import { adapterForKnex } from '../../adapters/index.js';
import { TABLES, expectError, forEachDialect, uniqueAlias, uniqueQueue, uniqueTable } from '../support/index.js';

const ALL_TABLES = [TABLES.definition, TABLES.queue, TABLES.schedule, TABLES.flow, TABLES.dependency];

async function rowCounts(store: TaskStore, tables: readonly string[] = ALL_TABLES): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = (await store.knex(table).count({ count: '*' })) as { count: number | string }[];
    counts[table] = Number(row!.count);
  }
  return counts;
}

forEachDialect('flowEnqueue: validation and atomicity', (t) => {
  let queue: string;
  let alias: string;

  beforeEach(async function () {
    queue = uniqueQueue();
    alias = uniqueAlias('Step');
    await t.store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
  });

  const step = (key: string, dependsOn: string[] = [], extra: Partial<FlowStepInput> = {}): FlowStepInput => ({
    key,
    alias,
    dependsOn,
    ...extra,
  });

  it('refuses a bad graph with INVALID_ARGUMENT (or NOT_FOUND for an alias) and writes nothing', async function () {
    // One flow already there, so "nothing written" is measured against rows that exist.
    await t.store.flowEnqueue({ queueName: queue, steps: [step('a'), step('b', ['a'])] });
    const before = await rowCounts(t.store);
    expect(before[TABLES.flow]).to.equal(1);
    expect(before[TABLES.dependency]).to.equal(1);
    const long = 'k'.repeat(101);
    const cases: [string, unknown, 'INVALID_ARGUMENT' | 'NOT_FOUND', string | RegExp][] = [
      ['an empty steps list', { queueName: queue, steps: [] }, 'INVALID_ARGUMENT', 'flow.steps must be a non-empty array'],
      ['no steps at all', { queueName: queue }, 'INVALID_ARGUMENT', 'flow.steps'],
      ['an unknown dependsOn key', { steps: [step('a'), step('b', ['nope'])] }, 'INVALID_ARGUMENT', "names 'nope', which is no step"],
      ['a duplicate key', { steps: [step('a'), step('b'), step('a', ['b'])] }, 'INVALID_ARGUMENT', "key 'a' is already the key of"],
      ['a self-dependency', { steps: [step('a', ['a'])] }, 'INVALID_ARGUMENT', 'cycle'],
      [
        'a cycle',
        { steps: [step('root'), step('a', ['root', 'c']), step('b', ['a']), step('c', ['b'])] },
        'INVALID_ARGUMENT',
        /cycle.*'a', 'b', 'c'/,
      ],
      ['an empty key', { steps: [step('')] }, 'INVALID_ARGUMENT', 'steps[0].key must be a non-empty string'],
      ['a blank key', { steps: [step('  ')] }, 'INVALID_ARGUMENT', 'steps[0].key'],
      ['a key too long', { steps: [step(long)] }, 'INVALID_ARGUMENT', 'at most 100 characters'],
      ['a key with U+0000', { steps: [step('a\u0000b')] }, 'INVALID_ARGUMENT', 'U+0000'],
      ['a dependsOn naming a key twice', { steps: [step('a'), step('b', ['a', 'a'])] }, 'INVALID_ARGUMENT', "names 'a' twice"],
      [
        'an unknown policy',
        { steps: [step('a'), step('b', ['a'], { onParentFailure: 'maybe' as never })] },
        'INVALID_ARGUMENT',
        'onParentFailure',
      ],
      ['an unknown step option', { steps: [{ ...step('a'), uniqueKey: 'u' }] }, 'INVALID_ARGUMENT', "unknown option 'uniqueKey'"],
      ['params that are not an object', { steps: [step('a', [], { params: [] as never })] }, 'INVALID_ARGUMENT', 'params'],
      ['delayMs and runAt', { steps: [step('a', [], { delayMs: 1, runAt: new Date() })] }, 'INVALID_ARGUMENT', 'not both'],
      [
        'an unknown alias in the last step',
        { steps: [step('a'), { key: 'b', alias: 'NoSuchAlias', dependsOn: ['a'] }] },
        'NOT_FOUND',
        'NoSuchAlias',
      ],
    ];
    for (const [what, flow, code, message] of cases) {
      const error = await expectError(() => t.store.flowEnqueue(flow as never), code, message);
      expect(error.message, what).to.be.a('string');
      expect(await rowCounts(t.store), `${what}: rows written`).to.deep.equal(before);
    }
    await expectError(
      () => t.store.flowEnqueue({ steps: [step('a')] }, { delayMs: 1 } as never),
      'INVALID_ARGUMENT',
      "unknown option 'delayMs'",
    );
    await expectError(() => t.store.batchEnqueue({ tasks: [], onComplete: { alias } }), 'INVALID_ARGUMENT', 'tasks');
    await expectError(
      () => t.store.batchEnqueue({ tasks: [{ alias }], onComplete: { alias, key: 'x' } as never }),
      'INVALID_ARGUMENT',
      'onComplete takes no key',
    );
    expect(await rowCounts(t.store)).to.deep.equal(before);
  });

  it('writes nothing when the database fails half-way (the flow and step rows are rolled back)', async function () {
    const kept = [TABLES.definition, TABLES.queue, TABLES.flow];
    const before = await rowCounts(t.store, kept);
    // The dependency table gone: the flow row and the step rows are written, then the first edge fails.
    await t.store.knex.schema.dropTable(TABLES.dependency);
    try {
      await expectError(() => t.store.flowEnqueue({ queueName: queue, steps: [step('a'), step('b', ['a'])] }), 'DATABASE', 'flowEnqueue');
      expect(await rowCounts(t.store, kept)).to.deep.equal(before);
    } finally {
      expect(await t.store.migrateUp()).to.deep.equal(['006-flows']);
    }
    await t.store.flowEnqueue({ queueName: queue, steps: [step('a'), step('b', ['a'])] });
    expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(2);
  });

  it('inside the caller’s transaction: committed with it, or gone with its rollback; runners hear after the commit', async function () {
    const before = await rowCounts(t.store);
    const heard: string[] = [];
    const unsubscribe = t.store.onEnqueued((name) => heard.push(name));
    try {
      await t.store.knex
        .transaction(async (trx) => {
          const flow = await t.store.flowEnqueue({ queueName: queue, steps: [step('a'), step('b', ['a'])] }, { transaction: trx });
          expect(Object.keys(flow.items)).to.deep.equal(['a', 'b']);
          throw new Error('roll it back');
        })
        .catch((error: Error) => expect(error.message).to.equal('roll it back'));
      expect(await rowCounts(t.store), 'after the rollback').to.deep.equal(before);
      await new Promise((resolve) => setImmediate(resolve));
      expect(
        heard.filter((name) => name === queue),
        'no wake-up for a rolled-back flow',
      ).to.deep.equal([]);

      let id = '';
      await t.store.knex.transaction(async (trx) => {
        id = (await t.store.flowEnqueue({ queueName: queue, steps: [step('a'), step('b', ['a'])] }, { transaction: trx })).id;
        expect(
          heard.filter((name) => name === queue),
          'no wake-up before the commit',
        ).to.deep.equal([]);
      });
      await new Promise((resolve) => setImmediate(resolve));
      // This process's own announcement (PostgreSQL's notification from the insert may follow).
      expect(heard).to.include(queue);
      const flow = await t.store.flowFindById(id);
      expect(flow!.status).to.equal('running');
      expect(Object.keys(flow!.items)).to.deep.equal(['a', 'b']);
    } finally {
      unsubscribe();
    }
  });

  it('a failed flowEnqueue inside the caller’s transaction leaves that transaction usable', async function () {
    await t.store.knex.transaction(async (trx) => {
      await expectError(
        () => t.store.flowEnqueue({ queueName: queue, steps: [step('a'), { key: 'b', alias: 'NoSuchAlias' }] }, { transaction: trx }),
        'NOT_FOUND',
      );
      await t.store.flowEnqueue({ queueName: queue, steps: [step('a')] }, { transaction: trx });
    });
    expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(1);
  });
});

forEachDialect('migration 006-flows', (t) => {
  it('upgrades an existing database in place: tasks kept, flows work, running it again changes nothing; down drops it all', async function () {
    const names = {
      taskDefinitionTableName: uniqueTable('def'),
      taskQueueTableName: uniqueTable('q'),
      scheduleTableName: uniqueTable('s'),
    };
    const store = await t.openStore({ ...names, automigrate: true });
    const queueTable = names.taskQueueTableName;
    const tables = { taskDefinition: names.taskDefinitionTableName, taskQueue: queueTable, schedule: names.scheduleTableName };
    const adapter = adapterForKnex(store.knex);
    // The schema as it was before 006.
    await flows.down(store.knex, { tables, adapter });
    expect(await store.knex.schema.hasTable(`${queueTable}_flow`)).to.equal(false);
    expect(await store.knex.schema.hasColumn(queueTable, 'flow_id')).to.equal(false);
    const alias = uniqueAlias('Old');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const old = await store.taskDefinitionEnqueueByAlias('old', alias, { n: 1 });

    expect(await store.migrateUp()).to.deep.equal(['006-flows']);
    expect(await store.migrateUp()).to.deep.equal([]);
    expect(await store.taskQueueFindById(old.id)).to.include({ id: old.id, status: 'queued', flowId: null, flowKey: null });
    expect((await store.taskQueueProcessNext('old'))?.status).to.equal('success');
    const flow = await store.flowEnqueue({
      queueName: 'new',
      steps: [
        { key: 'a', alias },
        { key: 'b', alias, dependsOn: ['a'] },
      ],
    });
    await store.taskQueueProcessNext('new');
    expect((await store.taskQueueProcessNext('new'))?.flowKey).to.equal('b');
    expect((await store.flowFindById(flow.id))!.status).to.equal('succeeded');

    // Half-run (MySQL cannot roll DDL back): one column and the dependency table missing.
    await store.knex.schema.dropTable(`${queueTable}_dependency`);
    await store.knex.schema.alterTable(queueTable, (table) => table.dropColumn('on_parent_failure'));
    expect(await store.migrateUp()).to.deep.equal(['006-flows']);
    expect(await store.knex.schema.hasColumn(queueTable, 'on_parent_failure')).to.equal(true);

    await store.migrateDown();
    for (const table of [`${queueTable}_flow`, `${queueTable}_dependency`, queueTable]) {
      expect(await store.knex.schema.hasTable(table), table).to.equal(false);
    }
  });
});
