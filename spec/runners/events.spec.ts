import { expect } from 'chai';
import { PermanentError, TaskQueueRunner } from '../../lib/index.js';
import { forEachDialect, waitFor } from '../support/index.js';
import { handlerRegistrar, recordEvents, recordingLogger, useFreshQueue } from '../support/runner-helpers.js';

forEachDialect('TaskQueueRunner events', (t) => {
  let queue: string;

  useFreshQueue((name) => {
    queue = name;
  });

  const register = handlerRegistrar(t, 'Evt');

  it('a task failing on attempt 1 then succeeding emits task:start, task:retry, task:start, task:success', async function () {
    const attempts: number[] = [];
    const alias = await register({
      maxAttempts: 3,
      backoff: { type: 'fixed', delayMs: 0 },
      handle(ctx) {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error('first attempt fails');
      },
    });
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1 });
    const events = recordEvents(runner);
    const before = Date.now();
    runner.start();
    await waitFor(() => events.succeeded.length === 1, { timeoutMs: 20_000, message: 'the retried task succeeded' });
    await runner.stop();

    expect(events.order).to.deep.equal(['task:start', 'task:retry', 'task:start', 'task:success']);
    expect(attempts).to.deep.equal([1, 2]);
    expect(events.started.map((started) => [started.id, started.status, started.attempts])).to.deep.equal([
      [item.id, 'running', 1],
      [item.id, 'running', 2],
    ]);
    const [retry] = events.retried;
    expect(retry!.item.id).to.equal(item.id);
    expect(retry!.error).to.be.instanceOf(Error);
    expect(retry!.error.message).to.equal('first attempt fails');
    expect(retry!.availableAt).to.be.instanceOf(Date);
    expect(retry!.availableAt.getTime()).to.be.at.least(before - 1000);
    expect(events.succeeded[0]!.id).to.equal(item.id);
    expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'success', attempts: 2 });
  });

  it('a PermanentError emits task:failure with that error, and the task fails with attempts left', async function () {
    const alias = await register({
      maxAttempts: 5,
      handle() {
        throw new PermanentError('do not retry');
      },
    });
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1 });
    const events = recordEvents(runner);
    runner.start();
    await waitFor(() => events.failed.length === 1, { timeoutMs: 20_000, message: 'task:failure' });
    await runner.stop();

    expect(events.order).to.deep.equal(['task:start', 'task:failure']);
    expect(events.failed[0]!.item.id).to.equal(item.id);
    expect(events.failed[0]!.error).to.be.instanceOf(PermanentError);
    expect(events.failed[0]!.error.message).to.equal('do not retry');
    expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'failed', attempts: 1 });
  });

  it('a handler returning false on its last attempt emits task:failure', async function () {
    const alias = await register({ handle: () => false });
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1 });
    const events = recordEvents(runner);
    runner.start();
    await waitFor(() => events.failed.length === 1, { timeoutMs: 20_000, message: 'task:failure' });
    await runner.stop();
    expect(events.failed[0]!.item.id).to.equal(item.id);
    expect(events.failed[0]!.error).to.be.instanceOf(Error);
    expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'failed', attempts: 1 });
  });

  it('listeners that throw do not stop the runner: later tasks are still processed, the errors are logged', async function () {
    const ran: string[] = [];
    const alias = await register({ handle: (ctx) => void ran.push(ctx.task!.id) });
    const logger = recordingLogger();
    const runner = new TaskQueueRunner(t.store, { queueName: queue, intervalSeconds: 0.1, logger });
    const events = recordEvents(runner);
    runner.on('task:start', () => {
      throw new Error('start listener boom');
    });
    runner.on('task:success', () => {
      throw new Error('success listener boom');
    });
    const after: string[] = [];
    runner.on('task:success', (item) => after.push(item.id)); // registered after a throwing one: still called
    runner.start();

    const first = await t.store.taskDefinitionEnqueueByAlias(queue, alias, {});
    await waitFor(() => after.length === 1, { timeoutMs: 20_000, message: 'the first task succeeded' });
    const later = await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}]);
    await waitFor(() => after.length === 3, { timeoutMs: 20_000, message: 'later tasks succeeded' });
    expect(runner.isRunning()).to.equal(true);
    await runner.stop();

    expect(ran.sort()).to.deep.equal([first, ...later].map((item) => item.id).sort());
    expect(after.sort()).to.deep.equal([...ran].sort());
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'success' })).to.equal(3);
    expect(events.errors).to.deep.equal([]);
    const logged = logger.lines.filter((line) => line.level === 'error').map((line) => line.message);
    expect(logged.filter((message) => message.includes("'task:start'"))).to.have.length(3);
    expect(logged.filter((message) => message.includes("'task:success'"))).to.have.length(3);
  });
});
