import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { TaskStore } from '../../lib/index.js';
import { detailMessages, expectError, forEachDialect } from '../support/index.js';

const CLAIM_WORKER = fileURLToPath(new URL('../support/claim-worker.js', import.meta.url));

function runClaimWorker(url: string, queue: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLAIM_WORKER, url, queue], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`claim-worker failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim()) as string[]);
    });
  });
}

async function drain(store: TaskStore, queue: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const item = await store.taskQueueClaimNext(queue);
    if (!item) return ids;
    ids.push(item.id);
  }
}

forEachDialect('claiming', (t) => {
  let taskId: string;

  beforeEach(async function () {
    taskId = (await t.store.taskDefinitionCreate({ alias: 'Claimable' })).id;
  });

  it('returns null from an empty queue', async function () {
    expect(await t.store.taskQueueClaimNext('empty')).to.equal(null);
    expect(await t.store.taskQueueClaim('empty', 5)).to.deep.equal([]);
  });

  it('marks the claimed row running with attempts+1, start, heartbeat, a token and a Task started line', async function () {
    const item = await t.store.taskQueueCreate({ taskId, queueName: 'c' });
    const before = Date.now();
    const claimed = await t.store.taskQueueClaimNext('c');
    expect(claimed?.id).to.equal(item.id);
    expect(claimed).to.include({ status: 'running', attempts: 1 });
    expect(claimed?.startedAt?.getTime()).to.be.within(before - 1000, Date.now() + 1000);
    expect(claimed?.heartbeatAt?.getTime()).to.be.within(before - 1000, Date.now() + 1000);
    expect(claimed?.claimToken).to.be.a('string').and.not.equal('');
    expect(detailMessages(claimed!.details)).to.deep.equal(['Task started']);
    expect(await t.store.taskQueueFindById(item.id)).to.deep.equal(claimed);
    expect(await t.store.taskQueueClaimNext('c')).to.equal(null);
  });

  it('gives every claim a fresh token', async function () {
    await t.store.taskQueueCreate({ taskId, queueName: 'tok' });
    await t.store.taskQueueCreate({ taskId, queueName: 'tok' });
    const a = await t.store.taskQueueClaimNext('tok');
    const b = await t.store.taskQueueClaimNext('tok');
    expect(a?.claimToken).to.be.a('string');
    expect(a?.claimToken).to.not.equal(b?.claimToken);
  });

  it('claims by priority desc, then availableAt asc, then creation order', async function () {
    const past = (minutes: number): Date => new Date(Date.now() - minutes * 60_000);
    const low = await t.store.taskQueueCreate({ taskId, queueName: 'o', priority: 0, availableAt: past(30) });
    const highLate = await t.store.taskQueueCreate({ taskId, queueName: 'o', priority: 10, availableAt: past(1) });
    const highEarly = await t.store.taskQueueCreate({ taskId, queueName: 'o', priority: 10, availableAt: past(5) });
    const sameA = await t.store.taskQueueCreate({ taskId, queueName: 'o', priority: 5, availableAt: past(2) });
    const sameB = await t.store.taskQueueCreate({ taskId, queueName: 'o', priority: 5, availableAt: sameA.availableAt });
    const negative = await t.store.taskQueueCreate({ taskId, queueName: 'o', priority: -3, availableAt: past(60) });
    const order = await drain(t.store, 'o');
    expect(order).to.deep.equal([highEarly.id, highLate.id, sameA.id, sameB.id, low.id, negative.id]);
  });

  it('uses creation order for equal priority and availableAt', async function () {
    const availableAt = new Date(Date.now() - 1000);
    const made = [];
    for (let n = 0; n < 6; n += 1) made.push((await t.store.taskQueueCreate({ taskId, queueName: 'fifo', availableAt })).id);
    expect(await drain(t.store, 'fifo')).to.deep.equal(made);
  });

  it('never claims soft-deleted, not-yet-available, non-queued or other-queue rows', async function () {
    const soft = await t.store.taskQueueCreate({ taskId, queueName: 'n' });
    await t.store.taskQueueSoftDeleteById(soft.id);
    await t.store.taskQueueCreate({ taskId, queueName: 'n', availableAt: new Date(Date.now() + 60_000) });
    for (const status of ['running', 'success', 'failed', 'canceled', 'paused'] as const) {
      await t.store.taskQueueCreate({ taskId, queueName: 'n', status });
    }
    await t.store.taskQueueCreate({ taskId, queueName: 'elsewhere' });
    await t.store.taskDefinitionCreate({ alias: 'Delayed' });
    await t.store.taskDefinitionEnqueueByAlias('n', 'Delayed', {}, { delayMs: 60_000 });
    expect(await t.store.taskQueueClaimNext('n')).to.equal(null);
    expect(await t.store.taskQueueClaim('n', 10)).to.deep.equal([]);
    const good = await t.store.taskQueueCreate({ taskId, queueName: 'n' });
    expect((await t.store.taskQueueClaimNext('n'))?.id).to.equal(good.id);
  });

  it('claims a row whose availableAt is now or in the past', async function () {
    const item = await t.store.taskQueueCreate({ taskId, queueName: 'due', availableAt: new Date(Date.now() - 1) });
    expect((await t.store.taskQueueClaimNext('due'))?.id).to.equal(item.id);
  });

  it('taskQueueClaim(queue, n) claims up to n rows in claim order', async function () {
    const made = [];
    for (let n = 0; n < 5; n += 1) made.push((await t.store.taskQueueCreate({ taskId, queueName: 'batch', priority: n })).id);
    const first = await t.store.taskQueueClaim('batch', 3);
    expect(first.map((item) => item.id)).to.deep.equal([made[4], made[3], made[2]]);
    for (const item of first) {
      expect(item).to.include({ status: 'running', attempts: 1 });
      expect(item.claimToken).to.be.a('string');
      expect(detailMessages(item.details)).to.deep.equal(['Task started']);
    }
    const second = await t.store.taskQueueClaim('batch', 3);
    expect(second.map((item) => item.id)).to.deep.equal([made[1], made[0]]);
    expect(second[0]?.claimToken).to.not.equal(first[0]?.claimToken);
    expect(await t.store.taskQueueClaim('batch', 3)).to.deep.equal([]);
    expect(await t.store.taskQueueCount({ queueName: 'batch', status: 'running' })).to.equal(5);
    // Adapters build the claimed items without reading them back: they must equal the rows.
    for (const item of [...first, ...second]) expect(await t.store.taskQueueFindById(item.id)).to.deep.equal(item);
  });

  it('a row claimed again comes back exactly as stored, with its earlier details lines', async function () {
    const made = await t.store.taskQueueCreate({ taskId, queueName: 'again', parameters: { text: 'a\nb' }, maxAttempts: 3 });
    const first = await t.store.taskQueueClaim('again', 5);
    expect(await t.store.taskQueueRelease(first)).to.equal(1);
    const [again] = await t.store.taskQueueClaim('again', 5);
    expect(again?.id).to.equal(made.id);
    expect(again).to.include({ status: 'running', attempts: 1, maxAttempts: 3 });
    expect(again?.parameters).to.deep.equal({ text: 'a\nb' });
    expect(detailMessages(again!.details)).to.deep.equal(['Task started', 'Task released unstarted', 'Task started']);
    expect(await t.store.taskQueueFindById(made.id)).to.deep.equal(again);
  });

  it('rejects a bad claim count', async function () {
    await t.store.taskQueueCreate({ taskId, queueName: 'bad' });
    for (const n of [0, -1, 1.5, Number.NaN]) await expectError(() => t.store.taskQueueClaim('bad', n), 'INVALID_ARGUMENT');
    expect(await t.store.taskQueueCount({ status: 'queued' })).to.equal(1);
  });

  describe('exactly once under contention', function () {
    const ROWS = 500;

    beforeEach(async function () {
      await t.store.taskDefinitionEnqueueManyByAlias(
        'race',
        'Claimable',
        Array.from({ length: ROWS }, (_, n) => ({ n })),
      );
      expect(await t.store.taskQueueCount({ queueName: 'race', status: 'queued' })).to.equal(ROWS);
    });

    function expectEachOnce(claims: string[][], expected: string[]): void {
      const all = claims.flat();
      const duplicates = all.filter((id, index) => all.indexOf(id) !== index);
      expect(duplicates, 'ids claimed more than once').to.deep.equal([]);
      expect(all.length).to.equal(ROWS);
      expect([...all].sort()).to.deep.equal([...expected].sort());
    }

    it('8 store instances claiming in parallel claim each row exactly once', async function () {
      this.timeout(120_000);
      const expected = (await t.store.taskQueueList({ queueName: 'race', limit: 1000 })).map((item) => item.id);
      const stores = await Promise.all(Array.from({ length: 8 }, () => t.openStore()));
      const claims = await Promise.all(stores.map((store) => drain(store, 'race')));
      expectEachOnce(claims, expected);
      expect(await t.store.taskQueueCount({ queueName: 'race', status: 'running' })).to.equal(ROWS);
      const rows = await t.store.taskQueueList({ queueName: 'race', limit: ROWS });
      expect(rows.every((row) => row.attempts === 1)).to.equal(true);
    });

    it('4 OS processes claiming in parallel claim each row exactly once', async function () {
      this.timeout(120_000);
      const expected = (await t.store.taskQueueList({ queueName: 'race', limit: 1000 })).map((item) => item.id);
      const claims = await Promise.all(Array.from({ length: 4 }, () => runClaimWorker(t.url, 'race')));
      expectEachOnce(claims, expected);
      expect(await t.store.taskQueueCount({ queueName: 'race', status: 'running' })).to.equal(ROWS);
    });

    it('batch claims from 8 store instances claim each row exactly once', async function () {
      this.timeout(120_000);
      const expected = (await t.store.taskQueueList({ queueName: 'race', limit: 1000 })).map((item) => item.id);
      const stores = await Promise.all(Array.from({ length: 8 }, () => t.openStore()));
      const claims = await Promise.all(
        stores.map(async (store) => {
          const ids: string[] = [];
          for (;;) {
            const batch = await store.taskQueueClaim('race', 7);
            if (batch.length === 0) return ids;
            ids.push(...batch.map((item) => item.id));
          }
        }),
      );
      expectEachOnce(claims, expected);
    });
  });
});
