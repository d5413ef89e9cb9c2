/**
 * Queue settings (docs/flow-control.md): configure/settings/list round trips, refusals that
 * write nothing, pause and resume of claims, groups stored and returned, and the limited
 * claim's counts with many claimers at once.
 */
import { expect } from 'chai';
import type { QueueSettings, TaskQueueItem } from '../../lib/index.js';
import { TABLES, expectError, forEachDialect, knexConfigFor, uniqueAlias, uniqueQueue } from '../support/index.js';

const DEFAULTS = { paused: false, concurrency: null, groupConcurrency: null, rateLimit: null, groupRateLimit: null };

const strip = ({ updatedAt: _, ...rest }: QueueSettings) => rest;

forEachDialect('queue settings', (t) => {
  let alias: string;
  let queue: string;

  beforeEach(async function () {
    alias = uniqueAlias('Limited');
    queue = uniqueQueue();
    await t.store.taskDefinitionCreate({ alias });
  });

  const enqueue = (count: number, options: { group?: string } = {}) =>
    t.store.taskDefinitionEnqueueManyByAlias(
      queue,
      alias,
      Array.from({ length: count }, (_, n) => ({ n })),
      options,
    );

  it('a queue never configured has the defaults and no updatedAt', async function () {
    expect(await t.store.queueSettings(queue)).to.deep.equal({ queueName: queue, ...DEFAULTS, updatedAt: null });
    expect((await t.store.queueSettings('')).queueName).to.equal('default');
  });

  it('configure, pause and resume round-trip; keys not given are left as they are', async function () {
    const configured = await t.store.queueConfigure(queue, { concurrency: 20, rateLimit: { count: 100, periodMs: 60_000 } });
    expect(strip(configured)).to.deep.equal({
      queueName: queue,
      ...DEFAULTS,
      concurrency: 20,
      rateLimit: { count: 100, periodMs: 60_000 },
    });
    expect(configured.updatedAt).to.be.instanceOf(Date);
    await t.store.queueConfigure(queue, { groupConcurrency: 1, groupRateLimit: { count: 5, periodMs: 1000 } });
    const paused = await t.store.queuePause(queue);
    expect(paused.updatedAt!.getTime()).to.be.greaterThan(configured.updatedAt!.getTime());
    const expected = {
      queueName: queue,
      paused: true,
      concurrency: 20,
      groupConcurrency: 1,
      rateLimit: { count: 100, periodMs: 60_000 },
      groupRateLimit: { count: 5, periodMs: 1000 },
    };
    expect(strip(await t.store.queueSettings(queue))).to.deep.equal(expected);
    await t.store.queueResume(queue);
    await t.store.queueConfigure(queue, { concurrency: null, rateLimit: null });
    expect(strip(await t.store.queueSettings(queue))).to.deep.equal({ ...expected, paused: false, concurrency: null, rateLimit: null });
  });

  it('queueList shows every queue with settings or tasks, with its counts by status', async function () {
    const other = uniqueQueue();
    await enqueue(3);
    await t.store.queuePause(other);
    await t.store.taskQueueClaim(queue, 1);
    const list = await t.store.queueList();
    const mine = list.filter((entry) => entry.queueName === queue || entry.queueName === other);
    expect(mine.map((entry) => ({ ...strip(entry), stats: entry.stats }))).to.deep.equal(
      [
        {
          queueName: queue,
          ...DEFAULTS,
          stats: { queued: 2, running: 1, success: 0, failed: 0, canceled: 0, paused: 0, waiting: 0 },
          capped: [],
        },
        {
          queueName: other,
          ...DEFAULTS,
          paused: true,
          stats: { queued: 0, running: 0, success: 0, failed: 0, canceled: 0, paused: 0, waiting: 0 },
          capped: [],
        },
      ].sort((a, b) => (a.queueName < b.queueName ? -1 : 1)),
    );
  });

  it('refuses bad input with INVALID_ARGUMENT and writes nothing', async function () {
    const refusals: [unknown, RegExp][] = [
      [{ concurrency: 0 }, /concurrency must be a positive integer/],
      [{ concurrency: -1 }, /concurrency/],
      [{ concurrency: 1.5 }, /concurrency/],
      [{ concurrency: '3' }, /concurrency/],
      [{ groupConcurrency: 2_000_000 }, /groupConcurrency/],
      [{ rateLimit: { count: 0, periodMs: 1000 } }, /rateLimit.count/],
      [{ rateLimit: { count: 1, periodMs: 0 } }, /rateLimit.periodMs/],
      [{ rateLimit: { count: 1 } }, /rateLimit.periodMs/],
      [{ rateLimit: { count: 1, periodMs: 10, burst: 2 } }, /unknown option 'burst'/],
      [{ groupRateLimit: 5 }, /groupRateLimit must be a plain object/],
      [{ limit: 3 }, /unknown option 'limit'/],
      [null, /options must be a plain object/],
    ];
    for (const [input, message] of refusals) {
      await expectError(() => t.store.queueConfigure(queue, input as never), 'INVALID_ARGUMENT', message);
    }
    await expectError(() => t.store.queueConfigure('x'.repeat(101), { concurrency: 1 }), 'INVALID_ARGUMENT', /queueName/);
    await expectError(() => t.store.queuePause('bad\u0000name'), 'INVALID_ARGUMENT', /queueName/);
    await expectError(() => t.store.queueResume(42 as never), 'INVALID_ARGUMENT', /queueName/);
    expect(await t.store.knex(TABLES.queueSettings).count({ n: '*' })).to.deep.equal([{ n: t.dialect === 'postgres' ? '0' : 0 }]);
  });

  it('a paused queue gives nothing to any claim; resume lets the claims take it again', async function () {
    await enqueue(3);
    await t.store.queuePause(queue);
    expect(await t.store.taskQueueClaim(queue, 10)).to.deep.equal([]);
    expect(await t.store.taskQueueClaimNext(queue)).to.equal(null);
    expect((await t.store.queueClaim(queue, 10, { limited: true })).items).to.deep.equal([]);
    expect((await t.store.taskQueueStats({ queueName: queue })).queued).to.equal(3);
    await t.store.queueResume(queue);
    expect(await t.store.taskQueueClaim(queue, 10)).to.have.length(3);
  });

  it('stores the group of each task and returns it, from enqueue, create and claims', async function () {
    const [grouped] = await enqueue(1, { group: 'account:42' });
    const [plain] = await enqueue(1);
    expect(grouped!.group).to.equal('account:42');
    expect(plain!.group).to.equal(null);
    expect((await t.store.taskQueueFindById(grouped!.id))!.group).to.equal('account:42');
    const definition = await t.store.taskDefinitionFindByAlias(alias);
    const created = await t.store.taskQueueCreate({ taskId: definition!.id, queueName: queue, group: 'g2' });
    expect((await t.store.taskQueueFindById(created.id))!.group).to.equal('g2');
    const claimed = await t.store.taskQueueClaim(queue, 10);
    expect(Object.fromEntries(claimed.map((item) => [item.id, item.group]))).to.deep.equal({
      [grouped!.id]: 'account:42',
      [plain!.id]: null,
      [created.id]: 'g2',
    });
    await t.store.queueConfigure(queue, { concurrency: 10 });
    await enqueue(1, { group: 'g3' });
    expect((await t.store.taskQueueClaim(queue, 10)).map((item) => item.group)).to.deep.equal(['g3']);
    for (const bad of ['', ' ', 'x'.repeat(256), 'a\u0000b', '\uD800']) {
      await expectError(() => enqueue(1, { group: bad }), 'INVALID_ARGUMENT', /group/);
    }
  });

  it('the limited claim never lets more run than the concurrency limits, with eight claimers at once', async function () {
    await t.store.queueConfigure(queue, { concurrency: 5, groupConcurrency: 2 });
    await enqueue(6, { group: 'a' });
    await enqueue(6, { group: 'b' });
    await enqueue(6);
    const claims = await Promise.all(Array.from({ length: 8 }, () => t.store.taskQueueClaim(queue, 3)));
    const items = claims.flat();
    expect(items).to.have.length(5);
    expect(new Set(items.map((item) => item.id)).size).to.equal(5);
    const perGroup = (group: string) => items.filter((item) => item.group === group).length;
    expect(perGroup('a')).to.be.at.most(2);
    expect(perGroup('b')).to.be.at.most(2);
    expect((await t.store.queueClaim(queue, 3)).full).to.equal(true);
    // A finish frees a slot: one more may start.
    const [first] = items;
    await t.store.taskQueueProcessTask(first!);
    expect(await t.store.taskQueueClaim(queue, 3)).to.have.length(1);
  });

  it('a concurrency limit alone (the common case) holds with eight claimers at once, and a finish frees one slot', async function () {
    await t.store.queueConfigure(queue, { concurrency: 4 });
    await enqueue(20);
    const claims = await Promise.all(Array.from({ length: 8 }, () => t.store.queueClaim(queue, 3)));
    const items = claims.flatMap((claim) => claim.items);
    expect(items).to.have.length(4);
    expect(new Set(items.map((item) => item.id)).size).to.equal(4);
    expect(items.every((item) => item.status === 'running' && item.claimToken !== null)).to.equal(true);
    // The claims that took the last slots, or found none, say the limit is full.
    expect(claims.filter((claim) => claim.items.length === 0).every((claim) => claim.full)).to.equal(true);
    expect((await t.store.queueClaim(queue, 3)).full).to.equal(true);
    await t.store.taskQueueProcessTask(items[0]!);
    const next = await t.store.queueClaim(queue, 3);
    expect(next.items).to.have.length(1);
    expect(next.full).to.equal(true);
    expect(next.settings?.concurrency).to.equal(4);
    // Raising the limit lets that many more start; a pause lets none.
    await t.store.queueConfigure(queue, { concurrency: 6 });
    expect((await t.store.queueClaim(queue, 5)).items).to.have.length(2);
    await t.store.queueConfigure(queue, { concurrency: 10 });
    await t.store.queuePause(queue);
    expect((await t.store.queueClaim(queue, 5)).items).to.deep.equal([]);
    await t.store.queueResume(queue);
    // A group limit added meanwhile holds too, for a caller that still believes the limit is the queue's only one.
    await t.store.queueConfigure(queue, { concurrency: 50, groupConcurrency: 1 });
    await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}, {}], { group: 'g', priority: 10 });
    const grouped = await t.store.queueClaim(queue, 10, { limited: true });
    expect(grouped.items).to.have.length(10);
    expect(grouped.items.filter((item) => item.group === 'g')).to.have.length(1);
  });

  for (const [kind, settings] of [
    ['a concurrency limit alone', { concurrency: 2 }],
    ['a concurrency limit with a rate limit', { concurrency: 2, rateLimit: { count: 100, periodMs: 60_000 } }],
    ['a group concurrency limit', { groupConcurrency: 2 }],
  ] as const) {
    it(`${kind}: a claim leaves out the caller's settled items, matched on id and claim token`, async function () {
      await t.store.queueConfigure(queue, settings);
      await enqueue(5, { group: 'g' });
      const first = await t.store.queueClaim(queue, 5, { limited: true });
      expect(first.items).to.have.length(2);
      const [settled, other] = first.items as [TaskQueueItem, TaskQueueItem];
      // A settled item with another claim's token is some other claim of that row: it still counts.
      const stale = await t.store.queueClaim(queue, 5, { limited: true, settled: [{ id: other.id, claimToken: 'another-claim' }] });
      expect(stale.items).to.deep.equal([]);
      const next = await t.store.queueClaim(queue, 5, { limited: true, settled: [settled] });
      expect(next.items).to.have.length(1);
      expect(next.items[0]!.id).to.not.be.oneOf([settled.id, other.id]);
      // The settled row is still running in the database until its write lands; then it frees no second slot.
      expect((await t.store.taskQueueFindById(settled.id))?.status).to.equal('running');
      await t.store.taskQueueProcessTask(settled);
      expect((await t.store.queueClaim(queue, 5, { limited: true, settled: [settled] })).items).to.deep.equal([]);
    });
  }

  it('a limited claim of a queue whose settings no longer limit it takes the whole claim size, however many run', async function () {
    await t.store.queueConfigure(queue, { concurrency: 2 });
    await enqueue(6);
    expect((await t.store.queueClaim(queue, 5, { limited: true })).items).to.have.length(2);
    await t.store.queueConfigure(queue, { concurrency: null });
    const claim = await t.store.queueClaim(queue, 3, { limited: true });
    expect(claim.items).to.have.length(3);
    expect(claim.full).to.equal(false);
  });

  it('refuses settled items that are not (id, claimToken) pairs, or too many of them', async function () {
    await t.store.queueConfigure(queue, { concurrency: 2 });
    await enqueue(1);
    for (const settled of [
      'x',
      [{ id: 1, claimToken: 'x' }],
      [{ id: 'x' }],
      Array.from({ length: 1001 }, () => ({ id: 'x', claimToken: 'y' })),
    ]) {
      await expectError(
        () => t.store.queueClaim(queue, 1, { limited: true, settled: settled as never }),
        'INVALID_ARGUMENT',
        /settled must be an array/,
      );
    }
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'running' })).to.equal(0);
  });

  it('a limited claim on a connection that lost what its session had made still claims (PostgreSQL: its temporary function)', async function () {
    const store = await t.openStore({ database: { ...knexConfigFor(t.dialect, t.url), pool: { min: 1, max: 1 } } });
    await store.queueConfigure(queue, { concurrency: 2 });
    await enqueue(3);
    const first = await store.queueClaim(queue, 5);
    expect(first.items).to.have.length(2);
    expect(first.full).to.equal(true);
    if (t.dialect === 'postgres') {
      // The pool's only connection: the function the claim made in its session goes away.
      await store.knex.raw(`DROP FUNCTION pg_temp."taskstore_limited_${TABLES.queue}"`);
    }
    await store.taskQueueProcessTask(first.items[0]!);
    const second = await store.queueClaim(queue, 5);
    expect(second.items).to.have.length(1);
    expect(second.items[0]!.id).to.not.be.oneOf(first.items.map((item) => item.id));
  });

  it('a group at its limit does not crowd out the groups behind it', async function () {
    await t.store.queueConfigure(queue, { groupConcurrency: 1 });
    await enqueue(300, { group: 'busy' });
    await enqueue(2, { group: 'quiet' });
    expect((await t.store.taskQueueClaim(queue, 1)).map((item) => item.group)).to.deep.equal(['busy']);
    expect((await t.store.taskQueueClaim(queue, 5)).map((item) => item.group)).to.deep.equal(['quiet']);
  });

  it('the rate limit counts starts, retried or not, and says when the next one is allowed', async function () {
    await t.store.queueConfigure(queue, { rateLimit: { count: 3, periodMs: 60_000 } });
    await enqueue(5);
    const first = await t.store.queueClaim(queue, 2);
    expect(first.items).to.have.length(2);
    expect(first.waitMs).to.equal(null);
    // Given back unstarted: its start still counts (the ledger keeps it).
    await t.store.taskQueueRelease(first.items);
    const second = await t.store.queueClaim(queue, 5);
    expect(second.items).to.have.length(1);
    expect(second.waitMs).to.be.within(59_000, 60_000);
    const third = await t.store.queueClaim(queue, 5, { limited: true });
    expect(third.items).to.deep.equal([]);
    expect(third.waitMs).to.be.within(58_000, 60_000);
    // Removing the rate limit forgets the starts.
    await t.store.queueConfigure(queue, { rateLimit: null });
    expect(await t.store.knex(TABLES.queueStarts).where({ queue_name: queue }).count({ n: '*' })).to.deep.equal([
      { n: t.dialect === 'postgres' ? '0' : 0 },
    ]);
    expect(await t.store.taskQueueClaim(queue, 5)).to.have.length(4);
  });

  it('the group rate limit holds each group to its starts per period', async function () {
    await t.store.queueConfigure(queue, { groupRateLimit: { count: 2, periodMs: 60_000 } });
    await enqueue(4, { group: 'a' });
    await enqueue(4, { group: 'b' });
    await enqueue(1);
    const claims = await Promise.all(Array.from({ length: 4 }, () => t.store.taskQueueClaim(queue, 4)));
    const groups = claims.flat().map((item) => item.group ?? 'none');
    expect(groups.sort()).to.deep.equal(['a', 'a', 'b', 'b', 'none']);
    const after = await t.store.queueClaim(queue, 4);
    expect(after.items).to.deep.equal([]);
    expect(after.waitMs).to.be.within(58_000, 60_000);
  });
});
