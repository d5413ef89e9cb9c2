/**
 * The `taskstore` CLI, spawned as the built bin against each dialect's test database:
 * every command's human and JSON output, its exit code, and one-line errors.
 */
import { expect } from 'chai';
import { createTestDatabase, forEachDialect, freshMigrationSteps, waitFor } from '../support/index.js';
import type { TaskQueueItem } from '../../lib/index.js';
import { handlersFixture, hasNoStack, runCli, startCli } from './cli-helpers.js';

forEachDialect('taskstore CLI', (t) => {
  let fixture: Awaited<ReturnType<typeof handlersFixture>>;
  const cli = (...args: string[]) => runCli(['--database', t.url, ...args], { cwd: fixture.dir });

  before(async () => {
    fixture = await handlersFixture();
  });
  after(async () => {
    await fixture.cleanup();
  });

  async function definition(alias: string) {
    return (await t.store.taskDefinitionFindByAlias(alias)) ?? t.store.taskDefinitionCreate({ alias });
  }

  it('migrate up is idempotent and migrate down needs --yes', async () => {
    const up = await cli('migrate');
    expect(up.code, up.stderr).to.equal(0);
    expect(up.stdout).to.match(/tables are up to date/);
    expect((await cli('migrate', 'up')).code).to.equal(0);
    const down = await cli('migrate', 'down');
    expect(down.code).to.equal(2);
    expect(down.stderr).to.match(/--yes/);
    expect(await t.store.knex.schema.hasTable('task_queue')).to.equal(true);
  });

  it('enqueue takes --param, --json, --delay and --priority, and prints the new id', async () => {
    await definition('Echo');
    const result = await cli(
      'enqueue',
      'Echo',
      '--queue',
      'mail',
      '--param',
      'name=Tom',
      '--param',
      'eq=a=b',
      '--json',
      '{"n":1,"name":"x"}',
      '--delay',
      '5m',
      '--priority',
      '7',
    );
    expect(result.code, result.stderr).to.equal(0);
    const id = /enqueued (\S+)/.exec(result.stdout)?.[1];
    expect(id, result.stdout).to.be.a('string');
    const item = (await t.store.taskQueueFindById(id!))!;
    expect(item.queueName).to.equal('mail');
    expect(item.priority).to.equal(7);
    expect(item.parameters).to.include({ name: 'Tom', eq: 'a=b', n: 1 });
    expect(item.availableAt.getTime()).to.be.greaterThan(Date.now() + 4 * 60_000);
  });

  it('enqueue --json alone prints the task as JSON; an unknown alias exits 3 with one line', async () => {
    await definition('Echo');
    const result = await cli('enqueue', 'Echo', '--json');
    expect(result.code, result.stderr).to.equal(0);
    const item = JSON.parse(result.stdout) as TaskQueueItem;
    expect(item.status).to.equal('queued');
    expect(item.queueName).to.equal('default');
    const missing = await cli('enqueue', 'NoSuchAlias');
    expect(missing.code).to.equal(3);
    expect(missing.stderr.trim().split('\n')).to.have.length(1);
    expect(missing.stderr).to.include("no task definition with alias 'NoSuchAlias'");
    const badJson = await cli('enqueue', 'Echo', '--json', '{nope');
    expect(badJson.code).to.equal(2);
    expect(badJson.stderr).to.match(/--json: not valid JSON/);
  });

  it('list filters by status, queue and alias, as a table or JSON', async () => {
    const echo = await definition('Echo');
    await definition('Fail');
    const a = await t.store.taskDefinitionEnqueueByAlias('q1', 'Echo', {});
    await t.store.taskDefinitionEnqueueByAlias('q2', 'Fail', {});
    const b = await t.store.taskDefinitionEnqueueByAlias('q2', 'Echo', {});
    await t.store.taskQueueCancelById(b.id);

    const table = await cli('list');
    expect(table.code, table.stderr).to.equal(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^ID\s+ALIAS\s+QUEUE\s+STATUS\s+ATTEMPTS\s+CREATED\s+TOOK$/);
    expect(lines).to.have.length(4);
    // aligned: every row's ALIAS column starts where the header's does
    const aliasColumn = lines[0]!.indexOf('ALIAS');
    for (const row of lines.slice(1)) expect(row.slice(aliasColumn)).to.match(/^(Echo|Fail) /);

    const json = await cli('list', '--json', '--status', 'canceled');
    expect((JSON.parse(json.stdout) as TaskQueueItem[]).map((item) => item.id)).to.deep.equal([b.id]);
    const byQueue = JSON.parse((await cli('list', '--json', '--queue', 'q1')).stdout) as TaskQueueItem[];
    expect(byQueue.map((item) => item.id)).to.deep.equal([a.id]);
    const byAlias = JSON.parse((await cli('list', '--json', '--alias', 'Echo', '--limit', '1')).stdout) as TaskQueueItem[];
    expect(byAlias).to.have.length(1);
    expect(byAlias[0]!.taskId).to.equal(echo.id);
    const bad = await cli('list', '--status', 'nope');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/unknown status 'nope'/);
  });

  it('show prints fields, parameters and details; an unknown id exits 3 without a stack', async () => {
    await definition('Echo');
    const item = await t.store.taskDefinitionEnqueueByAlias('', 'Echo', { who: '<b>Ann</b>' });
    const shown = await cli('show', item.id);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(new RegExp(`^id:\\s+${item.id}$`, 'm'));
    expect(shown.stdout).to.match(/^alias:\s+Echo$/m);
    expect(shown.stdout).to.include('"who": "<b>Ann</b>"');
    const json = JSON.parse((await cli('show', item.id, '--json')).stdout) as TaskQueueItem;
    expect(json.id).to.equal(item.id);
    const missing = await cli('show', 'no-such-id');
    expect(missing.code).to.equal(3);
    expect(missing.stderr).to.equal("taskstore: no task with id 'no-such-id'\n");
    expect(hasNoStack(missing.stderr)).to.equal(true);
  });

  it('show prints the progress a handler reported; cancel cancels a running task and says so', async () => {
    await definition('Echo');
    const queued = await t.store.taskDefinitionEnqueueByAlias('live', 'Echo', {});
    const running = await t.store.taskQueueClaimNext('live');
    expect((await cli('show', queued.id)).stdout).to.not.match(/^progress:/m);
    // What ctx.setProgress writes, written here by hand: no handler runs in this test.
    await t.store
      .knex('task_queue')
      .where({ id: queued.id })
      .update({ progress_percent: 40, progress_data: '{"step":"resize"}', progress_updated_at: new Date() });
    expect((await cli('show', queued.id)).stdout).to.match(/^progress:\s+40% at \S+ \S+ \{"step":"resize"\}$/m);
    expect(JSON.parse((await cli('show', queued.id, '--json')).stdout)).to.deep.include({
      progress: {
        percent: 40,
        data: { step: 'resize' },
        updatedAt: JSON.parse(JSON.stringify((await t.store.taskQueueFindById(queued.id))!.progress!.updatedAt)),
      },
    });
    const canceled = await cli('cancel', running!.id);
    expect(canceled.code, canceled.stderr).to.equal(0);
    expect(canceled.stdout).to.equal(`canceled ${running!.id} while running: its handler is told to stop (ctx.signal) (now canceled)\n`);
    expect(await t.store.taskQueueFindById(running!.id)).to.include({ status: 'canceled', claimToken: null });
  });

  it('stats counts by status; retry and cancel move tasks, and refuse the wrong state with exit 4', async () => {
    await definition('Echo');
    const queued = await t.store.taskDefinitionEnqueueByAlias('', 'Echo', {});
    const canceled = await cli('cancel', queued.id);
    expect(canceled.code, canceled.stderr).to.equal(0);
    expect((await t.store.taskQueueFindById(queued.id))!.status).to.equal('canceled');
    const again = await cli('cancel', queued.id);
    expect(again.code).to.equal(4);
    expect(again.stderr.trim().split('\n')).to.have.length(1);
    const retried = await cli('retry', queued.id);
    expect(retried.code, retried.stderr).to.equal(0);
    expect((await t.store.taskQueueFindById(queued.id))!.status).to.equal('queued');
    const retryQueued = await cli('retry', queued.id);
    expect(retryQueued.code).to.equal(4);
    const stats = JSON.parse((await cli('stats', '--json')).stdout) as Record<string, number>;
    expect(stats).to.include({ queued: 1, canceled: 0 });
    const table = await cli('stats');
    expect(table.stdout).to.match(/^queued\s+1$/m);
    expect(table.stdout).to.match(/^total\s+1$/m);
    expect((await cli('retry', 'missing-id')).code).to.equal(3);
  });

  it('flow prints the flow and its steps as an indented tree (or JSON); --cancel cancels; an unknown id exits 3', async () => {
    await definition('Echo');
    const flow = await t.store.flowEnqueue({
      queueName: 'cli-flow',
      steps: [
        { key: 'fetch', alias: 'Echo' },
        { key: 'thumb', alias: 'Echo', dependsOn: ['fetch'] },
        { key: 'large', alias: 'Echo', dependsOn: ['fetch'] },
        { key: 'notify', alias: 'Echo', dependsOn: ['thumb', 'large'] },
      ],
    });
    const shown = await cli('flow', flow.id);
    expect(shown.code, shown.stderr).to.equal(0);
    const lines = shown.stdout.trim().split('\n');
    expect(lines[0]).to.match(new RegExp(`^flow ${flow.id}: running \\(4 steps, queue cli-flow, created `));
    expect(lines[2]).to.match(/^STEP\s+ALIAS\s+STATUS\s+ATTEMPTS\s+TASK\s+AFTER$/);
    expect(lines.slice(3).map((row) => row.match(/^(\s*\S+)\s+Echo\s+(\S+)/)?.slice(1))).to.deep.equal([
      ['fetch', 'queued'],
      ['  thumb', 'waiting'],
      ['  large', 'waiting'],
      ['    notify', 'waiting'],
    ]);
    expect(lines.at(-1)).to.match(/thumb, large$/);
    const json = await cli('flow', flow.id, '--json');
    expect(JSON.parse(json.stdout)).to.deep.include({ id: flow.id, status: 'running' });
    const canceled = await cli('flow', flow.id, '--cancel', '--json');
    expect(canceled.code, canceled.stderr).to.equal(0);
    expect(JSON.parse(canceled.stdout).status).to.equal('canceled');
    const show = await cli('show', flow.items['notify']!.id);
    expect(show.stdout).to.include(`flow:`);
    expect(show.stdout).to.include(`(step notify; taskstore flow ${flow.id})`);
    const missing = await cli('flow', 'no-such-flow');
    expect(missing.code).to.equal(3);
    expect(missing.stderr.trim().split('\n')).to.have.length(1);
  });

  it('purge deletes finished tasks older than --older-than', async () => {
    await definition('Echo');
    const done = await t.store.taskDefinitionEnqueueByAlias('', 'Echo', {});
    await t.store.taskQueueCancelById(done.id);
    const pending = await t.store.taskDefinitionEnqueueByAlias('', 'Echo', {});
    const kept = await cli('purge', '--older-than', '7d');
    expect(kept.code, kept.stderr).to.equal(0);
    expect(kept.stdout).to.match(/^purged 0 tasks/);
    await waitFor(() => Date.now() > done.createdAt.getTime() + 1100, { message: 'a second passes' });
    const purged = await cli('purge', '--older-than', '1s', '--json');
    expect(JSON.parse(purged.stdout)).to.include({ purged: 1 });
    expect(await t.store.taskQueueFindById(done.id)).to.equal(null);
    expect(await t.store.taskQueueFindById(pending.id)).to.not.equal(null);
    expect((await cli('purge', '--older-than', 'soon')).code).to.equal(2);
  });

  it('run executes a handler directly: --key=a=b keeps a=b; a failure exits 1; an unknown alias 3', async () => {
    const ok = await cli('run', 'Echo', '--handlers', fixture.path, '--value=a=b', '--name', 'Tom');
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include('echo {"value":"a=b","name":"Tom","task_alias":"Echo"}');
    expect(ok.stdout).to.include('value=a=b');
    expect(await t.store.taskQueueCount()).to.equal(0);
    const failed = await cli('run', 'Fail', '--handlers', fixture.path);
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.include('failing on purpose');
    const unknown = await cli('run', 'Nope', '--handlers', fixture.path);
    expect(unknown.code).to.equal(3);
    const noHandlers = await cli('run', 'Echo');
    expect(noHandlers.code).to.equal(2);
  });

  it('work processes the queues given until SIGTERM, then exits 0', async function () {
    this.timeout(60_000);
    await definition('Echo');
    await definition('Fail');
    const child = startCli(
      ['--database', t.url, 'work', '--handlers', fixture.path, '--queue', 'a', '--queue', 'b', '--interval', '200ms'],
      { cwd: fixture.dir },
    );
    try {
      await child.waitForOutput(/working queues a, b/);
      const items = [
        await t.store.taskDefinitionEnqueueByAlias('a', 'Echo', { value: 1 }),
        await t.store.taskDefinitionEnqueueByAlias('b', 'Echo', { value: 2 }),
        await t.store.taskDefinitionEnqueueByAlias('b', 'Fail', {}),
        await t.store.taskDefinitionEnqueueByAlias('c', 'Echo', {}),
      ];
      await waitFor(
        async () => {
          const statuses = await Promise.all(items.slice(0, 3).map(async (item) => (await t.store.taskQueueFindById(item.id))!.status));
          return statuses.join() === 'success,success,failed';
        },
        { timeoutMs: 20_000, intervalMs: 100, message: 'the worker finishes the tasks of queues a and b' },
      );
      await child.waitForOutput(/failure\s+Fail/);
      expect((await t.store.taskQueueFindById(items[3]!.id))!.status, 'queue c is not worked').to.equal('queued');
    } finally {
      child.process.kill('SIGTERM');
    }
    const result = await child.done(30_000);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/stopped: 2 succeeded, 1 failed/);
  });

  it('definitions lists the definitions', async () => {
    await t.store.taskDefinitionCreate({ alias: 'Zeta', title: 'Last one' });
    await t.store.taskDefinitionCreate({ alias: 'Alpha' });
    const table = await cli('definitions');
    expect(table.code, table.stderr).to.equal(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^ALIAS\s+STATUS/);
    expect(lines.slice(1).map((row) => row.split(/\s+/)[0])).to.deep.equal(['Alpha', 'Zeta']);
    const json = JSON.parse((await cli('definitions', '--json')).stdout) as { alias: string }[];
    expect(json.map((entry) => entry.alias)).to.deep.equal(['Alpha', 'Zeta']);
  });

  it('on a fresh database, migrate says what it created and definitions create makes the definition to enqueue for', async () => {
    const fresh = await createTestDatabase(t.dialect);
    const run = (...args: string[]) => runCli(['--database', fresh.url, ...args], { cwd: fixture.dir });
    try {
      const steps = `migrations ${freshMigrationSteps(t.dialect).join(', ')}`;
      const first = await run('migrate');
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.equal(
        `created tables task_definition, task_queue, task_schedule, task_queue_settings, task_queue_starts, task_queue_flow, task_queue_dependency, task_queue_runners (${t.dialect}; ${steps})\n`,
      );
      const again = await run('migrate', '--json');
      expect(JSON.parse(again.stdout)).to.deep.equal({ migrated: 'up', dialect: t.dialect, applied: [], createdTables: [] });

      // docs/cli.md's opening example
      const created = await run('definitions', 'create', 'SendWelcomeEmail', '--max-attempts', '3', '--title', 'Welcome mail');
      expect(created.code, created.stderr).to.equal(0);
      expect(created.stdout).to.match(/^created definition SendWelcomeEmail \([0-9a-f-]{36}, 3 attempts per task\)\n$/);
      const enqueued = await run('enqueue', 'SendWelcomeEmail', '--queue', 'emails', '--param', 'email=ann@example.com');
      expect(enqueued.code, enqueued.stderr).to.equal(0);
      expect(enqueued.stdout).to.match(/^enqueued \S+ \(SendWelcomeEmail on queue emails\)/);

      const json = await run('definitions', 'create', 'Plain', '--description', 'no retries', '--json');
      expect(json.code, json.stderr).to.equal(0);
      expect(JSON.parse(json.stdout)).to.include({
        alias: 'Plain',
        title: 'Plain',
        description: 'no retries',
        maxAttempts: 1,
        status: 'active',
      });
      const listed = JSON.parse((await run('definitions', 'list', '--json')).stdout) as {
        alias: string;
        title: string;
        maxAttempts: number;
      }[];
      expect(listed.map(({ alias, title, maxAttempts }) => [alias, title, maxAttempts])).to.deep.equal([
        ['Plain', 'Plain', 1],
        ['SendWelcomeEmail', 'Welcome mail', 3],
      ]);

      const duplicate = await run('definitions', 'create', 'send-welcome_email');
      expect(duplicate.code).to.equal(4);
      expect(duplicate.stderr).to.match(/^taskstore: .*'send-welcome_email' already exists\n$/);
      for (const [args, message] of [
        [['definitions', 'create'], /missing the alias/],
        [['definitions', 'create', 'X', '--max-attempts', '0'], /--max-attempts: 0 is out of range \(1\.\.1,000\)/],
        [['definitions', 'create', 'X', '--deleted'], /--deleted applies to 'definitions list' only/],
        [['definitions', '--title', 'X'], /--title applies to 'definitions create' only/],
        [['definitions', 'remove', 'X'], /expected 'list' or 'create' \(got 'remove'\)/],
      ] as const) {
        const result = await run(...args);
        expect(result.code, args.join(' ')).to.equal(2);
        expect(result.stderr, args.join(' ')).to.match(message);
        expect(hasNoStack(result.stderr)).to.equal(true);
      }
      expect((JSON.parse((await run('definitions', '--json')).stdout) as unknown[]).length).to.equal(2);
    } finally {
      await fresh.drop();
    }
  });
});
