import { expect } from 'chai';
import { defineTask } from '../../lib/index.js';
import type { TaskQueueItem } from '../../lib/index.js';
import { UUID_V7, expectError, forEachDialect, within } from '../support/index.js';

forEachDialect('enqueue', (t) => {
  const queue = 'emails';
  let definitionId: string;

  beforeEach(async function () {
    definitionId = (await t.store.taskDefinitionCreate({ alias: 'SendEmail', maxAttempts: 2 })).id;
  });

  async function queued(): Promise<number> {
    return t.store.taskQueueCount({ includeSoftDeleted: true });
  }

  it('enqueues a queued item carrying the params and task_alias', async function () {
    const before = Date.now();
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, 'send-email', { to: 'tom@example.com', n: 3, nested: { ok: true } });
    expect(item.id).to.match(UUID_V7);
    expect(item).to.include({ taskId: definitionId, queueName: queue, status: 'queued', attempts: 0, maxAttempts: 2, priority: 0 });
    expect(item.parameters).to.deep.equal({ to: 'tom@example.com', n: 3, nested: { ok: true }, task_alias: 'SendEmail' });
    expect(item.availableAt.getTime()).to.be.within(before - 1000, Date.now() + 1000);
    expect(item.startedAt).to.equal(null);
    expect(item.completedAt).to.equal(null);
    expect(item.claimToken).to.equal(null);
    expect(item.softDeletedAt).to.equal(null);
    expect(await t.store.taskQueueFindById(item.id)).to.deep.equal(item);
  });

  it("maps '' as queue name to 'default'", async function () {
    const item = await t.store.taskDefinitionEnqueueByAlias('', 'SendEmail', {});
    expect(item.queueName).to.equal('default');
    expect((await t.store.taskQueueClaimNext('default'))?.id).to.equal(item.id);
  });

  it('rejects an unknown alias with NOT_FOUND naming it, and writes nothing', async function () {
    await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, 'NoSuchTask', {}), 'NOT_FOUND', 'NoSuchTask');
    await expectError(() => t.store.taskDefinitionEnqueueManyByAlias(queue, 'NoSuchTask', [{}]), 'NOT_FOUND', 'NoSuchTask');
    expect(await queued()).to.equal(0);
  });

  it('rejects a soft-deleted definition with NOT_FOUND', async function () {
    await t.store.taskDefinitionSoftDeleteById(definitionId);
    await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}), 'NOT_FOUND', 'SendEmail');
    expect(await queued()).to.equal(0);
  });

  it('rejects a canceled definition with INVALID_STATE', async function () {
    await t.store.taskDefinitionUpdate({ id: definitionId, status: 'canceled' });
    await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}), 'INVALID_STATE');
    await expectError(() => t.store.taskDefinitionEnqueueManyByAlias(queue, 'SendEmail', [{}, {}]), 'INVALID_STATE');
    expect(await queued()).to.equal(0);
  });

  it('rejects params that are not a JSON-serialisable plain object, writing nothing', async function () {
    class Point {
      x = 1;
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    const bad: [string, unknown][] = [
      ['class instance', new Point()],
      ['array', [1, 2]],
      ['null', null],
      ['string', 'x'],
      ['cyclic object', cyclic],
      ['function inside', { f: () => 1 }],
      ['BigInt inside', { n: 1n }],
      ['Date', new Date()],
    ];
    for (const [label, params] of bad) {
      await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', params as never), 'INVALID_ARGUMENT').catch(
        (error: Error) => {
          throw new Error(`${label}: ${error.message}`);
        },
      );
    }
    expect(await queued()).to.equal(0);
  });

  it('schedules with delayMs and runAt, and rejects both at once or bad values', async function () {
    const before = Date.now();
    const delayed = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { delayMs: 60_000 });
    expect(delayed.availableAt.getTime()).to.be.within(before + 60_000 - 5, Date.now() + 60_000 + 1000);

    const runAt = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
    const scheduled = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { runAt });
    expect(scheduled.availableAt.getTime()).to.equal(runAt.getTime());
    expect((await t.store.taskQueueFindById(scheduled.id))?.availableAt.getTime()).to.equal(runAt.getTime());

    const count = await queued();
    await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { delayMs: 10, runAt }), 'INVALID_ARGUMENT');
    await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { delayMs: -1 }), 'INVALID_ARGUMENT', 'delayMs');
    await expectError(
      () => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { delayMs: Number.NaN }),
      'INVALID_ARGUMENT',
      'delayMs',
    );
    await expectError(
      () => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { runAt: new Date('nope') }),
      'INVALID_ARGUMENT',
      'runAt',
    );
    expect(await queued()).to.equal(count);
  });

  it('takes priority and maxAttempts, validating them', async function () {
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { priority: -7, maxAttempts: 9 });
    expect(item).to.include({ priority: -7, maxAttempts: 9 });
    await expectError(
      () => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { priority: 1.5 }),
      'INVALID_ARGUMENT',
      'priority',
    );
    await expectError(
      () => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { maxAttempts: 0 }),
      'INVALID_ARGUMENT',
      'maxAttempts',
    );
    await expectError(
      () => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { unknownOption: 1 } as never),
      'INVALID_ARGUMENT',
    );
    expect(await queued()).to.equal(1);
  });

  it('defaults maxAttempts to 1 for a definition that does not say, and to a handler’s maxAttempts once synced', async function () {
    await t.store.taskDefinitionCreate({ alias: 'Plain' });
    expect((await t.store.taskDefinitionEnqueueByAlias(queue, 'Plain', {})).maxAttempts).to.equal(1);
    await t.store.taskHandlerAdd(defineTask({ alias: 'Plain', maxAttempts: 6, handle: () => true }), false);
    expect((await t.store.taskDefinitionEnqueueByAlias(queue, 'Plain', {})).maxAttempts).to.equal(6);
  });

  describe('uniqueKey', function () {
    it('rejects a second enqueue while the first is queued or running, writing nothing', async function () {
      const first = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', { n: 1 }, { uniqueKey: 'k1' });
      expect(first.uniqueKey).to.equal('k1');
      await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', { n: 2 }, { uniqueKey: 'k1' }), 'ALREADY_EXISTS');
      expect(await queued()).to.equal(1);
      expect((await t.store.taskQueueClaimNext(queue))?.id).to.equal(first.id);
      await expectError(() => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', { n: 3 }, { uniqueKey: 'k1' }), 'ALREADY_EXISTS');
      expect(await queued()).to.equal(1);
      const other = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { uniqueKey: 'k2' });
      expect(other.uniqueKey).to.equal('k2');
    });

    it('frees the key once the holder finished with success', async function () {
      await t.store.taskHandlerAdd(defineTask({ alias: 'SendEmail', maxAttempts: 2, handle: () => true }), false);
      await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { uniqueKey: 'k' });
      expect((await t.store.taskQueueProcessNext(queue))?.status).to.equal('success');
      const again = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { uniqueKey: 'k' });
      expect(again.status).to.equal('queued');
    });

    it('frees the key once the holder failed, was canceled, or was soft deleted', async function () {
      const a = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { uniqueKey: 'k' });
      await t.store.taskQueueCancelById(a.id);
      const b = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { uniqueKey: 'k' });
      await t.store.taskQueueSoftDeleteById(b.id);
      const c = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { uniqueKey: 'k' });
      await t.store.taskQueueUpdate({ id: c.id, status: 'failed' });
      const d = await t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', {}, { uniqueKey: 'k' });
      expect(d.status).to.equal('queued');
      expect(await queued()).to.equal(4);
    });

    it('lets exactly one of many concurrent enqueues with the same key win', async function () {
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, n) => t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', { n }, { uniqueKey: 'race' })),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).to.have.length(1);
      for (const result of results) {
        if (result.status === 'rejected') expect((result.reason as { code?: string }).code).to.equal('ALREADY_EXISTS');
      }
      expect(await queued()).to.equal(1);
    });
  });

  describe('enqueueMany', function () {
    it('enqueues all, in order, with the shared options', async function () {
      const items = await t.store.taskDefinitionEnqueueManyByAlias(queue, 'SendEmail', [{ n: 1 }, { n: 2 }, { n: 3 }], { priority: 4 });
      expect(items.map((item) => item.parameters['n'])).to.deep.equal([1, 2, 3]);
      expect(new Set(items.map((item) => item.id)).size).to.equal(3);
      for (const item of items) {
        expect(item).to.include({ status: 'queued', priority: 4, queueName: queue, taskId: definitionId });
        expect(item.parameters['task_alias']).to.equal('SendEmail');
      }
      expect(await queued()).to.equal(3);
    });

    it('returns [] for [] and writes nothing', async function () {
      expect(await t.store.taskDefinitionEnqueueManyByAlias(queue, 'SendEmail', [])).to.deep.equal([]);
      expect(await queued()).to.equal(0);
    });

    it('is all or nothing: one bad params object rejects the batch', async function () {
      await expectError(
        () => t.store.taskDefinitionEnqueueManyByAlias(queue, 'SendEmail', [{ n: 1 }, [] as never, { n: 3 }]),
        'INVALID_ARGUMENT',
      );
      await expectError(
        () => t.store.taskDefinitionEnqueueManyByAlias(queue, 'SendEmail', [{ n: 1 }, { big: 2n } as never]),
        'INVALID_ARGUMENT',
      );
      expect(await queued()).to.equal(0);
    });

    it('rejects uniqueKey', async function () {
      await expectError(
        () => t.store.taskDefinitionEnqueueManyByAlias(queue, 'SendEmail', [{}, {}], { uniqueKey: 'k' } as never),
        'INVALID_ARGUMENT',
        'uniqueKey',
      );
      expect(await queued()).to.equal(0);
    });

    it('rejects a paramsList that is not an array', async function () {
      await expectError(() => t.store.taskDefinitionEnqueueManyByAlias(queue, 'SendEmail', { n: 1 } as never), 'INVALID_ARGUMENT');
      expect(await queued()).to.equal(0);
    });

    it('stores every value of a batch exactly as returned: awkward text, priority, attempts, run time to the millisecond', async function () {
      const runAt = new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 123));
      const awkward = [
        'quote \' and "double"',
        'back\\slash',
        'new\nline\ttab',
        'emoji 🚀 and \u2028 separator',
        '{"looks": "like json"}',
        '',
      ];
      const items = await t.store.taskDefinitionEnqueueManyByAlias(
        queue,
        'SendEmail',
        awkward.map((text, n) => ({ text, n, nested: { list: [n, text] } })),
        { priority: -7, maxAttempts: 5, runAt },
      );
      expect(items).to.have.length(awkward.length);
      for (const [n, item] of items.entries()) {
        const stored = await t.store.taskQueueFindById(item.id);
        expect(stored).to.deep.equal(item);
        expect(stored).to.include({ priority: -7, maxAttempts: 5, queueName: queue, status: 'queued', output: '', details: '' });
        expect(stored?.availableAt.getTime()).to.equal(runAt.getTime());
        expect(stored?.parameters).to.deep.equal({ text: awkward[n], n, nested: { list: [n, awkward[n]] }, task_alias: 'SendEmail' });
      }
    });

    it('handles a large batch', async function () {
      const items = await t.store.taskDefinitionEnqueueManyByAlias(
        queue,
        'SendEmail',
        Array.from({ length: 1500 }, (_, n) => ({ n })),
      );
      expect(items).to.have.length(1500);
      expect(await queued()).to.equal(1500);
    });
  });

  describe('inside a caller transaction', function () {
    it('a rollback leaves no row', async function () {
      const trx = await t.store.knex.transaction();
      let item: TaskQueueItem | undefined;
      try {
        item = await within(
          t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', { n: 1 }, { transaction: trx }),
          10_000,
          'enqueue in a transaction',
        );
      } finally {
        await trx.rollback();
      }
      expect(item?.status).to.equal('queued');
      expect(await queued()).to.equal(0);
    });

    it('a commit keeps the row', async function () {
      const trx = await t.store.knex.transaction();
      let item: TaskQueueItem | undefined;
      try {
        item = await within(
          t.store.taskDefinitionEnqueueByAlias(queue, 'SendEmail', { n: 1 }, { transaction: trx }),
          10_000,
          'enqueue in a transaction',
        );
        await trx.commit();
      } catch (error) {
        await trx.rollback();
        throw error;
      }
      expect((await t.store.taskQueueFindById(item!.id))?.parameters['n']).to.equal(1);
    });

    it('enqueueMany inside a rolled-back transaction leaves no rows', async function () {
      const trx = await t.store.knex.transaction();
      try {
        const items = await within(
          t.store.taskDefinitionEnqueueManyByAlias(queue, 'SendEmail', [{}, {}], { transaction: trx }),
          10_000,
          'enqueueMany in a transaction',
        );
        expect(items).to.have.length(2);
      } finally {
        await trx.rollback();
      }
      expect(await queued()).to.equal(0);
    });
  });

  describe('through the task object: store.enqueue and store.enqueueMany', function () {
    const sendEmail = defineTask<{ to: string; n?: number }>({ alias: 'send_email', handle: () => true });

    it('enqueues for the handler’s alias without the handler being registered, on the queue given or the default one', async function () {
      const store = await t.openStore(); // a store of its own: no handler registered
      expect(store.taskHandlerList()).to.deep.equal([]);
      const item = await store.enqueue(sendEmail, { to: 'ann@example.com' }, { queueName: queue, priority: 7 });
      expect(item).to.include({ taskId: definitionId, queueName: queue, status: 'queued', priority: 7, maxAttempts: 2 });
      expect(item.parameters).to.deep.equal({ to: 'ann@example.com', task_alias: 'SendEmail' });
      expect(await store.taskQueueFindById(item.id)).to.deep.equal(item);
      expect((await store.enqueue(sendEmail, { to: 'b@example.com' })).queueName).to.equal('default');
      expect((await store.enqueue(sendEmail, { to: 'c@example.com' }, { queueName: '' })).queueName).to.equal('default');
    });

    it('enqueueMany writes all of them, in order, with the shared options', async function () {
      const items = await t.store.enqueueMany(sendEmail, [{ to: 'a', n: 1 }, { to: 'b' }], { queueName: queue, maxAttempts: 5 });
      expect(items.map((item) => [item.parameters['to'], item.queueName, item.maxAttempts])).to.deep.equal([
        ['a', queue, 5],
        ['b', queue, 5],
      ]);
      expect(await queued()).to.equal(2);
    });

    it('takes uniqueKey for one task and refuses it for a batch', async function () {
      await t.store.enqueue(sendEmail, { to: 'a' }, { uniqueKey: 'welcome:a' });
      await expectError(() => t.store.enqueue(sendEmail, { to: 'a' }, { uniqueKey: 'welcome:a' }), 'ALREADY_EXISTS');
      await expectError(() => t.store.enqueueMany(sendEmail, [{ to: 'b' }], { uniqueKey: 'k' } as never), 'INVALID_ARGUMENT', 'uniqueKey');
      expect(await queued()).to.equal(1);
    });

    it('rejects a missing definition with NOT_FOUND, and what is not a handler, bad options or params with INVALID_ARGUMENT', async function () {
      const orphan = defineTask<{ to: string }>({ alias: 'NoDefinition', handle: () => true });
      await expectError(() => t.store.enqueue(orphan, { to: 'a' }), 'NOT_FOUND', 'NoDefinition');
      await expectError(() => t.store.enqueue({ alias: 42 } as never, { to: 'a' }), 'INVALID_ARGUMENT', 'defineTask');
      await expectError(() => t.store.enqueue(null as never, { to: 'a' }), 'INVALID_ARGUMENT', 'defineTask');
      await expectError(() => t.store.enqueue(sendEmail, { to: 'a' }, { queue: 'x' } as never), 'INVALID_ARGUMENT', 'queue');
      await expectError(() => t.store.enqueue(sendEmail, { to: 'a' }, { queueName: 7 } as never), 'INVALID_ARGUMENT', 'queueName');
      await expectError(() => t.store.enqueue(sendEmail, { to: 'a' }, 'emails' as never), 'INVALID_ARGUMENT', 'options');
      await expectError(() => t.store.enqueue(sendEmail, [] as never), 'INVALID_ARGUMENT', 'params');
      await expectError(() => t.store.enqueueMany(sendEmail, { to: 'a' } as never), 'INVALID_ARGUMENT', 'paramsList');
      expect(await queued()).to.equal(0);
    });
  });
});
