/**
 * The one-call limited claim of a queue whose only limit is its concurrency: PostgreSQL's
 * function (adapters/postgres/postgres-claims.ts) and SQLite's IMMEDIATE transaction of
 * statements prepared once per connection (adapters/sqlite/sqlite-limited-claim.ts). Neither
 * goes through knex's query builder, so knex reports none of their statements: that is how
 * these specs see the path taken, and that a queue with other limits takes the shared path
 * (adapters/limited-claim.ts), which MySQL takes for every limited claim. The limit holds
 * exactly with several stores, each on its own connection, claiming and finishing at once.
 * The limits themselves are specified in spec/store/queue-settings.spec.ts, across processes
 * in spec/runners/queue-limits.spec.ts.
 */
import { expect } from 'chai';
import type { TaskStore } from '../../lib/index.js';
import { defineTask } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

forEachDialect('the one-call limited claim', (t) => {
  let alias: string;
  let queue: string;

  beforeEach(async function () {
    alias = uniqueAlias('OneCall');
    queue = uniqueQueue();
    await t.store.taskDefinitionCreate({ alias });
  });

  const enqueue = (count: number) =>
    t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: count }, (_, n) => ({ n })),
    );

  /** The SQL knex ran while `work` ran. */
  async function knexStatements<T>(store: TaskStore, work: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
    const sql: string[] = [];
    const onQuery = (query: { sql: string }) => void sql.push(query.sql);
    store.knex.on('query', onQuery);
    try {
      return { result: await work(), sql };
    } finally {
      store.knex.off('query', onQuery);
    }
  }

  it('a queue with a concurrency limit alone is claimed without knex (not on MySQL); one with a group limit through it', async function () {
    const oneCall = t.dialect !== 'mysql';
    await t.store.queueConfigure(queue, { concurrency: 3 });
    await enqueue(6);
    const claims = await knexStatements(t.store, async () => [
      await t.store.queueClaim(queue, 2, { limited: true }),
      await t.store.queueClaim(queue, 2, { limited: true }),
      await t.store.queueClaim(queue, 2, { limited: true }),
    ]);
    expect(claims.result.map((claim) => claim.items.length)).to.deep.equal([2, 1, 0]);
    expect(claims.result.map((claim) => claim.full)).to.deep.equal([false, true, true]);
    expect(claims.result.every((claim) => claim.settings?.concurrency === 3)).to.equal(true);
    if (oneCall) expect(claims.sql).to.deep.equal([]);
    else expect(claims.sql).to.not.deep.equal([]);
    // A finish frees one slot; a paused queue gives nothing; both on the same path.
    await t.store.taskQueueProcessTask(claims.result[0]!.items[0]!);
    const afterFinish = await knexStatements(t.store, () => t.store.queueClaim(queue, 2, { limited: true }));
    expect(afterFinish.result.items).to.have.length(1);
    await t.store.queuePause(queue);
    await t.store.taskQueueProcessTask(claims.result[0]!.items[1]!);
    const paused = await knexStatements(t.store, () => t.store.queueClaim(queue, 2, { limited: true }));
    expect(paused.result.items).to.deep.equal([]);
    expect(paused.result.settings?.paused).to.equal(true);
    if (oneCall) expect([...afterFinish.sql, ...paused.sql]).to.deep.equal([]);
    // A group limit: the one-call path hands the claim to the shared one, which knex runs.
    await t.store.queueResume(queue);
    await t.store.queueConfigure(queue, { groupConcurrency: 1, concurrency: 3 });
    const grouped = await knexStatements(t.store, () => t.store.queueClaim(queue, 2, { limited: true }));
    expect(grouped.result.items).to.have.length(1);
    expect(grouped.sql).to.not.deep.equal([]);
  });

  it('four stores, each on its own connection, claiming and finishing at once never run more handlers than the limit', async function () {
    this.timeout(60_000);
    const limit = 4;
    await t.store.queueConfigure(queue, { concurrency: limit });
    const items = await enqueue(60);
    // Handlers running at once: a handler starts after its claim commits and ends before its
    // finishing write begins, so there are never more of them than rows running in the database.
    let inHandlers = 0;
    let mostInHandlers = 0;
    const handle = async () => {
      mostInHandlers = Math.max(mostInHandlers, (inHandlers += 1));
      await new Promise((resolve) => setTimeout(resolve, 2));
      inHandlers -= 1;
    };
    const stores = [t.store, ...(await Promise.all([1, 2, 3].map(() => t.openStore())))];
    for (const store of stores) await store.taskHandlerAdd(defineTask({ alias, handle }));
    const done: string[] = [];
    // Each store claims, and runs what it got while its next claim is on its way.
    const work = async (store: TaskStore) => {
      const running = new Set<Promise<void>>();
      while (done.length < items.length) {
        const { items: claimed } = await store.queueClaim(queue, 3, { limited: true });
        if (claimed.length === 0) {
          // Full, or the last rows are held by others: wait for a finish of ours, or a moment.
          await Promise.race([...running, new Promise((resolve) => setTimeout(resolve, 5))]);
          continue;
        }
        for (const item of claimed) {
          const run = store.taskQueueProcessTask(item).then(() => {
            done.push(item.id);
            running.delete(run);
          });
          running.add(run);
        }
      }
      await Promise.all(running);
    };
    await Promise.all(stores.map(work));
    expect([...done].sort()).to.deep.equal(items.map((item) => item.id).sort());
    expect(mostInHandlers, 'handlers running at once').to.be.at.most(limit);
    expect(mostInHandlers, 'handlers running at once').to.be.at.least(2);
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'success' })).to.equal(items.length);
  });
});
