/**
 * DATABASE errors keep the driver's reason and leave out the statement and its values: task
 * parameters must not end up in logs. The cause keeps everything, the statement and (on
 * PostgreSQL) the detail that quotes the row included.
 */
import { expect } from 'chai';
import type { TaskStore, TaskStoreError } from '../../lib/index.js';
import { expectError, forEachDialect, uniqueTable } from '../support/index.js';

/** Contains ' - ', which knex puts between the statement and the reason. */
const SECRET = 'hunter2 - do not log';

/** How each database words the refusal of a row that breaks a CHECK constraint. */
const CHECK_REASON: Record<string, RegExp> = {
  sqlite: /^CHECK constraint failed: extra IS NOT NULL$/,
  postgres: /^new row for relation "\w+" violates check constraint "\w+"$/,
  mysql: /^(CONSTRAINT `[\w.]+` failed for `\w+`\.`\w+`|Check constraint '\w+' is violated\.)$/,
};

/**
 * The message is `<action> failed: <reason>`, without the statement or the secret; the cause
 * is the driver's error as thrown, statement included, and with `secretInCause` the secret too
 * (inlined in the statement, or in PostgreSQL's detail "Failing row contains (…)").
 */
function expectClean(error: TaskStoreError, action: string, reason: RegExp, secretInCause: boolean): void {
  const prefix = `${action} failed: `;
  expect(error.message.startsWith(prefix), error.message).to.equal(true);
  expect(error.message.slice(prefix.length)).to.match(reason);
  expect(error.message).to.not.include('hunter2');
  expect(error.message).to.not.match(/insert\b/i);
  const cause = error.cause as Error & { detail?: string };
  expect(cause).to.be.instanceOf(Error);
  expect(cause.message).to.match(/insert\b/i);
  if (secretInCause) expect(`${cause.message} ${cause.detail ?? ''}`).to.include(SECRET);
}

forEachDialect('DATABASE error messages', (t) => {
  let store: TaskStore;
  let taskId: string;

  beforeEach(async function () {
    const queueTable = uniqueTable('leaky');
    store = await t.openStore({
      taskDefinitionTableName: uniqueTable('def'),
      taskQueueTableName: queueTable,
      scheduleTableName: uniqueTable('sched'),
      automigrate: true,
    });
    // A column every insert leaves NULL, refused by a CHECK: the same SQL on every dialect.
    await store.knex.raw('ALTER TABLE ?? ADD COLUMN extra varchar(10) CHECK (extra IS NOT NULL)', [queueTable]);
    taskId = (await store.taskDefinitionCreate({ alias: 'Leaky' })).id;
  });

  it('keep the reason of a refused insert, not the statement or the parameters', async function () {
    const reason = CHECK_REASON[t.dialect]!;
    const created = await expectError(() => store.taskQueueCreate({ taskId, parameters: { token: SECRET } }), 'DATABASE');
    expectClean(created, 'taskQueueCreate', reason, true);
    const enqueued = await expectError(() => store.taskDefinitionEnqueueByAlias('q', 'Leaky', { token: SECRET }), 'DATABASE');
    expectClean(enqueued, 'taskDefinitionEnqueueByAlias', reason, true);
    const batch = await expectError(
      () => store.taskDefinitionEnqueueManyByAlias('q', 'Leaky', [{ token: SECRET }, { token: SECRET }]),
      'DATABASE',
    );
    expectClean(batch, 'taskDefinitionEnqueueManyByAlias', reason, true);
    const unique = await expectError(
      () => store.taskDefinitionEnqueueByAlias('q', 'Leaky', { token: SECRET }, { uniqueKey: SECRET }),
      'DATABASE',
    );
    expectClean(unique, 'taskDefinitionEnqueueByAlias', reason, true);
    if (t.dialect === 'postgres') expect(created.message).to.not.include('Failing row');
    expect(await store.taskQueueCount()).to.equal(0);
  });

  it('keep the reason when a table is missing', async function () {
    const other = await t.openStore({
      taskDefinitionTableName: uniqueTable('def'),
      taskQueueTableName: uniqueTable('missing'),
      scheduleTableName: uniqueTable('sched'),
      automigrate: false,
    });
    const error = await expectError(() => other.taskQueueCreate({ taskId, parameters: { token: SECRET } }), 'DATABASE');
    // PostgreSQL sends values apart from the statement ($1, $2, …) and names no row here.
    expectClean(error, 'taskQueueCreate', /no such table|does not exist|doesn't exist/, t.dialect !== 'postgres');
  });
});
