/**
 * PostgreSQL's one-round-trip limited claim runs a function it makes in the session's
 * temporary schema (adapters/postgres/postgres-claims.ts). A role that may not create
 * temporary objects still gets its limited claims, through the shared path, and the limit
 * holds. PostgreSQL only by nature; the limits themselves are specified on every dialect in
 * spec/store/queue-settings.spec.ts and spec/runners/queue-limits.spec.ts.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { TaskStore } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

forEachDialect('PostgreSQL limited claim without temporary objects', (t) => {
  if (t.dialect !== 'postgres') return;

  it('a role refused TEMP still claims within the limit, through the shared path', async function () {
    const admin = t.store.knex;
    const role = `ts_notemp_${randomUUID().slice(0, 8)}`;
    const url = new URL(t.url);
    const database = url.pathname.slice(1);
    const queue = uniqueQueue();
    const alias = uniqueAlias('NoTemp');
    await admin.raw(`CREATE ROLE ?? LOGIN`, [role]);
    await admin.raw(`REVOKE TEMP ON DATABASE ?? FROM PUBLIC`, [database]);
    let store: TaskStore | undefined;
    try {
      await admin.raw(`GRANT USAGE ON SCHEMA public TO ??`, [role]);
      await admin.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ??`, [role]);
      url.username = role;
      store = await TaskStore.open({ database: url.toString(), automigrate: false });
      // The role's session can indeed not make the function.
      const refused = await store.knex.raw(`CREATE FUNCTION pg_temp.probe() RETURNS int LANGUAGE sql AS 'SELECT 1'`).then(
        () => null,
        (error: unknown) => (error as { code?: string }).code,
      );
      expect(refused).to.equal('42501');
      await t.store.taskDefinitionCreate({ alias });
      await t.store.queueConfigure(queue, { concurrency: 2 });
      await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}]);
      const first = await store.queueClaim(queue, 5, { limited: true });
      expect(first.items).to.have.length(2);
      expect(first.full).to.equal(true);
      expect((await store.queueClaim(queue, 5, { limited: true })).items).to.deep.equal([]);
    } finally {
      await store?.close();
      await admin.raw(`GRANT TEMP ON DATABASE ?? TO PUBLIC`, [database]);
      await admin.raw(`DROP OWNED BY ??`, [role]);
      await admin.raw(`DROP ROLE ??`, [role]);
    }
  });
});
