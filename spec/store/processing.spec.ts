import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { defineTask } from '../../lib/index.js';
import type { TaskContext, TaskHandlerDefinition, TaskQueueItem } from '../../lib/index.js';
import { DETAILS_LINE, deferred, detailMessages, forEachDialect, uniqueAlias, uniqueQueue, within } from '../support/index.js';

forEachDialect('processing', (t) => {
  let queue: string;

  beforeEach(function () {
    queue = uniqueQueue();
  });

  async function register(definition: Omit<TaskHandlerDefinition, 'alias'> & { alias?: string }): Promise<string> {
    const alias = definition.alias ?? uniqueAlias('Proc');
    await t.store.taskHandlerAdd(defineTask({ ...definition, alias }), true);
    return alias;
  }

  it('runs the handler: success, completedAt, output, and details in order', async function () {
    const alias = await register({
      async handle(ctx) {
        await ctx.logInfo(`Hello ${ctx.getParam('name')}!`);
        await ctx.logError('an error line');
        await ctx.logSuccess('a success line');
        ctx.setOutput('{"sent":true}');
        return true;
      },
    });
    const enqueued = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { name: 'Tom' });
    const before = Date.now();
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done?.id).to.equal(enqueued.id);
    expect(done).to.include({ status: 'success', attempts: 1, output: '{"sent":true}', claimToken: null });
    expect(done?.completedAt?.getTime()).to.be.within(before - 1000, Date.now() + 1000);
    expect(detailMessages(done!.details)).to.deep.equal([
      'Task started',
      'Hello Tom!',
      'an error line',
      'a success line',
      'Task completed',
    ]);
    expect(await t.store.taskQueueFindById(enqueued.id)).to.deep.equal(done);
  });

  it('writes details timestamps in UTC', async function () {
    const alias = await register({ handle: () => true });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const before = new Date();
    const done = await t.store.taskQueueProcessNext(queue);
    const after = new Date();
    for (const line of done!.details.split('\n')) {
      const stamp = DETAILS_LINE.exec(line)![1]!;
      const at = Date.parse(`${stamp.replace(' ', 'T')}Z`);
      expect(at, line).to.be.within(Math.floor(before.getTime() / 1000) * 1000 - 1000, after.getTime() + 1000);
    }
  });

  it('treats a handler returning nothing as success', async function () {
    const alias = await register({ handle: () => undefined });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect((await t.store.taskQueueProcessNext(queue))?.status).to.equal('success');
  });

  it('gives the handler a per-run context', async function () {
    let seen:
      { params: unknown; strings: string[]; attempt: number; hasQueued: boolean; taskId: string | undefined; aborted: boolean } | undefined;
    const alias = await register({
      handle(ctx) {
        seen = {
          params: ctx.params,
          strings: ['n', 'f', 'yes', 'no', 's', 'missing', 'obj', 'nil'].map((key) => ctx.getParam(key)),
          attempt: ctx.attempt,
          hasQueued: ctx.hasQueuedTask(),
          taskId: ctx.task?.id,
          aborted: ctx.signal.aborted,
        };
      },
    });
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {
      n: 42,
      f: 1.5,
      yes: true,
      no: false,
      s: 'text',
      obj: { a: 1 },
      nil: null,
    });
    await t.store.taskQueueProcessNext(queue);
    expect(seen).to.not.equal(undefined);
    expect(seen!.params).to.deep.equal({ n: 42, f: 1.5, yes: true, no: false, s: 'text', obj: { a: 1 }, nil: null, task_alias: alias });
    expect(seen!.strings.slice(0, 6)).to.deep.equal(['42', '1.5', 'true', 'false', 'text', '']);
    expect(JSON.parse(seen!.strings[6]!)).to.deep.equal({ a: 1 });
    expect(seen!).to.include({ attempt: 1, hasQueued: true, taskId: item.id, aborted: false });
  });

  it('ctx.params.task_alias is the alias of the definition being run, even for an item stored without it, and when run directly', async function () {
    const seen: unknown[] = [];
    const alias = await register({
      handle(ctx) {
        seen.push({ ...ctx.params });
        seen.push(ctx.getParam('task_alias'));
      },
    });
    const definition = await t.store.taskDefinitionFindByAlias(alias);
    const raw = await t.store.taskQueueCreate({ taskId: definition!.id, queueName: queue, parameters: { n: 1 } });
    expect(raw.parameters).to.deep.equal({ n: 1 });
    await t.store.taskQueueProcessNext(queue);
    await t.store.taskQueueCreate({ taskId: definition!.id, queueName: queue, parameters: { task_alias: 'Stale', n: 2 } });
    await t.store.taskQueueProcessNext(queue);
    expect(await t.store.taskHandlerExecute(alias.toLowerCase(), { n: 3, task_alias: 'Given' })).to.equal(true);
    expect(seen).to.deep.equal([
      { n: 1, task_alias: alias },
      alias,
      { n: 2, task_alias: alias },
      alias,
      { n: 3, task_alias: alias },
      alias,
    ]);
  });

  it('taskQueueProcessTask processes a claimed item and returns true on success, false on failure', async function () {
    const ok = await register({ handle: () => true });
    const bad = await register({ handle: () => false });
    await t.store.taskDefinitionEnqueueByAlias(queue, ok, {}, { priority: 2 });
    await t.store.taskDefinitionEnqueueByAlias(queue, bad, {}, { priority: 1 });
    const first = await t.store.taskQueueClaimNext(queue);
    expect(await t.store.taskQueueProcessTask(first!)).to.equal(true);
    expect((await t.store.taskQueueFindById(first!.id))?.status).to.equal('success');
    const second = await t.store.taskQueueClaimNext(queue);
    expect(await t.store.taskQueueProcessTask(second!)).to.equal(false);
    expect((await t.store.taskQueueFindById(second!.id))?.status).to.equal('failed');
  });

  it('returns null from processNext on an empty queue', async function () {
    expect(await t.store.taskQueueProcessNext(queue)).to.equal(null);
  });

  it("fails an item whose definition does not exist with 'Task DOES NOT exist'", async function () {
    const item = await t.store.taskQueueCreate({ taskId: randomUUID(), queueName: queue });
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done?.id).to.equal(item.id);
    expect(done?.status).to.equal('failed');
    expect(done?.completedAt).to.be.instanceOf(Date);
    expect(detailMessages(done!.details)).to.include('Task DOES NOT exist');
  });

  it("retries an item without a handler while attempts remain, with 'No handler for alias: <alias>'", async function () {
    // During a rolling deploy another worker may already have the handler.
    const alias = uniqueAlias('Unhandled');
    await t.store.taskDefinitionCreate({ alias, maxAttempts: 3 });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const retried = await t.store.taskQueueProcessNext(queue);
    expect(retried?.status).to.equal('queued');
    expect(retried?.availableAt.getTime()).to.be.greaterThan(Date.now() - 1000);
    expect(detailMessages(retried!.details)).to.include(`No handler for alias: ${alias}`);
  });

  it("fails an item without a handler once attempts are used up, with 'No handler for alias: <alias>'", async function () {
    const alias = uniqueAlias('Unhandled');
    await t.store.taskDefinitionCreate({ alias });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done?.status).to.equal('failed');
    expect(detailMessages(done!.details)).to.include(`No handler for alias: ${alias}`);
  });

  it("fails on false with a 'Task failed' line when no attempts are left", async function () {
    const alias = await register({
      async handle(ctx) {
        await ctx.logError('nope');
        return false;
      },
    });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await t.store.taskQueueProcessNext(queue);
    expect(done).to.include({ status: 'failed', attempts: 1, claimToken: null });
    expect(done?.completedAt).to.be.instanceOf(Date);
    expect(detailMessages(done!.details)).to.deep.equal(['Task started', 'nope', 'Task failed']);
  });

  it('fails on a thrown error and keeps processing afterwards', async function () {
    const alias = await register({
      handle() {
        throw new Error('boom');
      },
    });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const first = await t.store.taskQueueProcessNext(queue);
    expect(first?.status).to.equal('failed');
    const messages = detailMessages(first!.details);
    expect(messages[0]).to.equal('Task started');
    expect(messages.at(-1)).to.match(/^Task failed\b/);
    expect(first!.details).to.include('boom');
    expect((await t.store.taskQueueProcessNext(queue))?.status).to.equal('failed');
  });

  it('fails on a thrown non-Error value', async function () {
    const alias = await register({
      handle() {
        throw 'just a string';
      },
    });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect((await t.store.taskQueueProcessNext(queue))?.status).to.equal('failed');
  });

  it('fails on a rejected promise', async function () {
    const alias = await register({ handle: () => Promise.reject(new Error('async boom')) });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect((await t.store.taskQueueProcessNext(queue))?.status).to.equal('failed');
  });

  it('aborts ctx.signal on timeout and fails the attempt even if the handler never settles', async function () {
    let signal: AbortSignal | undefined;
    const alias = await register({
      timeoutMs: 50,
      handle(ctx) {
        signal = ctx.signal;
        return new Promise<boolean>(() => undefined);
      },
    });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const done = await within(t.store.taskQueueProcessNext(queue), 10_000, 'processNext of a timed-out handler');
    expect(done?.status).to.equal('failed');
    expect(signal?.aborted).to.equal(true);
  });

  it('a handler that first reads ctx.signal after its timeout finds it already aborted', async function () {
    const timedOut = deferred();
    const late = deferred<boolean>();
    const alias = await register({
      timeoutMs: 30,
      async handle(ctx) {
        await timedOut.promise;
        late.resolve(ctx.signal.aborted);
        return true;
      },
    });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    try {
      // the handler is held until this resolves: only its timeout can end the attempt
      expect((await within(t.store.taskQueueProcessNext(queue), 10_000, 'processNext'))?.status).to.equal('failed');
    } finally {
      timedOut.resolve();
    }
    expect(await within(late.promise, 10_000, 'the late read of ctx.signal')).to.equal(true);
  });

  it('a handler that honours the abort fails on timeout as well', async function () {
    const alias = await register({
      timeoutMs: 30,
      handle(ctx) {
        return new Promise<boolean>((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
        });
      },
    });
    await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect((await within(t.store.taskQueueProcessNext(queue), 10_000, 'processNext'))?.status).to.equal('failed');
  });

  it('persists log lines while the handler runs, visible from another store', async function () {
    const reached = deferred();
    const release = deferred();
    const alias = await register({
      async handle(ctx) {
        await ctx.logInfo('halfway there');
        reached.resolve();
        await release.promise;
        return true;
      },
    });
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const observer = await t.openStore();
    const running = t.store.taskQueueProcessNext(queue);
    try {
      await within(reached.promise, 10_000, 'handler reaching its first log line');
      const midway = await observer.taskQueueFindById(item.id);
      expect(midway?.status).to.equal('running');
      expect(detailMessages(midway!.details)).to.deep.equal(['Task started', 'halfway there']);
    } finally {
      release.resolve();
    }
    expect((await running)?.status).to.equal('success');
  });

  it('keeps two concurrent runs of the same alias apart (params, logs, output)', async function () {
    const started = { a: deferred(), b: deferred() };
    const gate = deferred();
    const contexts: TaskContext[] = [];
    const alias = await register({
      async handle(ctx) {
        contexts.push(ctx);
        const who = ctx.getParam('who') as 'a' | 'b';
        await ctx.logInfo(`first ${who}`);
        started[who].resolve();
        await gate.promise;
        await ctx.logInfo(`second ${ctx.getParam('who')}`);
        ctx.setOutput(`output ${ctx.getParam('who')}`);
        return true;
      },
    });
    const a = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { who: 'a' });
    const b = await t.store.taskDefinitionEnqueueByAlias(queue, alias, { who: 'b' });
    const claimed = await t.store.taskQueueClaim(queue, 2);
    expect(claimed).to.have.length(2);
    const runs = claimed.map((item) => t.store.taskQueueProcessTask(item));
    try {
      await within(Promise.all([started.a.promise, started.b.promise]), 10_000, 'both handlers in flight');
    } finally {
      gate.resolve();
    }
    expect(await Promise.all(runs)).to.deep.equal([true, true]);
    expect(contexts[0]).to.not.equal(contexts[1]);

    const rows = new Map<string, TaskQueueItem | null>([
      ['a', await t.store.taskQueueFindById(a.id)],
      ['b', await t.store.taskQueueFindById(b.id)],
    ]);
    for (const [who, row] of rows) {
      expect(row?.output, who).to.equal(`output ${who}`);
      expect(detailMessages(row!.details), who).to.deep.equal(['Task started', `first ${who}`, `second ${who}`, 'Task completed']);
    }
  });

  it('processNext picks the highest priority item', async function () {
    const ran: number[] = [];
    const alias = await register({
      handle(ctx) {
        ran.push(Number(ctx.getParam('p')));
      },
    });
    for (const p of [1, 9, 5]) await t.store.taskDefinitionEnqueueByAlias(queue, alias, { p }, { priority: p });
    while (await t.store.taskQueueProcessNext(queue));
    expect(ran).to.deep.equal([9, 5, 1]);
  });
});
