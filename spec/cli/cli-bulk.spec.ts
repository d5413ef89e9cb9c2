/**
 * The operations commands of the `taskstore` CLI: bulk retry/cancel/delete on a filter (a dry
 * run without --yes), run-now, and list's search options and last-error column.
 */
import { expect } from 'chai';
import type { TaskStatus } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';
import { runCli } from './cli-helpers.js';

forEachDialect('taskstore CLI operations', (t) => {
  const cli = (...args: string[]) => runCli(['--database', t.url, ...args]);
  let taskId: string;
  let alias: string;
  beforeEach(async () => {
    alias = uniqueAlias('CliBulk');
    taskId = (await t.store.taskDefinitionCreate({ alias })).id;
  });
  const create = (queueName: string, status: TaskStatus, parameters: Record<string, string> = {}) =>
    t.store.taskQueueCreate({ taskId, queueName, status, parameters });

  it('bulk retry counts without --yes and writes nothing; with --yes retries exactly the filtered tasks, in batches', async () => {
    const [queue, other] = [uniqueQueue(), uniqueQueue()];
    for (let n = 0; n < 3; n++) await create(queue, 'failed');
    const kept = await create(queue, 'success');
    const elsewhere = await create(other, 'failed');

    const dry = await cli('bulk', 'retry', '--status', 'failed', '--queue', queue);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.equal('3 tasks would be retried (failed or canceled tasks of the filter); add --yes to retry them\n');
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'failed' })).to.equal(3);

    const done = await cli('bulk', 'retry', '--status', 'failed', '--queue', queue, '--batch-size', '2', '--yes', '--json');
    expect(done.code, done.stderr).to.equal(0);
    expect(JSON.parse(done.stdout)).to.deep.equal({ action: 'retry', dryRun: false, matched: 3, changed: 3, skipped: 0, conflicts: 0 });
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'queued' })).to.equal(3);
    expect((await t.store.taskQueueFindById(kept.id))!.status).to.equal('success');
    expect((await t.store.taskQueueFindById(elsewhere.id))!.status).to.equal('failed');
  });

  it('bulk cancel and delete take the search options; bad input exits 2 and writes nothing', async () => {
    const queue = uniqueQueue();
    const hit = await create(queue, 'queued', { email: 'A_B@example.com' });
    const miss = await create(queue, 'queued', { email: 'axb@example.com' });
    const canceled = await cli('bulk', 'cancel', '--queue', queue, '--params', 'a_b@', '--yes');
    expect(canceled.code, canceled.stderr).to.equal(0);
    expect(canceled.stdout).to.equal('canceled 1 task of 1 matched\n');
    expect((await t.store.taskQueueFindById(hit.id))!.status).to.equal('canceled');
    expect((await t.store.taskQueueFindById(miss.id))!.status).to.equal('queued');

    for (const args of [
      ['bulk', 'delete', '--yes'], // no filter
      ['bulk', 'purge', '--queue', queue], // not an action
      ['bulk', 'retry', '--status', 'queued', '--queue', queue, '--yes'], // a status retry does not apply to
      ['bulk', 'delete', '--queue', queue, '--batch-size', '0', '--yes'],
    ]) {
      const refused = await cli(...args);
      expect(refused.code, `${args.join(' ')}: ${refused.stderr}`).to.equal(2);
      expect(refused.stderr.trim().split('\n')[0]).to.match(/^taskstore: /);
    }
    expect((await t.store.taskQueueFindById(miss.id))!.status, 'nothing written').to.equal('queued');

    const deleted = await cli('bulk', 'delete', '--queue', queue, '--alias', alias, '--yes');
    expect(deleted.stdout).to.equal('deleted 2 tasks of 2 matched\n');
    expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(0);
  });

  it('run-now makes a delayed task due; a failed one exits 4. list --status failed shows the last error; --unique-key finds one', async () => {
    const queue = uniqueQueue();
    const delayed = await t.store.taskQueueCreate({ taskId, queueName: queue, availableAt: new Date(Date.now() + 3_600_000) });
    const ran = await cli('run-now', delayed.id);
    expect(ran.code, ran.stderr).to.equal(0);
    expect(ran.stdout).to.match(new RegExp(`^${delayed.id} is due at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC\\n$`));
    expect((await t.store.taskQueueFindById(delayed.id))!.availableAt.getTime()).to.be.at.most(Date.now());

    const failed = await t.store.taskQueueCreate({
      taskId,
      queueName: queue,
      status: 'failed',
      uniqueKey: `${alias}-key`,
      details: '2024-01-01 00:00:00 : Task started\n2024-01-01 00:00:00 : Task failed: the mail server said no',
    });
    expect((await cli('run-now', failed.id)).code).to.equal(4);
    const list = await cli('list', '--status', 'failed', '--queue', queue);
    expect(list.stdout.split('\n')[0]).to.match(/LAST ERROR$/);
    expect(list.stdout).to.include('the mail server said no');
    const found = await cli('list', '--queue', queue, '--unique-key', `${alias}-key`, '--json');
    expect((JSON.parse(found.stdout) as { id: string }[]).map((item) => item.id)).to.deep.equal([failed.id]);
  });
});
