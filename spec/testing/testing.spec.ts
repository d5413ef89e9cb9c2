/**
 * taskstore/testing: drain and the assertions on every dialect's store, createTestStore on
 * its in-memory SQLite, and the assertions failing the way a test framework shows them
 * (node:test here, in a child process, as a user's test file would run).
 */
import { execFile } from 'node:child_process';
import { AssertionError } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { defineTask, type TaskStore } from '../../lib/index.js';
import { assertEnqueued, createTestStore, drain, refuteEnqueued } from '../../lib/testing/index.js';
import { expectError, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';

async function assertionMessage(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    expect(error).to.be.instanceOf(AssertionError);
    return (error as Error).message;
  }
  throw new Error('expected an AssertionError');
}

forEachDialect('taskstore/testing', (t) => {
  let store: TaskStore;
  beforeEach(() => {
    store = t.store;
  });

  it('drain runs the due tasks and what their handlers enqueue, and reports them', async () => {
    const queue = uniqueQueue();
    const ran: string[] = [];
    const welcome = defineTask<{ email: string }>({
      alias: uniqueAlias('Welcome'),
      handle: (ctx) => void ran.push(`welcome ${ctx.params.email}`),
    });
    const signup = defineTask<{ email: string }>({
      alias: uniqueAlias('Signup'),
      handle: async (ctx) => {
        ran.push(`signup ${ctx.params.email}`);
        await store.enqueue(welcome, { email: ctx.params.email }, { queueName: queue });
      },
    });
    for (const handler of [welcome, signup]) await store.taskHandlerAdd(handler, true);
    await store.enqueue(signup, { email: 'a@b.c' }, { queueName: queue });
    const other = await store.enqueue(signup, { email: 'other@b.c' }, { queueName: uniqueQueue() });

    const report = await drain(store, { queueName: queue });
    expect(ran).to.deep.equal(['signup a@b.c', 'welcome a@b.c']);
    expect(report.succeeded).to.equal(2);
    expect(report.processed.map((item) => item.status)).to.deep.equal(['success', 'success']);
    expect((await store.taskQueueFindById(other.id))?.status, 'another queue is left alone').to.equal('queued');

    await drain(store);
    expect(ran.slice(2)).to.deep.equal(['signup other@b.c', 'welcome other@b.c']);
  });

  it('drain leaves delayed tasks and backoffs unless runDelayed, which runs every attempt', async () => {
    const queue = uniqueQueue();
    let attempts = 0;
    const flaky = defineTask({
      alias: uniqueAlias('Flaky'),
      maxAttempts: 3,
      backoff: { type: 'fixed', delayMs: 60_000 },
      handle: () => {
        attempts += 1;
        throw new Error('down');
      },
    });
    await store.taskHandlerAdd(flaky, true);
    const delayed = await store.enqueue(flaky, {}, { queueName: queue, delayMs: 60_000 });
    expect((await drain(store, { queueName: queue })).processed).to.deep.equal([]);
    expect(attempts).to.equal(0);

    const report = await drain(store, { queueName: queue, runDelayed: true });
    expect(attempts).to.equal(3);
    expect([report.retried, report.failed, report.succeeded]).to.deep.equal([2, 1, 0]);
    expect((await store.taskQueueFindById(delayed.id))?.status).to.equal('failed');
  });

  it('drain stops a handler that enqueues itself without end at maxTasks', async () => {
    const queue = uniqueQueue();
    const forever: ReturnType<typeof defineTask> = defineTask({
      alias: uniqueAlias('Forever'),
      handle: async () => {
        await store.enqueue(forever, {}, { queueName: queue });
      },
    });
    await store.taskHandlerAdd(forever, true);
    await store.enqueue(forever, {}, { queueName: queue });
    await expectError(() => drain(store, { queueName: queue, maxTasks: 5 }), 'INVALID_STATE', /5 tasks ran and more are queued/);
    await expectError(() => drain(store, { maxTasks: 0 }), 'INVALID_ARGUMENT');
  });

  it('assertEnqueued matches parameters partially and says what is there when nothing matches', async () => {
    const queue = uniqueQueue();
    const mail = defineTask<{ email: string; tags: string[]; profile: { plan: string; seats: number } }>({
      alias: uniqueAlias('Mail'),
      handle: () => {},
    });
    await store.taskHandlerAdd(mail, true);
    await store.enqueue(mail, { email: 'a@b.c', tags: ['x', 'y'], profile: { plan: 'pro', seats: 3 } }, { queueName: queue });

    const found = await assertEnqueued(store, { alias: mail.alias, params: { email: 'a@b.c', profile: { plan: 'pro' } } });
    expect(found).to.have.length(1);
    await assertEnqueued(store, { alias: mail.alias, queueName: queue, params: { tags: ['x', 'y'] }, count: 1 });

    const message = await assertionMessage(() => assertEnqueued(store, { alias: mail.alias, params: { email: 'z@b.c' } }));
    expect(message).to.include(`expected at least one queued task '${mail.alias}' with params matching { email: 'z@b.c' }; found 0`);
    expect(message).to.include(`'${mail.alias}' in queue '${queue}', queued, params { email: 'a@b.c'`);
    expect(await assertionMessage(() => assertEnqueued(store, { alias: mail.alias, params: { tags: ['x'] } }))).to.include('found 0');
    expect(await assertionMessage(() => assertEnqueued(store, { alias: mail.alias, count: 2 }))).to.include('expected exactly 2');
    expect(await assertionMessage(() => assertEnqueued(store, { alias: 'NoSuchTask' }))).to.include('found 0');
    await expectError(() => assertEnqueued(store, { status: 'nope' as never }), 'INVALID_ARGUMENT');

    await refuteEnqueued(store, { alias: mail.alias, params: { email: 'z@b.c' } });
    await refuteEnqueued(store, { alias: mail.alias, status: 'success' });
    const refuted = await assertionMessage(() => refuteEnqueued(store, { alias: mail.alias }));
    expect(refuted).to.include(`expected no queued task '${mail.alias}'; found 1`);

    await drain(store, { queueName: queue });
    await refuteEnqueued(store, { alias: mail.alias });
    await assertEnqueued(store, { alias: mail.alias, status: 'success', count: 1 });
  });
});

describe('createTestStore', () => {
  it('opens a migrated store on its own in-memory SQLite with the handlers registered', async () => {
    const hello = defineTask<{ name: string }>({ alias: 'Hello', handle: () => {} });
    const first = await createTestStore([hello]);
    const second = await createTestStore();
    try {
      expect(first.dialect).to.equal('sqlite');
      expect((await first.taskDefinitionFindByAlias('Hello'))?.alias).to.equal('Hello');
      await first.enqueue(hello, { name: 'x' });
      await assertEnqueued(first, { alias: 'Hello', params: { name: 'x' } });
      await refuteEnqueued(second, { alias: 'Hello' }); // a database of its own
      expect(await second.taskDefinitionFindByAlias('Hello')).to.equal(null);
      expect((await drain(first)).succeeded).to.equal(1);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('taskstore/testing under node:test', () => {
  it("fails a user's test with the assertion's message, and passes the right one", async function () {
    this.timeout(30_000);
    const testing = new URL('../../lib/testing/index.js', import.meta.url).href;
    const taskstore = new URL('../../lib/index.js', import.meta.url).href;
    const dir = await mkdtemp(join(tmpdir(), 'taskstore-node-test-'));
    const file = join(dir, 'user.test.mjs');
    await writeFile(
      file,
      `import { test } from 'node:test';
import { defineTask } from '${taskstore}';
import { createTestStore, drain, assertEnqueued } from '${testing}';
const welcome = defineTask({ alias: 'SendWelcomeEmail', handle: () => {} });
test('passes', async () => {
  const store = await createTestStore([welcome]);
  await store.enqueue(welcome, { email: 'a@b.c' }, { queueName: 'emails' });
  await assertEnqueued(store, { alias: 'SendWelcomeEmail', params: { email: 'a@b.c' } });
  await drain(store, { queueName: 'emails' });
  await store.close();
});
test('fails', async () => {
  const store = await createTestStore([welcome]);
  try { await assertEnqueued(store, { alias: 'SendWelcomeEmail' }); } finally { await store.close(); }
});
`,
    );
    try {
      const output = await new Promise<string>((resolve) => {
        execFile(
          process.execPath,
          ['--test', '--test-reporter=tap', file],
          { cwd: fileURLToPath(new URL('.', import.meta.url)) },
          (_error, stdout) => resolve(stdout),
        );
      });
      expect(output).to.match(/^ok 1 - passes/m);
      expect(output).to.match(/^not ok 2 - fails/m);
      expect(output).to.include("expected at least one queued task 'SendWelcomeEmail'; found 0");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
