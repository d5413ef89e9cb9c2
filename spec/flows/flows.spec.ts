/**
 * Flows on every dialect: steps run in dependency order and each once, a step becomes queued
 * only when its last parent ends, each failure policy, ctx.parentOutputs, retried parents,
 * flowFindById, flowCancelById, batchEnqueue, cancel and the sweep of flow steps.
 */
import { expect } from 'chai';
import { PermanentError, TaskQueueRunner, defineTask } from '../../lib/index.js';
import type { FlowStepInput, ParentOutput, TaskContext } from '../../lib/index.js';
import { TABLES, backdateRunning, detailMessages, forEachDialect, uniqueAlias, uniqueQueue, waitFor } from '../support/index.js';

forEachDialect('flows', (t) => {
  let queue: string;
  /** Step keys in the order their handlers ran, with what they saw of their parents. */
  let ran: { key: string; parents: Record<string, ParentOutput> }[];
  let aliases: { ok: string; fail: string; flaky: string };

  beforeEach(async function () {
    queue = uniqueQueue();
    ran = [];
    const record = (ctx: TaskContext) => {
      ran.push({ key: String(ctx.params['key']), parents: { ...ctx.parentOutputs } });
      ctx.setOutput(`out:${String(ctx.params['key'])}`);
    };
    aliases = { ok: uniqueAlias('Ok'), fail: uniqueAlias('Fail'), flaky: uniqueAlias('Flaky') };
    await t.store.taskHandlerAdd(defineTask({ alias: aliases.ok, handle: (ctx) => record(ctx) }), true);
    await t.store.taskHandlerAdd(
      defineTask({
        alias: aliases.fail,
        handle(ctx) {
          record(ctx);
          throw new PermanentError('broken on purpose');
        },
      }),
      true,
    );
    await t.store.taskHandlerAdd(
      defineTask({
        alias: aliases.flaky,
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 1 },
        handle(ctx) {
          record(ctx);
          return ctx.attempt === 3;
        },
      }),
      true,
    );
  });

  const step = (key: string, alias: string, dependsOn: string[] = [], extra: Partial<FlowStepInput> = {}): FlowStepInput => ({
    key,
    alias,
    params: { key },
    dependsOn,
    ...extra,
  });

  /** Processes due items one at a time until none is left; returns how many it processed. */
  async function drain(): Promise<number> {
    let processed = 0;
    while (await t.store.taskQueueProcessNext(queue)) processed += 1;
    return processed;
  }

  async function statuses(flowId: string): Promise<Record<string, string>> {
    const flow = await t.store.flowFindById(flowId);
    return Object.fromEntries(Object.entries(flow!.items).map(([key, item]) => [key, item.status]));
  }

  it('a diamond runs in dependency order, its join once, and reads its parents’ outputs', async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [
        step('notify', aliases.ok, ['thumb', 'large']),
        step('thumb', aliases.ok, ['fetch']),
        step('large', aliases.ok, ['fetch']),
        step('fetch', aliases.ok),
      ],
    });
    expect(Object.keys(flow.items).sort()).to.deep.equal(['fetch', 'large', 'notify', 'thumb']);
    expect(flow.items['fetch']).to.include({ status: 'queued', flowId: flow.id, flowKey: 'fetch', queueName: queue });
    for (const key of ['thumb', 'large', 'notify']) expect(flow.items[key]!.status, key).to.equal('waiting');
    expect(await statuses(flow.id)).to.deep.equal({ fetch: 'queued', thumb: 'waiting', large: 'waiting', notify: 'waiting' });
    expect((await t.store.flowFindById(flow.id))!.status).to.equal('running');

    // Only the root is claimable.
    expect((await t.store.taskQueueProcessNext(queue))?.flowKey).to.equal('fetch');
    expect(await statuses(flow.id)).to.deep.equal({ fetch: 'success', thumb: 'queued', large: 'queued', notify: 'waiting' });
    await t.store.taskQueueProcessNext(queue);
    expect((await t.store.flowFindById(flow.id))!.items['notify']!.status, 'notify waits for its second parent').to.equal('waiting');
    expect(await drain()).to.equal(2);

    expect(ran.map((run) => run.key)).to.deep.equal(['fetch', 'thumb', 'large', 'notify']);
    expect(ran[0]!.parents).to.deep.equal({});
    expect(ran[1]!.parents).to.deep.equal({ fetch: { status: 'success', output: 'out:fetch' } });
    expect(ran[3]!.parents).to.deep.equal({
      thumb: { status: 'success', output: 'out:thumb' },
      large: { status: 'success', output: 'out:large' },
    });
    const done = await t.store.flowFindById(flow.id);
    expect(done).to.include({ id: flow.id, status: 'succeeded', queueName: queue });
    expect(done!.dependsOn).to.deep.equal({ fetch: [], thumb: ['fetch'], large: ['fetch'], notify: ['thumb', 'large'] });
    expect(detailMessages(done!.items['notify']!.details)).to.deep.equal(['Task started', 'Task completed']);
  });

  it('a runner drains a flow (the finishing writes of steps take the flow path, not the batch)', async function () {
    const steps = [step('a', aliases.ok), step('b', aliases.ok), step('c', aliases.ok, ['a', 'b']), step('d', aliases.ok, ['c'])];
    const flow = await t.store.flowEnqueue({ queueName: queue, steps });
    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 4, intervalSeconds: 0.05 });
    runner.start();
    try {
      await waitFor(async () => (await t.store.flowFindById(flow.id))!.status === 'succeeded', { message: 'the flow succeeding' });
    } finally {
      await runner.stop();
    }
    const order = ran.map((run) => run.key);
    expect(order.slice(2)).to.deep.equal(['c', 'd']);
    expect(order.slice(0, 2).sort()).to.deep.equal(['a', 'b']);
  });

  it("onParentFailure 'fail' (the default) fails the step unrun, and cascades to its own dependents", async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [
        step('fetch', aliases.fail),
        step('thumb', aliases.ok, ['fetch']),
        step('notify', aliases.ok, ['thumb']),
        step('cleanup', aliases.ok, ['notify'], { onParentFailure: 'run' }),
      ],
    });
    expect(await drain()).to.equal(2); // fetch, then cleanup
    expect(await statuses(flow.id)).to.deep.equal({ fetch: 'failed', thumb: 'failed', notify: 'failed', cleanup: 'success' });
    expect(ran.map((run) => run.key)).to.deep.equal(['fetch', 'cleanup']);
    expect(ran[1]!.parents).to.deep.equal({ notify: { status: 'failed', output: '' } });
    const found = await t.store.flowFindById(flow.id);
    expect(found!.status).to.equal('failed');
    expect(detailMessages(found!.items['thumb']!.details)).to.deep.equal(["Not run: parent step 'fetch' failed (onParentFailure 'fail')"]);
    expect(detailMessages(found!.items['notify']!.details)).to.deep.equal(["Not run: parent step 'thumb' failed (onParentFailure 'fail')"]);
    expect(found!.items['thumb']).to.include({ attempts: 0 });
    expect(found!.items['thumb']!.completedAt).to.be.instanceOf(Date);
  });

  it("onParentFailure 'skip' cancels the step unrun; it counts as not succeeded for its children", async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [
        step('fetch', aliases.fail),
        step('thumb', aliases.ok, ['fetch'], { onParentFailure: 'skip' }),
        step('after', aliases.ok, ['thumb'], { onParentFailure: 'skip' }),
        step('report', aliases.ok, ['thumb'], { onParentFailure: 'run' }),
      ],
    });
    await drain();
    expect(await statuses(flow.id)).to.deep.equal({ fetch: 'failed', thumb: 'canceled', after: 'canceled', report: 'success' });
    const found = await t.store.flowFindById(flow.id);
    expect(detailMessages(found!.items['thumb']!.details)).to.deep.equal(["Skipped: parent step 'fetch' failed (onParentFailure 'skip')"]);
    expect(ran.find((run) => run.key === 'report')!.parents).to.deep.equal({ thumb: { status: 'canceled', output: '' } });
    expect(found!.status).to.equal('failed');
  });

  it("onParentFailure 'run' runs the step anyway; ctx.parentOutputs shows the failed parent and its output", async function () {
    const broken = uniqueAlias('BrokenWithOutput');
    await t.store.taskHandlerAdd(
      defineTask({
        alias: broken,
        handle(ctx) {
          ctx.setOutput('{"partial":true}');
          throw new PermanentError('no luck');
        },
      }),
      true,
    );
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [step('left', broken), step('right', aliases.ok), step('join', aliases.ok, ['left', 'right'], { onParentFailure: 'run' })],
    });
    await drain();
    expect(await statuses(flow.id)).to.deep.equal({ left: 'failed', right: 'success', join: 'success' });
    expect(ran.find((run) => run.key === 'join')!.parents).to.deep.equal({
      left: { status: 'failed', output: '{"partial":true}' },
      right: { status: 'success', output: 'out:right' },
    });
  });

  it('a parent retried twice releases its children only after its final attempt', async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [step('parent', aliases.flaky), step('child', aliases.ok, ['parent'])],
    });
    for (const attempt of [1, 2]) {
      const item = await t.store.taskQueueProcessNext(queue);
      expect(item, `attempt ${attempt}`).to.include({ flowKey: 'parent', status: 'queued', attempts: attempt });
      expect(await statuses(flow.id)).to.deep.equal({ parent: 'queued', child: 'waiting' });
      await waitFor(async () => (await t.store.taskQueueNextDueAt(queue))!.getTime() <= Date.now(), { message: 'the retry due' });
    }
    expect(await t.store.taskQueueProcessNext(queue)).to.include({ flowKey: 'parent', status: 'success', attempts: 3 });
    expect(await statuses(flow.id)).to.deep.equal({ parent: 'success', child: 'queued' });
    expect(await drain()).to.equal(1);
    expect(ran.map((run) => run.key)).to.deep.equal(['parent', 'parent', 'parent', 'child']);
    expect(ran[3]!.parents).to.deep.equal({ parent: { status: 'success', output: 'out:parent' } });
  });

  it('ctx.parentOutputs is {} for a task outside any flow', async function () {
    await t.store.taskDefinitionEnqueueByAlias(queue, aliases.ok, { key: 'plain' });
    const item = await t.store.taskQueueProcessNext(queue);
    expect(item).to.include({ status: 'success', flowId: null, flowKey: null });
    expect(ran).to.deep.equal([{ key: 'plain', parents: {} }]);
  });

  it('steps may name their own queue, priority, attempts and delay; a released step is due at its release', async function () {
    const other = uniqueQueue();
    const runAt = new Date(Date.now() + 3_600_000);
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [
        step('first', aliases.ok, [], { priority: 5, maxAttempts: 4 }),
        step('elsewhere', aliases.ok, ['first'], { queueName: other }),
        step('later', aliases.ok, ['first'], { runAt }),
      ],
    });
    expect(flow.items['first']).to.include({ priority: 5, maxAttempts: 4 });
    expect(flow.items['elsewhere']!.queueName).to.equal(other);
    await drain();
    const found = await t.store.flowFindById(flow.id);
    expect(found!.items['elsewhere']!.status).to.equal('queued');
    expect(found!.items['elsewhere']!.availableAt.getTime()).to.be.at.most(Date.now());
    expect(found!.items['later']!.status).to.equal('queued');
    expect(found!.items['later']!.availableAt.getTime()).to.equal(runAt.getTime());
    expect((await t.store.taskQueueProcessNext(other))?.flowKey).to.equal('elsewhere');
  });

  it('batchEnqueue runs the completion step once every task ended, however', async function () {
    const batch = await t.store.batchEnqueue({
      queueName: queue,
      tasks: [
        { alias: aliases.ok, params: { key: 'one' } },
        { alias: aliases.fail, params: { key: 'two' } },
        { key: 'three', alias: aliases.ok, params: { key: 'three' } },
      ],
      onComplete: { alias: aliases.ok, params: { key: 'done' } },
    });
    expect(Object.keys(batch.items).sort()).to.deep.equal(['onComplete', 'task-0', 'task-1', 'three']);
    expect(batch.items['onComplete']!.status).to.equal('waiting');
    await drain();
    const done = ran.filter((run) => run.key === 'done');
    expect(done).to.have.length(1);
    expect(done[0]!.parents).to.deep.equal({
      'task-0': { status: 'success', output: 'out:one' },
      'task-1': { status: 'failed', output: 'out:two' },
      three: { status: 'success', output: 'out:three' },
    });
    expect((await t.store.flowFindById(batch.id))!.status).to.equal('failed');
  });

  it('flowCancelById cancels the steps that have not started; a running step finishes and releases nothing', async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [step('a', aliases.ok), step('b', aliases.ok), step('c', aliases.ok, ['a', 'b'])],
    });
    const [claimed] = await t.store.taskQueueClaim(queue, 1);
    expect(claimed!.flowKey).to.equal('a');
    const canceled = await t.store.flowCancelById(flow.id);
    expect(Object.fromEntries(Object.entries(canceled.items).map(([key, item]) => [key, item.status]))).to.deep.equal({
      a: 'running',
      b: 'canceled',
      c: 'canceled',
    });
    expect(canceled.status).to.equal('running');
    expect(detailMessages(canceled.items['c']!.details)).to.deep.equal(['Task canceled (flow canceled)']);
    await t.store.taskQueueExecute(claimed!);
    expect(await statuses(flow.id)).to.deep.equal({ a: 'success', b: 'canceled', c: 'canceled' });
    expect((await t.store.flowFindById(flow.id))!.status).to.equal('canceled');
    expect(await drain()).to.equal(0);
    await expectNotFound(() => t.store.flowCancelById('no-such-flow'));
    expect(await t.store.flowFindById('no-such-flow')).to.equal(null);
  });

  it('taskQueueCancelById of a queued or waiting step lets its children meet it as a failure', async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [
        step('a', aliases.ok),
        step('b', aliases.ok, ['a']),
        step('c', aliases.ok, ['b'], { onParentFailure: 'run' }),
        step('d', aliases.ok, ['a']),
      ],
    });
    await t.store.taskQueueCancelById(flow.items['b']!.id); // waiting
    expect(await statuses(flow.id)).to.deep.equal({ a: 'queued', b: 'canceled', c: 'queued', d: 'waiting' });
    await t.store.taskQueueCancelById(flow.items['a']!.id); // queued
    expect(await statuses(flow.id)).to.deep.equal({ a: 'canceled', b: 'canceled', c: 'queued', d: 'failed' });
    await drain();
    expect(ran.map((run) => run.key)).to.deep.equal(['c']);
    expect(ran[0]!.parents).to.deep.equal({ b: { status: 'canceled', output: '' } });
  });

  it('taskQueueCancelMany cancels the waiting steps of a flow in one write; their release revives no canceled child', async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [
        step('a', aliases.ok),
        step('b', aliases.ok, ['a']),
        step('c', aliases.ok, ['b'], { onParentFailure: 'run' }),
        step('d', aliases.ok, ['a']),
        step('e', aliases.ok, ['a']),
      ],
    });
    await t.store.taskQueueCancelById(flow.items['e']!.id);
    const result = await t.store.taskQueueCancelMany({ queueName: queue, status: 'waiting' });
    expect(result).to.deep.equal({ matched: 3, changed: 3, skipped: 0, conflicts: 0 });
    expect(await statuses(flow.id)).to.deep.equal({ a: 'queued', b: 'canceled', c: 'canceled', d: 'canceled', e: 'canceled' });
    await t.store.taskQueueCancelById(flow.items['a']!.id);
    await drain();
    expect(ran, 'nothing ran').to.deep.equal([]);
  });

  it('taskQueueCancelById of a running step ends it and lets its children meet it as a failure, in one write', async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [step('a', aliases.ok), step('b', aliases.ok, ['a']), step('c', aliases.ok, ['a'], { onParentFailure: 'run' })],
    });
    const [claimed] = await t.store.taskQueueClaim(queue, 1);
    expect(claimed!.flowKey).to.equal('a');
    expect((await t.store.taskQueueCancelById(claimed!.id)).status).to.equal('canceled');
    expect(await statuses(flow.id)).to.deep.equal({ a: 'canceled', b: 'failed', c: 'queued' });
    const late = await t.store.taskQueueExecute(claimed!); // the canceled holder's late run records nothing
    expect(late === null || late.recorded === false).to.equal(true);
    expect((await t.store.taskQueueFindById(claimed!.id))!.status).to.equal('canceled');
    await drain();
    const joins = ran.filter((run) => run.key === 'c');
    expect(joins).to.have.length(1);
    expect(joins[0]!.parents).to.deep.equal({ a: { status: 'canceled', output: '' } });
    expect((await t.store.flowFindById(flow.id))!.status).to.not.equal('running');
  });

  it('a requeued step that was canceled while waiting waits again; a finished parent is counted once', async function () {
    const flow = await t.store.flowEnqueue({ queueName: queue, steps: [step('a', aliases.ok), step('b', aliases.ok, ['a'])] });
    await t.store.taskQueueCancelById(flow.items['b']!.id);
    expect((await t.store.taskQueueRequeueById(flow.items['b']!.id)).status).to.equal('waiting');
    await drain();
    expect(ran.map((run) => run.key)).to.deep.equal(['a', 'b']);
    // Requeueing the finished parent runs it again, but its child is not released a second time.
    await t.store.taskQueueUpdate({ id: flow.items['a']!.id, status: 'failed' });
    await t.store.taskQueueRequeueById(flow.items['a']!.id);
    await drain();
    expect(ran.map((run) => run.key)).to.deep.equal(['a', 'b', 'a']);
    const rows = (await t.store.knex(TABLES.queue).where({ id: flow.items['b']!.id }).select('waiting_parents')) as {
      waiting_parents: number;
    }[];
    expect(Number(rows[0]!.waiting_parents)).to.equal(0);
  });

  it('the sweep fails a stale flow step out of attempts and releases its children in the same write', async function () {
    const flow = await t.store.flowEnqueue({
      queueName: queue,
      steps: [
        step('stuck', aliases.ok),
        step('after', aliases.ok, ['stuck'], { onParentFailure: 'run' }),
        step('x', aliases.ok, ['stuck']),
      ],
    });
    const [claimed] = await t.store.taskQueueClaim(queue, 1);
    await backdateRunning(t.store, claimed!.id, 120_000);
    expect(await t.store.taskQueueUnstuck(queue, 1)).to.equal(1);
    expect(await statuses(flow.id)).to.deep.equal({ stuck: 'failed', after: 'queued', x: 'failed' });
    const stuck = (await t.store.taskQueueFindById(claimed!.id))!;
    expect(detailMessages(stuck.details)).to.deep.equal(['Task started', 'Failed forcefully after 1 minutes timeout']);
    // The late finish of the reclaimed attempt is fenced out.
    const late = await t.store.taskQueueExecute(claimed!);
    expect(late?.recorded ?? false).to.equal(false);
    expect(await drain()).to.equal(1);
    // 'stuck' ran once more in the late attempt above; 'after' ran once, released by the sweep alone.
    expect(ran.map((run) => run.key).filter((key) => key !== 'stuck')).to.deep.equal(['after']);
  });

  it('taskQueueStats counts waiting steps', async function () {
    await t.store.flowEnqueue({ queueName: queue, steps: [step('a', aliases.ok), step('b', aliases.ok, ['a'])] });
    expect(await t.store.taskQueueStats({ queueName: queue })).to.include({ queued: 1, waiting: 1 });
    expect(await t.store.taskQueueList({ queueName: queue, status: 'waiting' })).to.have.length(1);
  });
});

async function expectNotFound(action: () => Promise<unknown>): Promise<void> {
  const error = await action().then(
    () => null,
    (caught: unknown) => caught as { code?: string },
  );
  expect(error?.code).to.equal('NOT_FOUND');
}
