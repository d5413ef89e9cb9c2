/**
 * Queue names, unique keys and schedule names compare exactly on every dialect, trailing
 * spaces included. MySQL's utf8mb4_bin pads ('pad' = 'pad '); migration 003 moves the tables
 * to a NO PAD binary collation. The schema side of it is in migration-003.spec.ts.
 */
import { expect } from 'chai';
import { expectError, forEachDialect } from '../support/index.js';

forEachDialect('exact comparison of names and keys', (t) => {
  let taskId: string;

  beforeEach(async function () {
    taskId = (await t.store.taskDefinitionCreate({ alias: 'Padded' })).id;
  });

  it("a claim of queue 'pad' leaves the items of queue 'pad ' alone", async function () {
    const padded = await t.store.taskQueueCreate({ taskId, queueName: 'pad ' });
    expect(await t.store.taskQueueClaim('pad', 10)).to.deep.equal([]);
    const plain = await t.store.taskQueueCreate({ taskId, queueName: 'pad' });
    expect((await t.store.taskQueueClaim('pad', 10)).map((item) => item.id)).to.deep.equal([plain.id]);
    const claimed = await t.store.taskQueueClaim('pad ', 10);
    expect(claimed.map((item) => [item.id, item.queueName])).to.deep.equal([[padded.id, 'pad ']]);
  });

  it("queue filters tell 'pad' from 'pad '", async function () {
    const padded = await t.store.taskQueueCreate({ taskId, queueName: 'pad ' });
    const plain = await t.store.taskQueueCreate({ taskId, queueName: 'pad' });
    expect((await t.store.taskQueueList({ queueName: 'pad' })).map((item) => item.id)).to.deep.equal([plain.id]);
    expect((await t.store.taskQueueList({ queueName: 'pad ' })).map((item) => item.id)).to.deep.equal([padded.id]);
    expect(await t.store.taskQueueCount({ queueName: 'pad' })).to.equal(1);
    expect(await t.store.taskQueueStats({ queueName: 'pad' })).to.include({ queued: 1 });
  });

  it("unique keys 'uk' and 'uk ' are two keys", async function () {
    const plain = await t.store.taskDefinitionEnqueueByAlias('q', 'Padded', {}, { uniqueKey: 'uk' });
    const padded = await t.store.taskDefinitionEnqueueByAlias('q', 'Padded', {}, { uniqueKey: 'uk ' });
    expect([plain.uniqueKey, padded.uniqueKey]).to.deep.equal(['uk', 'uk ']);
    await expectError(() => t.store.taskDefinitionEnqueueByAlias('q', 'Padded', {}, { uniqueKey: 'uk' }), 'ALREADY_EXISTS');
    await expectError(() => t.store.taskQueueCreate({ taskId, uniqueKey: 'uk ' }), 'ALREADY_EXISTS');
    const created = await t.store.taskQueueCreate({ taskId, uniqueKey: 'uk  ' });
    expect(created.uniqueKey).to.equal('uk  ');
    expect(await t.store.taskQueueCount()).to.equal(3);
  });

  it("schedule name and queue filters tell 'nightly' from 'nightly '", async function () {
    const rule = { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z' } as const;
    const plain = await t.store.scheduleCreate({ name: 'nightly', taskDefinitionId: taskId, queueName: 'pad', recurrenceRule: rule });
    const padded = await t.store.scheduleCreate({ name: 'nightly ', taskDefinitionId: taskId, queueName: 'pad ', recurrenceRule: rule });
    expect((await t.store.scheduleList({ name: 'nightly' })).map((s) => s.id)).to.deep.equal([plain.id]);
    expect((await t.store.scheduleList({ name: 'nightly ' })).map((s) => s.id)).to.deep.equal([padded.id]);
    expect((await t.store.scheduleList({ queueName: 'pad ' })).map((s) => s.id)).to.deep.equal([padded.id]);
  });

  it("aliases are normalised first: 'Padded ' is the alias 'Padded', on every dialect", async function () {
    expect((await t.store.taskDefinitionFindByAlias('Padded '))?.id).to.equal(taskId);
    await expectError(() => t.store.taskDefinitionCreate({ alias: 'Padded ' }), 'ALREADY_EXISTS');
    // Keys that differ in their last character stay apart.
    const other = await t.store.taskDefinitionCreate({ alias: 'Padded2' });
    expect((await t.store.taskDefinitionFindByAlias('padded2'))?.id).to.equal(other.id);
    expect((await t.store.taskDefinitionList({ alias: 'Padded' })).map((d) => d.id)).to.deep.equal([taskId]);
  });
});
