import { expect } from 'chai';
import { finishStatement, removeStatement } from '../../adapters/postgres/postgres-adapter.js';
import { forEachDialect } from '../support/index.js';

/**
 * The finishing write must find its rows by id and token whatever the planner believes about
 * the table. Statistics taken while nothing ran say "no running rows"; a plan built on that
 * belief once scanned the partial index of running rows and joined it with every finished id,
 * and a drain over a long history fell to 14% of its rate (docs/benchmarks.md).
 */
forEachDialect('the finishing write on a long history', (t) => {
  // The plan is PostgreSQL's: this block registers tests for PostgreSQL only.
  if (t.dialect !== 'postgres') return;

  /** Each finishing statement: the UPDATE that keeps the row, and the DELETE of removeOnSuccess. */
  const statements = [
    {
      kind: 'UPDATE',
      text: finishStatement,
      types: '(text, text, timestamptz, text, timestamptz, text[], text[])',
      args: (list: string) => `('success', '', now(), '', NULL, ${list}, ${list})`,
    },
    { kind: 'DELETE', text: removeStatement, types: '(text[], text[])', args: (list: string) => `(${list}, ${list})` },
  ];

  for (const statement of statements) {
    for (const mode of ['force_generic_plan', 'force_custom_plan'] as const) {
      it(`${statement.kind}: does not scan the running-rows index (${mode}, analyzed while nothing ran)`, async function () {
        const knex = t.store.knex;
        const table = t.store.tableNames.taskQueue;
        await knex.raw(
          `INSERT INTO ?? (id, task_id, queue_name, status, parameters, output, details, attempts, max_attempts, priority,
             available_at, completed_at, created_at, updated_at)
           SELECT gen_random_uuid()::text, 'definition', 'history', 'success', '{}', '', '', 1, 1, 0, now(), now(), now(), now()
           FROM generate_series(1, 5000)`,
          [table],
        );
        await knex.raw('ANALYZE ??', [table]);
        const ids = Array.from({ length: 500 }, (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`);
        const name = `finish_plan_probe_${mode}`;
        const list = `'{${ids.join(',')}}'::text[]`;
        const plan = await knex.transaction(async (trx) => {
          await trx.raw(`SET LOCAL plan_cache_mode = ${mode}`);
          await trx.raw(`PREPARE ${name} ${statement.types} AS ${statement.text(table, false)}`);
          const result = await trx.raw(`EXPLAIN (FORMAT JSON) EXECUTE ${name} ${statement.args(list)}`);
          await trx.raw(`DEALLOCATE ${name}`);
          return JSON.stringify((result as { rows: unknown[] }).rows);
        });
        expect(plan).to.not.include(`${table}_running_idx`);
      });
    }
  }
});
