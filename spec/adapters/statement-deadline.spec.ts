/**
 * The statement deadline on connections taskstore opens: a statement with no answer in time
 * fails (its connection is closed and never lent again), the next call works, and the
 * deadline is off while migrations run. A slow statement stands in for a dead network here;
 * spec/faults/network.spec.ts freezes a real connection.
 */
import { expect } from 'chai';
import { connectionSettings, resolveDatabase } from '../../adapters/index.js';
import { STATEMENT_DEADLINE_CODE } from '../../adapters/statement-deadline.js';
import { TaskStoreError } from '../../lib/index.js';
import { forEachDialect } from '../support/index.js';

forEachDialect('statement deadline', (t) => {
  // SQLite runs in-process: no network to lose, so its connections get no deadline.
  if (t.dialect === 'sqlite') return;
  const sleepSql = (seconds: number) => (t.dialect === 'postgres' ? `SELECT pg_sleep(${seconds})` : `SELECT SLEEP(${seconds})`);

  it('fails a statement that gets no answer in time, then serves the next call on a fresh connection', async function () {
    const store = await t.openStore({ statementTimeoutMs: 300 });
    const error = await store.knex.raw(sleepSql(2)).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect((error as { code?: string } | null)?.code, String(error)).to.equal(STATEMENT_DEADLINE_CODE);
    expect(await store.taskQueueCount()).to.equal(0); // the pool lends a working connection
    const wrapped = await store.taskQueueList({ limit: 1 }).then(() => null);
    expect(wrapped).to.equal(null);
  });

  it('a store call past its deadline rejects with DATABASE, the deadline as its cause', async function () {
    const store = await t.openStore({ statementTimeoutMs: 300 });
    // A row lock held by another session keeps the guarded write waiting past the deadline.
    const other = await t.openStore();
    const alias = `Deadline${Date.now()}`;
    await store.taskDefinitionCreate({ alias });
    const item = await store.taskDefinitionEnqueueByAlias('deadline', alias, {});
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = other.knex.transaction(async (trx) => {
      await trx('task_queue').where({ id: item.id }).update({ output: 'held' });
      locked();
      await held;
      await trx.rollback();
    });
    await isLocked;
    try {
      const error = await store.taskQueueUpdate({ id: item.id, output: 'mine' }).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(TaskStoreError);
      expect((error as TaskStoreError).code).to.equal('DATABASE');
      expect(((error as TaskStoreError).cause as { code?: string }).code).to.equal(STATEMENT_DEADLINE_CODE);
    } finally {
      release();
      await holder.catch(() => undefined);
    }
  });

  it('is off while work runs under suspendedDuring (migrations)', async function () {
    const settings = connectionSettings({ statementTimeoutMs: 300 });
    const { deadlines } = settings;
    const { knex } = resolveDatabase(t.url, settings);
    try {
      await deadlines.suspendedDuring(() => knex.raw(sleepSql(0.6)));
      const error = await knex.raw(sleepSql(0.6)).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect((error as { code?: string } | null)?.code, 'the deadline applies again afterwards').to.equal(STATEMENT_DEADLINE_CODE);
    } finally {
      await knex.destroy();
    }
  });
});
