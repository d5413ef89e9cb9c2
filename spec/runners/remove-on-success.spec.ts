/**
 * TaskQueueRunner `removeOnSuccess` (issue #13's retention policy) on every dialect: a success
 * deletes its row in the fenced finishing write; failures, retries, snoozes, cancels and flow
 * steps keep theirs; events, metrics and hooks still see every success; a success whose claim
 * was lost meanwhile deletes nothing; a removed task's unique key can be enqueued again; and
 * without the option every row stays.
 */
import { expect } from 'chai';
import { PermanentError, TaskQueueRunner, defineTask } from '../../lib/index.js';
import type { ProcessOptions, ProcessStatus, TaskStore, TaskStoreHooks } from '../../lib/index.js';
import { TABLES, backdateRunning, deferred, forEachDialect, uniqueAlias, uniqueQueue, waitFor, within } from '../support/index.js';
import { recordEvents } from '../support/runner-helpers.js';

const TEN_MINUTES = 10 * 60_000;

forEachDialect('TaskQueueRunner removeOnSuccess', (t) => {
  let queue: string;
  let ok: string;

  beforeEach(async function () {
    queue = uniqueQueue();
    ok = uniqueAlias('Ok');
    await t.store.taskHandlerAdd(
      defineTask({
        alias: ok,
        handle(ctx) {
          ctx.setOutput(`done ${String(ctx.params['n'])}`);
          ctx.setProgress(100);
        },
      }),
      true,
    );
  });

  /** How many rows of these ids the table holds, read straight from it (soft-deleted ones too). */
  async function rowsOf(ids: readonly string[]): Promise<number> {
    const rows = (await t.store.knex(TABLES.queue).whereIn('id', ids).count({ n: '*' })) as { n: unknown }[];
    return Number(rows[0]?.n ?? 0);
  }

  it('drains N successes leaving no row of them; a failed, a retried and a snoozed task keep theirs; events, metrics and hooks see all', async function () {
    const outcomes: ProcessStatus[] = [];
    const hook: TaskStoreHooks = {
      async aroundProcess(_info, run) {
        const outcome = await run();
        outcomes.push(outcome.status);
        return outcome;
      },
    };
    const store = await t.openStore({ hooks: [hook] });
    const aliases = { ok: uniqueAlias('Ok'), fail: uniqueAlias('Fail'), retry: uniqueAlias('Retry'), snooze: uniqueAlias('Snooze') };
    await store.taskHandlerAdd(defineTask({ alias: aliases.ok, handle: (ctx) => ctx.setOutput('kept nowhere') }), true);
    await store.taskHandlerAdd(
      defineTask({
        alias: aliases.fail,
        handle() {
          throw new PermanentError('broken on purpose');
        },
      }),
      true,
    );
    await store.taskHandlerAdd(
      defineTask({ alias: aliases.retry, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 3_600_000 }, handle: () => false }),
      true,
    );
    await store.taskHandlerAdd(defineTask({ alias: aliases.snooze, handle: (ctx) => ctx.snooze(3_600_000) }), true);
    const n = 40;
    const succeeding = await store.taskDefinitionEnqueueManyByAlias(
      queue,
      aliases.ok,
      Array.from({ length: n }, (_, i) => ({ i })),
    );
    const failing = await store.taskDefinitionEnqueueByAlias(queue, aliases.fail, {});
    const retried = await store.taskDefinitionEnqueueByAlias(queue, aliases.retry, {});
    const snoozed = await store.taskDefinitionEnqueueByAlias(queue, aliases.snooze, {});

    const runner = new TaskQueueRunner(store, { queueName: queue, maxConcurrency: 5, prefetch: 10, removeOnSuccess: true });
    const events = recordEvents(runner);
    await within(runner.runOnce(), 30_000, 'runOnce');

    expect(await rowsOf(succeeding.map((item) => item.id)), 'rows of the successes').to.equal(0);
    for (const item of succeeding) expect(await store.taskQueueFindById(item.id)).to.equal(null);
    expect(await store.taskQueueFindById(failing.id)).to.include({ status: 'failed', attempts: 1 });
    expect(await store.taskQueueFindById(retried.id)).to.include({ status: 'queued', attempts: 1 });
    expect(await store.taskQueueFindById(snoozed.id)).to.include({ status: 'queued', attempts: 0 });
    expect(await store.taskQueueCount({ queueName: queue })).to.equal(3);

    expect(events.succeeded.map((item) => item.id).sort()).to.deep.equal(succeeding.map((item) => item.id).sort());
    expect(events.failed.map(({ item }) => item.id)).to.deep.equal([failing.id]);
    expect(events.retried.map(({ item }) => item.id)).to.deep.equal([retried.id]);
    expect(events.errors).to.deep.equal([]);
    const ended = store.taskQueueEndedHere().filter((entry) => entry.queueName === queue);
    expect(ended).to.have.deep.members([
      { queueName: queue, outcome: 'success', count: n },
      { queueName: queue, outcome: 'failed', count: 1 },
      { queueName: queue, outcome: 'retried', count: 1 },
    ]);
    expect(outcomes.filter((status) => status === 'success')).to.have.length(n);
    expect(outcomes.filter((status) => status !== 'success').sort()).to.deep.equal(['failed', 'retry', 'snoozed']);
  });

  it('keeps the rows of flow steps: children read their parents, the flow reads as done', async function () {
    const seen: Record<string, unknown>[] = [];
    const child = uniqueAlias('Child');
    await t.store.taskHandlerAdd(
      defineTask({
        alias: child,
        handle(ctx) {
          seen.push({ ...ctx.parentOutputs });
        },
      }),
      true,
    );
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [
        { key: 'parent', alias: ok, params: { n: 1 } },
        { key: 'child', alias: child, dependsOn: ['parent'] },
      ],
    });
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, removeOnSuccess: true });
    const events = recordEvents(runner);
    runner.start();
    try {
      await waitFor(() => events.succeeded.length === 2, { timeoutMs: 20_000, message: 'both steps succeeded' });
    } finally {
      await runner.stop();
    }
    const done = await t.store.flowFindById(flow.id);
    expect(done?.items['parent']).to.include({ status: 'success', output: 'done 1' });
    expect(done?.items['child']).to.include({ status: 'success' });
    expect(seen).to.deep.equal([{ parent: { status: 'success', output: 'done 1' } }]);
    expect(await rowsOf([flow.items['parent']!.id, flow.items['child']!.id])).to.equal(2);
  });

  describe('a success whose claim was lost meanwhile deletes nothing', function () {
    /**
     * The runner's handler waits on `release` while another store takes the claim away
     * (`loseClaim`); the runner's late success then finishes with the stale token. runOnce
     * sweeps before it claims and has no sweep timer, so the row is taken from it only by the
     * other store.
     */
    async function lateSuccess(loseClaim: (other: TaskStore, id: string) => Promise<void>): Promise<{ id: string; succeeded: number }> {
      const reached = deferred();
      const release = deferred();
      const slow = uniqueAlias('Slow');
      await t.store.taskHandlerAdd(
        defineTask({
          alias: slow,
          maxAttempts: 3,
          async handle() {
            reached.resolve();
            await release.promise;
          },
        }),
        true,
      );
      const item = await t.store.taskDefinitionEnqueueByAlias(queue, slow, {});
      const runner = new TaskQueueRunner(t.store, { queueName: queue, removeOnSuccess: true });
      const events = recordEvents(runner);
      const running = runner.runOnce();
      try {
        await within(reached.promise, 20_000, 'the handler started');
        await loseClaim(await t.openStore(), item.id);
      } finally {
        release.resolve();
      }
      await within(running, 20_000, 'runOnce');
      expect(events.errors).to.deep.equal([]);
      return { id: item.id, succeeded: events.succeeded.length };
    }

    it('reclaimed by a sweep and claimed again: the new claim’s row survives', async function () {
      let fresh: string | null = null;
      const { id, succeeded } = await lateSuccess(async (other, taskId) => {
        await backdateRunning(other, taskId, TEN_MINUTES);
        expect(await other.taskQueueUnstuck(queue, 5)).to.equal(1);
        const claimed = await other.taskQueueClaimNext(queue);
        expect(claimed?.id).to.equal(taskId);
        fresh = claimed!.claimToken;
      });
      expect(succeeded, 'task:success of the stale attempt').to.equal(0);
      expect(await t.store.taskQueueFindById(id)).to.include({ status: 'running', claimToken: fresh, attempts: 2 });
    });

    it('in one finishing write with a success that still holds its claim: only that one is removed and reported', async function () {
      const reached = [deferred(), deferred()];
      const release = deferred();
      const slow = uniqueAlias('Slow');
      await t.store.taskHandlerAdd(
        defineTask({
          alias: slow,
          maxAttempts: 3,
          async handle(ctx) {
            reached[Number(ctx.params['n'])]!.resolve();
            await release.promise;
          },
        }),
        true,
      );
      const [kept, lost] = await t.store.taskDefinitionEnqueueManyByAlias(queue, slow, [{ n: 0 }, { n: 1 }]);
      const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 2, removeOnSuccess: true });
      const events = recordEvents(runner);
      const running = runner.runOnce();
      let fresh: string | null;
      try {
        await within(Promise.all(reached.map((started) => started.promise)), 20_000, 'both handlers started');
        const other = await t.openStore();
        await backdateRunning(other, lost!.id, TEN_MINUTES);
        expect(await other.taskQueueUnstuck(queue, 5)).to.equal(1);
        fresh = (await other.taskQueueClaimNext(queue))!.claimToken;
      } finally {
        // Both handlers settle in the same turn: their successes go out as one DELETE.
        release.resolve();
      }
      await within(running, 20_000, 'runOnce');
      expect(events.succeeded.map((item) => item.id)).to.deep.equal([kept!.id]);
      expect(await rowsOf([kept!.id])).to.equal(0);
      expect(await t.store.taskQueueFindById(lost!.id)).to.include({ status: 'running', claimToken: fresh, attempts: 2 });
    });

    it('canceled: the canceled row survives', async function () {
      const { id, succeeded } = await lateSuccess(async (other, taskId) => {
        expect(await other.taskQueueCancelById(taskId)).to.include({ status: 'canceled' });
      });
      expect(succeeded).to.equal(0);
      expect(await t.store.taskQueueFindById(id)).to.include({ status: 'canceled', claimToken: null });
    });
  });

  it('frees the unique key with the row: the key can be enqueued again', async function () {
    const first = await t.store.taskDefinitionEnqueueByAlias(queue, ok, { n: 1 }, { uniqueKey: 'once' });
    const runner = new TaskQueueRunner(t.store, { queueName: queue, removeOnSuccess: true });
    await within(runner.runOnce(), 20_000, 'runOnce');
    expect(await rowsOf([first.id])).to.equal(0);
    const again = await t.store.taskDefinitionEnqueueByAlias(queue, ok, { n: 2 }, { uniqueKey: 'once' });
    expect(again).to.include({ status: 'queued', uniqueKey: 'once' });
    expect(again.id).to.not.equal(first.id);
  });

  it('without the option, a success keeps its row', async function () {
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, ok, { n: 3 });
    await within(new TaskQueueRunner(t.store, { queueName: queue }).runOnce(), 20_000, 'runOnce');
    expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'success', output: 'done 3' });
  });

  describe('taskQueueExecute without batching (the single finishing write)', function () {
    it('removes a success with removeOnSuccess, and keeps a failure', async function () {
      const bad = uniqueAlias('Bad');
      await t.store.taskHandlerAdd(defineTask({ alias: bad, maxAttempts: 1, handle: () => false }), true);
      const good = await t.store.taskDefinitionEnqueueByAlias(queue, ok, { n: 4 });
      const failing = await t.store.taskDefinitionEnqueueByAlias(queue, bad, {});
      const results = [];
      for (const item of [good, failing]) results.push(await t.store.taskQueueExecute(item, { removeOnSuccess: true }));
      expect(results.map((result) => [result?.outcome.status, result?.recorded])).to.deep.equal([
        ['success', true],
        ['failed', true],
      ]);
      expect(await rowsOf([good.id])).to.equal(0);
      expect(await t.store.taskQueueFindById(failing.id)).to.include({ status: 'failed' });
    });

    it('taskQueueProcessTask and taskQueueProcessNext keep the row, even when handed the option', async function () {
      const options = { removeOnSuccess: true } as ProcessOptions;
      const first = await t.store.taskDefinitionEnqueueByAlias(queue, ok, { n: 5 });
      expect(await t.store.taskQueueProcessTask(first, options)).to.equal(true);
      expect(await t.store.taskQueueFindById(first.id)).to.include({ status: 'success', output: 'done 5' });
      const second = await t.store.taskDefinitionEnqueueByAlias(queue, ok, { n: 6 });
      expect(await t.store.taskQueueProcessNext(queue, options)).to.include({ id: second.id, status: 'success' });
    });
  });
});
