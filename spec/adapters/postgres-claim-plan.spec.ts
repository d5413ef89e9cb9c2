/**
 * PostgreSQL's claim is a named prepared statement per connection (adapters/postgres). Its
 * plan must be kept: with the claim size as a parameter, the plan cache's generic plan guessed
 * a tenth of the table and joined it by a sequential scan, so PostgreSQL planned every claim
 * anew (about as much server time per claim as the claim itself, measured in
 * docs/benchmarks.md). PostgreSQL only by nature: the claim itself is specified on every
 * dialect in spec/store/claim.spec.ts.
 */
import { expect } from 'chai';
import { TaskStore } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

forEachDialect('PostgreSQL claim plan', (t) => {
  if (t.dialect !== 'postgres') return;

  it('is planned once per connection and claim size, then reused', async function () {
    this.timeout(60_000);
    // One connection, so this session's prepared statements are the ones the claims made.
    const store = await TaskStore.open({ database: { client: 'pg', connection: t.url, pool: { min: 1, max: 1 } }, automigrate: false });
    try {
      const queue = uniqueQueue();
      const alias = uniqueAlias('Plan');
      await t.store.taskDefinitionCreate({ alias });
      // Enough rows that a plan for any claim size would be a poor one for a few rows.
      for (let batch = 0; batch < 5; batch++) {
        await t.store.taskDefinitionEnqueueManyByAlias(
          queue,
          alias,
          Array.from({ length: 1000 }, (_, n) => ({ n })),
        );
      }
      await t.store.knex.raw('ANALYZE ??', [t.store.tableNames.taskQueue]);
      for (let claim = 0; claim < 10; claim++) expect((await store.queueClaim(queue, 3)).items).to.have.length(3);
      const result = (await store.knex.raw(
        `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'taskstore_claim_%'`,
      )) as { rows: { name: string; generic_plans: string; custom_plans: string }[] };
      expect(result.rows.map((row) => row.name)).to.have.length(1);
      const [plan] = result.rows;
      // The plan cache tries five custom plans before it settles on the generic one.
      expect(Number(plan?.custom_plans), 'custom plans').to.be.at.most(5);
      expect(Number(plan?.generic_plans), 'executions on the kept plan').to.be.at.least(5);
    } finally {
      await store.close();
    }
  });
});
