import { expect } from 'chai';
import { TaskStoreError, defineTask } from '../../lib/index.js';
import { aliasOf, expectError, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

describe('defineTask', function () {
  it('fills defaults and freezes the handler', function () {
    const handler = defineTask({ alias: 'Defaults', handle: () => true });
    expect(handler).to.include({ alias: 'Defaults', title: 'Defaults', description: '', maxAttempts: 1, timeoutMs: null });
    expect(handler.backoff).to.deep.equal({ type: 'exponential', delayMs: 1000, maxDelayMs: 3_600_000 });
    expect(Object.isFrozen(handler)).to.equal(true);
  });

  it('rejects bad definitions with INVALID_ARGUMENT', function () {
    const bad = [
      { alias: '', handle: () => true },
      { alias: '-_-', handle: () => true },
      { alias: 'NoHandle' },
      { alias: 'ZeroAttempts', maxAttempts: 0, handle: () => true },
      { alias: 'NegativeTimeout', timeoutMs: -5, handle: () => true },
      { alias: 'BadBackoff', backoff: { type: 'random' }, handle: () => true },
    ];
    for (const definition of bad) {
      expect(() => defineTask(definition as never), JSON.stringify(definition))
        .to.throw(TaskStoreError)
        .with.property('code', 'INVALID_ARGUMENT');
    }
  });
});

forEachDialect('task handlers', (t) => {
  it('taskHandlerAdd without createIfMissing rejects NOT_FOUND for a missing definition and creates nothing', async function () {
    const alias = uniqueAlias('Missing');
    await expectError(() => t.store.taskHandlerAdd(defineTask({ alias, handle: () => true }), false), 'NOT_FOUND', alias);
    expect(await t.store.taskDefinitionCount({ includeSoftDeleted: true })).to.equal(0);
    expect(t.store.taskHandlerList().map(aliasOf)).to.not.include(alias);
  });

  it('taskHandlerAdd with createIfMissing creates the definition from the handler', async function () {
    const alias = uniqueAlias('Created');
    await t.store.taskHandlerAdd(defineTask({ alias, title: 'T', description: 'D', maxAttempts: 4, handle: () => true }), true);
    const definition = await t.store.taskDefinitionFindByAlias(alias);
    expect(definition).to.include({ alias, title: 'T', description: 'D', maxAttempts: 4, status: 'active' });
  });

  it('taskHandlerAdd syncs title, description and maxAttempts onto an existing definition', async function () {
    const alias = uniqueAlias('Synced');
    const existing = await t.store.taskDefinitionCreate({ alias, title: 'old', description: 'old', maxAttempts: 1, memo: 'keep' });
    await t.store.taskHandlerAdd(defineTask({ alias, title: 'new', description: 'new desc', maxAttempts: 5, handle: () => true }), false);
    const synced = await t.store.taskDefinitionFindById(existing.id);
    expect(synced).to.include({ alias, title: 'new', description: 'new desc', maxAttempts: 5, memo: 'keep' });
    expect(await t.store.taskDefinitionCount()).to.equal(1);
  });

  it('adding the same alias twice replaces the handler and lists it once', async function () {
    const alias = uniqueAlias('Twice');
    const queue = uniqueQueue();
    const ran: string[] = [];
    await t.store.taskHandlerAdd(defineTask({ alias, handle: () => void ran.push('first') }), true);
    await t.store.taskHandlerAdd(defineTask({ alias: alias.toLowerCase(), handle: () => void ran.push('second') }), true);
    expect(
      t.store
        .taskHandlerList()
        .map(aliasOf)
        .filter((listed) => listed.toLowerCase() === alias.toLowerCase()),
    ).to.have.length(1);
    expect(await t.store.taskDefinitionCount()).to.equal(1);
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done?.status).to.equal('success');
    expect(ran).to.deep.equal(['second']);
  });

  it('serves a definition alias with a handler whose alias differs only in case, dashes and underscores', async function () {
    const suffix = uniqueAlias('');
    const queue = uniqueQueue();
    await t.store.taskDefinitionCreate({ alias: `my-task_name-${suffix}` });
    let ran = false;
    await t.store.taskHandlerAdd(
      defineTask({
        alias: `MyTaskName${suffix.toUpperCase()}`,
        handle: () => {
          ran = true;
        },
      }),
      false,
    );
    await t.store.taskDefinitionEnqueueByAlias(queue, `my-task_name-${suffix}`, {});
    expect((await t.store.taskQueueProcessNext(queue))?.status).to.equal('success');
    expect(ran).to.equal(true);
  });
});
