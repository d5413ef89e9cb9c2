import { expect } from 'chai';
import type { TaskDefinitionQuery, TaskQueueQuery } from '../../lib/index.js';
import { TASK_QUEUE_ORDER_BY } from '../../lib/foundation/types.js';
import { expectError, forEachDialect } from '../support/index.js';

type AnyQuery = Record<string, unknown>;

/** Queries both entities must reject with INVALID_ARGUMENT, and the option each must name. */
const BAD_COMMON: [AnyQuery, string][] = [
  [{ nope: 1 }, 'nope'],
  [{ limit: Number.NaN }, 'limit'],
  [{ limit: -1 }, 'limit'],
  [{ limit: 0 }, 'limit'],
  [{ limit: 1.5 }, 'limit'],
  [{ limit: '10' }, 'limit'],
  [{ offset: -1 }, 'offset'],
  [{ offset: 1.5 }, 'offset'],
  [{ offset: Number.NaN }, 'offset'],
  [{ orderBy: 'alias; drop table x' }, 'orderBy'],
  [{ orderBy: 'soft_deleted_at' }, 'orderBy'],
  [{ sortOrder: 'sideways' }, 'sortOrder'],
  [{ sortOrder: 'DESC; drop table x' }, 'sortOrder'],
  [{ status: 'nonsense' }, 'status'],
  [{ statuses: ['queued', 'bogus'] }, 'statuses'],
  [{ ids: 'not-an-array' }, 'ids'],
  [{ createdFrom: '2020-01-01' }, 'createdFrom'],
  [{ createdTo: new Date('nope') }, 'createdTo'],
  [{ includeSoftDeleted: 'yes' }, 'includeSoftDeleted'],
];

forEachDialect('bad input', (t) => {
  let taskId: string;

  beforeEach(async function () {
    taskId = (await t.store.taskDefinitionCreate({ alias: 'Victim' })).id;
    await t.store.taskQueueCreate({ taskId, queueName: 'q' });
  });

  async function tablesIntact(): Promise<void> {
    expect(await t.store.taskDefinitionCount()).to.equal(1);
    expect(await t.store.taskQueueCount()).to.equal(1);
  }

  it('definition list and count reject bad queries with INVALID_ARGUMENT naming the option', async function () {
    const cases: [AnyQuery, string][] = [
      ...BAD_COMMON.map(([query, name]): [AnyQuery, string] => [{ ...query }, name]).filter(([query]) => query['status'] !== 'nonsense'),
      [{ status: 'queued' }, 'status'],
      [{ orderBy: 'priority' }, 'orderBy'],
      [{ queueName: 'q' }, 'queueName'],
    ];
    for (const [query, name] of cases) {
      await expectError(() => t.store.taskDefinitionList(query as TaskDefinitionQuery), 'INVALID_ARGUMENT', name).catch((error: Error) => {
        throw new Error(`taskDefinitionList(${JSON.stringify(query)}): ${error.message}`);
      });
      if (!('limit' in query || 'offset' in query || 'orderBy' in query || 'sortOrder' in query)) {
        await expectError(() => t.store.taskDefinitionCount(query as TaskDefinitionQuery), 'INVALID_ARGUMENT', name).catch(
          (error: Error) => {
            throw new Error(`taskDefinitionCount(${JSON.stringify(query)}): ${error.message}`);
          },
        );
      }
    }
    await tablesIntact();
  });

  it('queue list and count reject bad queries with INVALID_ARGUMENT naming the option', async function () {
    const cases: [AnyQuery, string][] = [
      ...BAD_COMMON.map(([query, name]): [AnyQuery, string] =>
        query['orderBy'] === 'alias; drop table x' ? [{ orderBy: 'priority; drop table x' }, name] : [query, name],
      ),
      [{ status: 'active' }, 'status'],
      [{ orderBy: 'alias' }, 'orderBy'],
      [{ alias: 'Victim' }, 'alias'],
    ];
    for (const [query, name] of cases) {
      await expectError(() => t.store.taskQueueList(query as TaskQueueQuery), 'INVALID_ARGUMENT', name).catch((error: Error) => {
        throw new Error(`taskQueueList(${JSON.stringify(query)}): ${error.message}`);
      });
      if (!('limit' in query || 'offset' in query || 'orderBy' in query || 'sortOrder' in query)) {
        await expectError(() => t.store.taskQueueCount(query as TaskQueueQuery), 'INVALID_ARGUMENT', name).catch((error: Error) => {
          throw new Error(`taskQueueCount(${JSON.stringify(query)}): ${error.message}`);
        });
      }
    }
    await tablesIntact();
  });

  it('accepts every allowlisted orderBy in both directions', async function () {
    for (const orderBy of ['id', 'alias', 'title', 'status', 'createdAt', 'updatedAt'] as const) {
      for (const sortOrder of ['asc', 'desc'] as const) {
        expect(await t.store.taskDefinitionList({ orderBy, sortOrder }), `${orderBy} ${sortOrder}`).to.have.length(1);
      }
    }
    for (const orderBy of TASK_QUEUE_ORDER_BY) {
      for (const sortOrder of ['asc', 'desc'] as const) {
        expect(await t.store.taskQueueList({ orderBy, sortOrder }), `${orderBy} ${sortOrder}`).to.have.length(1);
      }
    }
  });

  it('treats injection-looking strings everywhere as values', async function () {
    const evil = "x'); DROP TABLE task_queue; --";
    expect(await t.store.taskDefinitionFindByAlias(evil)).to.equal(null);
    expect(await t.store.taskDefinitionList({ alias: "x' OR '1'='1" })).to.deep.equal([]);
    expect(await t.store.taskQueueList({ queueName: evil })).to.deep.equal([]);
    expect(await t.store.taskQueueList({ taskId: "' OR ''='" })).to.deep.equal([]);
    expect(await t.store.taskQueueClaimNext(evil)).to.equal(null);
    expect(await t.store.taskQueueStats({ queueName: evil })).to.include({ queued: 0 });
    const created = await t.store.taskDefinitionCreate({ alias: "Robert'); DROP TABLE task_definition;--", title: evil, memo: '\\"\'`' });
    const found = await t.store.taskDefinitionFindById(created.id);
    expect(found).to.include({ alias: "Robert'); DROP TABLE task_definition;--", title: evil, memo: '\\"\'`' });
    const item = await t.store.taskDefinitionEnqueueByAlias(evil, created.alias, { evil, 'key\'with"quotes': evil });
    expect((await t.store.taskQueueFindById(item.id))?.parameters).to.deep.equal({
      evil,
      'key\'with"quotes': evil,
      task_alias: created.alias,
    });
    expect(await t.store.taskDefinitionCount()).to.equal(2);
    expect(await t.store.taskQueueCount()).to.equal(2);
  });

  it('rejects empty or non-string ids and queue names where they are required', async function () {
    await expectError(() => t.store.taskQueueFindById(''), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskQueueDeleteById(''), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskQueueSoftDeleteById(''), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskQueueRequeueById(''), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskQueueCancelById(''), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskDefinitionDeleteById(''), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskDefinitionSoftDeleteById(''), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskDefinitionFindByAlias(''), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskQueueFindById(42 as never), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskDefinitionEnqueueByAlias(null as never, 'Victim', {}), 'INVALID_ARGUMENT');
    await tablesIntact();
  });
});
