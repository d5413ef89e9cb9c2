/**
 * Input that would pass a naive check but that a database refuses (or stores wrongly) is
 * rejected up front with INVALID_ARGUMENT, in the units the database counts, and nothing is
 * written. Each limit's edge is accepted and round-trips on every dialect.
 */
import { expect } from 'chai';
import { defineTask } from '../../lib/index.js';
import { expectError, expectThrows, forEachDialect } from '../support/index.js';

const MAX_TIME = new Date('9999-12-31T23:59:59.999Z');
const TOO_LATE = new Date('+020000-01-01T00:00:00.000Z');
const TEN_YEARS_MS = 3650 * 24 * 60 * 60 * 1000;
/** 'İ'.toLowerCase() is 'i̇': two characters, so 60 of them make a 120-character key. */
const DOTTED = (count: number): string => 'İ'.repeat(count);

describe('defineTask time options and aliases', function () {
  const handle = () => true;

  it('rejects durations a Node timer cannot hold (they would fire after 1 ms)', function () {
    expectThrows(() => defineTask({ alias: 'T', timeoutMs: 2 ** 31, handle }), 'INVALID_ARGUMENT', 'timeoutMs');
    expectThrows(() => defineTask({ alias: 'T', backoff: { delayMs: 1e300 }, handle }), 'INVALID_ARGUMENT', 'backoff.delayMs');
    expectThrows(() => defineTask({ alias: 'T', backoff: { maxDelayMs: 2 ** 31 }, handle }), 'INVALID_ARGUMENT', 'backoff.maxDelayMs');
    const edge = defineTask({ alias: 'T', timeoutMs: 2 ** 31 - 1, backoff: { delayMs: 0, maxDelayMs: 2 ** 31 - 1 }, handle });
    expect(edge.timeoutMs).to.equal(2 ** 31 - 1);
  });

  it('rejects an alias whose normalised form is longer than 100 characters', function () {
    expectThrows(() => defineTask({ alias: DOTTED(60), handle }), 'INVALID_ARGUMENT', 'normalised');
    expectThrows(() => defineTask({ alias: 'x'.repeat(101), handle }), 'INVALID_ARGUMENT', 'at most 100');
    expect(defineTask({ alias: DOTTED(50), handle }).alias).to.equal(DOTTED(50));
  });
});

forEachDialect('limits the database would enforce', (t) => {
  let taskId: string;

  beforeEach(async function () {
    taskId = (await t.store.taskDefinitionCreate({ alias: 'Limited' })).id;
  });

  it('aliases: the normalised key must fit its column too', async function () {
    await expectError(() => t.store.taskDefinitionCreate({ alias: DOTTED(60) }), 'INVALID_ARGUMENT', 'alias');
    await expectError(() => t.store.taskDefinitionUpdate({ id: taskId, alias: DOTTED(60) }), 'INVALID_ARGUMENT', 'alias');
    expect((await t.store.taskDefinitionFindById(taskId))?.alias).to.equal('Limited');
    const edge = await t.store.taskDefinitionCreate({ alias: DOTTED(50) });
    expect((await t.store.taskDefinitionFindByAlias(DOTTED(50)))?.id).to.equal(edge.id);
    expect(await t.store.taskDefinitionCount()).to.equal(2);
  });

  it('schedule descriptions are counted in UTF-8 bytes (MySQL TEXT holds 65,535)', async function () {
    const rule = { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z' } as const;
    const fits = `${'é'.repeat(32_767)}a`; // 65,535 bytes
    const tooLong = 'é'.repeat(40_000); // 40,000 characters, 80,000 bytes
    await expectError(
      () => t.store.scheduleCreate({ name: 's', taskDefinitionId: taskId, recurrenceRule: rule, description: tooLong }),
      'INVALID_ARGUMENT',
      'bytes',
    );
    expect(await t.store.scheduleCount()).to.equal(0);
    const created = await t.store.scheduleCreate({ name: 's', taskDefinitionId: taskId, recurrenceRule: rule, description: fits });
    expect((await t.store.scheduleFindById(created.id))?.description).to.equal(fits);
    await expectError(() => t.store.scheduleUpdate({ id: created.id, description: `${fits}b` }), 'INVALID_ARGUMENT', 'description');
    expect((await t.store.scheduleFindById(created.id))?.description).to.equal(fits);
  });

  it('enqueue: delayMs up to 3,650 days, runAt within 1970 to 9999', async function () {
    const enqueue = (options: object) => t.store.taskDefinitionEnqueueByAlias('q', 'Limited', {}, options);
    await expectError(() => enqueue({ delayMs: 1e300 }), 'INVALID_ARGUMENT', 'delayMs');
    await expectError(() => enqueue({ delayMs: TEN_YEARS_MS + 1 }), 'INVALID_ARGUMENT', 'delayMs');
    await expectError(() => enqueue({ runAt: TOO_LATE }), 'INVALID_ARGUMENT', 'runAt');
    await expectError(() => enqueue({ runAt: new Date(-1) }), 'INVALID_ARGUMENT', 'runAt');
    await expectError(
      () => t.store.taskDefinitionEnqueueManyByAlias('q', 'Limited', [{}], { runAt: TOO_LATE }),
      'INVALID_ARGUMENT',
      'runAt',
    );
    expect(await t.store.taskQueueCount()).to.equal(0);

    const late = await enqueue({ delayMs: TEN_YEARS_MS });
    const last = await enqueue({ runAt: MAX_TIME });
    const first = await enqueue({ runAt: new Date(0) });
    expect((await t.store.taskQueueFindById(late.id))?.availableAt.getTime()).to.equal(late.availableAt.getTime());
    expect((await t.store.taskQueueFindById(last.id))?.availableAt.toISOString()).to.equal(MAX_TIME.toISOString());
    expect((await t.store.taskQueueFindById(first.id))?.availableAt.getTime()).to.equal(0);
  });

  it('queue items: availableAt within 1970 to 9999 on create and update', async function () {
    await expectError(() => t.store.taskQueueCreate({ taskId, availableAt: TOO_LATE }), 'INVALID_ARGUMENT', 'availableAt');
    const item = await t.store.taskQueueCreate({ taskId, availableAt: MAX_TIME });
    await expectError(() => t.store.taskQueueUpdate({ id: item.id, availableAt: TOO_LATE }), 'INVALID_ARGUMENT', 'availableAt');
    expect((await t.store.taskQueueFindById(item.id))?.availableAt.toISOString()).to.equal(MAX_TIME.toISOString());
    expect(await t.store.taskQueueCount()).to.equal(1);
  });

  it('lists: limit up to 10,000, offset up to 2^31-1, dates within 1970 to 9999', async function () {
    await t.store.taskQueueCreate({ taskId });
    for (const query of [{ limit: 1e20 }, { limit: 10_001 }, { offset: 1e20 }, { offset: 2 ** 31 }, { createdFrom: TOO_LATE }]) {
      const key = Object.keys(query)[0]!;
      await expectError(() => t.store.taskQueueList(query), 'INVALID_ARGUMENT', key);
      await expectError(() => t.store.taskDefinitionList(query), 'INVALID_ARGUMENT', key);
      await expectError(() => t.store.scheduleList(query), 'INVALID_ARGUMENT', key);
    }
    await expectError(() => t.store.taskQueueCount({ createdTo: new Date('-200000-01-01T00:00:00Z') }), 'INVALID_ARGUMENT', 'createdTo');
    expect(await t.store.taskQueueList({ limit: 10_000 })).to.have.length(1);
    expect(await t.store.taskQueueList({ offset: 2 ** 31 - 1 })).to.deep.equal([]);
    expect(await t.store.taskQueueList({ limit: 10_000, offset: 2 ** 31 - 1 })).to.deep.equal([]);
    expect(await t.store.taskQueueCount({ createdFrom: new Date(0), createdTo: MAX_TIME })).to.equal(1);
  });

  it('maintenance: purge and unstuck reject instants outside the stored range', async function () {
    await t.store.taskQueueCreate({ taskId, status: 'success' });
    await expectError(() => t.store.taskQueuePurge({ olderThan: TOO_LATE }), 'INVALID_ARGUMENT', 'olderThan');
    await expectError(() => t.store.taskQueueUnstuck(null, 1e300), 'INVALID_ARGUMENT', 'minutes');
    expect(await t.store.taskQueueCount()).to.equal(1);
  });

  it('schedules: endAt within 1970 to 9999; a run after 9999 counts as none', async function () {
    const rule = { frequency: 'daily', startsAt: '2025-01-01T09:00:00Z' } as const;
    await expectError(
      () => t.store.scheduleCreate({ name: 's', taskDefinitionId: taskId, recurrenceRule: rule, endAt: TOO_LATE }),
      'INVALID_ARGUMENT',
      'endAt',
    );
    expect(await t.store.scheduleCount()).to.equal(0);
    const far = await t.store.scheduleCreate({
      name: 'far',
      taskDefinitionId: taskId,
      recurrenceRule: { frequency: 'none', startsAt: TOO_LATE },
    });
    expect(far.nextRunAt).to.equal(null);
    expect((await t.store.scheduleFindById(far.id))?.nextRunAt).to.equal(null);
  });
});
