/**
 * Debounced and throttled enqueues on a unique key: what each does, atomic under concurrent
 * enqueues of one key (several stores, so several connections), inside the caller's
 * transaction too, and refused without a key.
 */
import { expect } from 'chai';
import type { EnqueueResult, TaskStore } from '../../lib/index.js';
import { clockPast, expectError, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

forEachDialect('debounced and throttled enqueues', (t) => {
  let alias: string;
  let queue: string;
  let key: string;

  beforeEach(async () => {
    alias = uniqueAlias('Keyed');
    queue = uniqueQueue();
    key = `key-${alias}`;
    await t.store.taskDefinitionCreate({ alias });
  });

  const rowsOfKey = () => t.store.taskQueueList({ queueName: queue });

  it('refuse without a uniqueKey, with both, with delayMs or runAt beside debounceMs, in a batch, or with a bad duration; nothing is written', async () => {
    const enqueue = (options: object) =>
      t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, options as Parameters<TaskStore['taskDefinitionEnqueueByAlias']>[3]);
    await expectError(() => enqueue({ debounceMs: 100 }), 'INVALID_ARGUMENT', /debounceMs needs a uniqueKey/);
    await expectError(() => enqueue({ throttleMs: 100 }), 'INVALID_ARGUMENT', /throttleMs needs a uniqueKey/);
    await expectError(() => enqueue({ uniqueKey: key, debounceMs: 1, throttleMs: 1 }), 'INVALID_ARGUMENT', /not both/);
    await expectError(() => enqueue({ uniqueKey: key, debounceMs: 1, delayMs: 5 }), 'INVALID_ARGUMENT', /debounceMs sets the start/);
    await expectError(() => enqueue({ uniqueKey: key, debounceMs: 1, runAt: new Date() }), 'INVALID_ARGUMENT', /debounceMs sets the start/);
    await expectError(() => enqueue({ uniqueKey: key, debounceMs: -1 }), 'INVALID_ARGUMENT', /debounceMs must be a non-negative number/);
    await expectError(() => enqueue({ uniqueKey: key, throttleMs: Number.NaN }), 'INVALID_ARGUMENT', /throttleMs/);
    await expectError(
      () => t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}], { debounceMs: 5 } as object),
      'INVALID_ARGUMENT',
      /apply to one task/,
    );
    expect(await rowsOfKey()).to.deep.equal([]);
  });

  describe('debounce', () => {
    it('enqueues with the delay when no task holds the key; then replaces the queued one’s params and pushes its start', async () => {
      const before = Date.now();
      const first = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 1 }, { uniqueKey: key, debounceMs: 60_000 });
      expect(first.outcome).to.equal('enqueued');
      expect(first.availableAt.getTime()).to.be.at.least(before + 60_000);
      const { outcome: _, ...stored } = first;
      expect(await t.store.taskQueueFindById(first.id)).to.deep.equal(stored);

      await clockPast(first.updatedAt);
      const second = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 2 }, { uniqueKey: key, debounceMs: 120_000 });
      expect(second).to.include({ outcome: 'debounced', id: first.id, status: 'queued' });
      expect(second.parameters).to.deep.equal({ n: 2, task_alias: alias });
      expect(second.availableAt.getTime()).to.be.greaterThan(first.availableAt.getTime());
      const rows = await rowsOfKey();
      expect(rows.map((row) => row.id)).to.deep.equal([first.id]);
      expect(rows[0]!.parameters).to.deep.equal({ n: 2, task_alias: alias });
    });

    it('concurrent debounced enqueues of one key from several stores leave exactly one queued task; the last call’s params win', async function () {
      this.timeout(60_000);
      const stores = [t.store, await t.openStore(), await t.openStore()];
      const results: EnqueueResult[] = await Promise.all(
        Array.from({ length: 24 }, (_, n) =>
          stores[n % stores.length]!.taskDefinitionEnqueueByAlias(queue, alias, { n }, { uniqueKey: key, debounceMs: 60_000 }),
        ),
      );
      const rows = await rowsOfKey();
      expect(rows, 'one task').to.have.length(1);
      expect(
        results.filter((result) => result.outcome === 'enqueued'),
        'one insert',
      ).to.have.length(1);
      expect(results.filter((result) => result.outcome === 'debounced')).to.have.length(23);
      expect(new Set(results.map((result) => result.id))).to.deep.equal(new Set([rows[0]!.id]));
      const last = await stores[1]!.taskDefinitionEnqueueByAlias(queue, alias, { n: 'last' }, { uniqueKey: key, debounceMs: 60_000 });
      expect(last.outcome).to.equal('debounced');
      expect((await rowsOfKey())[0]!.parameters).to.deep.equal({ n: 'last', task_alias: alias });
    });

    it('leaves a running holder alone: ALREADY_EXISTS, as for any unique key', async () => {
      await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 1 }, { uniqueKey: key, debounceMs: 0 });
      const running = await t.store.taskQueueClaimNext(queue);
      await expectError(
        () => t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 2 }, { uniqueKey: key, debounceMs: 10 }),
        'ALREADY_EXISTS',
        /a running task holds unique key/,
      );
      expect(await t.store.taskQueueFindById(running!.id)).to.deep.include({ status: 'running', parameters: { n: 1, task_alias: alias } });
    });

    it('works inside the caller’s transaction: rolled back with it, or committed with it', async () => {
      await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 1 }, { uniqueKey: key, debounceMs: 60_000 });
      await t.store.knex
        .transaction(async (trx) => {
          const result = await t.store.taskDefinitionEnqueueByAlias(
            queue,
            alias,
            { n: 2 },
            { uniqueKey: key, debounceMs: 60_000, transaction: trx },
          );
          expect(result.outcome).to.equal('debounced');
          throw new Error('roll back');
        })
        .catch((error: Error) => expect(error.message).to.equal('roll back'));
      expect((await rowsOfKey())[0]!.parameters).to.deep.equal({ n: 1, task_alias: alias });
      await t.store.knex.transaction(async (trx) => {
        await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 3 }, { uniqueKey: key, debounceMs: 60_000, transaction: trx });
      });
      const rows = await rowsOfKey();
      expect(rows).to.have.length(1);
      expect(rows[0]!.parameters).to.deep.equal({ n: 3, task_alias: alias });
    });
  });

  describe('throttle', () => {
    it('drops the enqueue while a task with the key is queued, or started within the period; allows it after', async () => {
      const first = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 1 }, { uniqueKey: key, throttleMs: 300 });
      expect(first.outcome).to.equal('enqueued');
      const queued = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 2 }, { uniqueKey: key, throttleMs: 300 });
      expect(queued).to.include({ outcome: 'throttled', id: first.id });
      expect(queued.parameters, 'the existing task, unchanged').to.deep.equal({ n: 1, task_alias: alias });

      const claimed = await t.store.taskQueueClaimNext(queue);
      await t.store.taskQueueCancelById(claimed!.id); // the key is free; its start is within the period
      const recent = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 3 }, { uniqueKey: key, throttleMs: 60_000 });
      expect(recent).to.include({ outcome: 'throttled', id: first.id, status: 'canceled' });

      await clockPast(claimed!.startedAt!, 300);
      const after = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { n: 4 }, { uniqueKey: key, throttleMs: 300 });
      expect(after.outcome).to.equal('enqueued');
      expect(after.id).to.not.equal(first.id);
      expect((await rowsOfKey()).map((row) => row.id).sort()).to.deep.equal([first.id, after.id].sort());
    });

    it('concurrent throttled enqueues of one key from several stores enqueue exactly one task; the rest name it', async function () {
      this.timeout(60_000);
      const stores = [t.store, await t.openStore(), await t.openStore()];
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, n) =>
          stores[n % stores.length]!.taskDefinitionEnqueueByAlias(queue, alias, { n }, { uniqueKey: key, throttleMs: 60_000 }),
        ),
      );
      const rows = await rowsOfKey();
      expect(rows).to.have.length(1);
      expect(results.filter((result) => result.outcome === 'enqueued')).to.have.length(1);
      expect(results.filter((result) => result.outcome === 'throttled')).to.have.length(23);
      expect(new Set(results.map((result) => result.id))).to.deep.equal(new Set([rows[0]!.id]));
    });

    it('works inside the caller’s transaction', async () => {
      await t.store.knex.transaction(async (trx) => {
        const first = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { uniqueKey: key, throttleMs: 1000, transaction: trx });
        const second = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {}, { uniqueKey: key, throttleMs: 1000, transaction: trx });
        expect([first.outcome, second.outcome]).to.deep.equal(['enqueued', 'throttled']);
        expect(second.id).to.equal(first.id);
      });
      expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(1);
    });
  });
});
