/**
 * The queue settings commands of the `taskstore` CLI: queues, pause, resume and limits, as a
 * table or JSON, with usage errors (exit 2) that write nothing.
 */
import { expect } from 'chai';
import { TABLES, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';
import { runCli } from './cli-helpers.js';

forEachDialect('taskstore CLI queue settings', (t) => {
  const cli = (...args: string[]) => runCli(['--database', t.url, ...args]);

  it('pause, resume and limits change the settings; queues lists them with task counts', async () => {
    const queue = uniqueQueue();
    const alias = uniqueAlias('Cli');
    await t.store.taskDefinitionCreate({ alias });
    await t.store.taskDefinitionEnqueueManyByAlias(queue, alias, [{}, {}]);

    const paused = await cli('pause', queue);
    expect(paused.code, paused.stderr).to.equal(0);
    expect(paused.stdout.trim()).to.equal(`paused queue '${queue}'`);
    expect((await t.store.queueSettings(queue)).paused).to.equal(true);

    const limits = await cli('limits', queue, '--concurrency', '4', '--group-concurrency', '1', '--rate', '100/1m', '--group-rate', '5/1s');
    expect(limits.code, limits.stderr).to.equal(0);
    expect(limits.stdout).to.include('concurrency 4, group concurrency 1, rate 100/60000ms, group rate 5/1000ms');
    expect(await t.store.queueSettings(queue)).to.deep.include({
      paused: true,
      concurrency: 4,
      groupConcurrency: 1,
      rateLimit: { count: 100, periodMs: 60_000 },
      groupRateLimit: { count: 5, periodMs: 1000 },
    });

    const table = await cli('queues');
    expect(table.code, table.stderr).to.equal(0);
    const row = table.stdout.split('\n').find((line) => line.startsWith(queue));
    expect(row?.split(/\s{2,}/)).to.deep.equal([queue, 'yes', '4', '1', '100/60000ms', '5/1000ms', '2', '0', '0', '0']);

    const resumed = await cli('resume', queue, '--json');
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(JSON.parse(resumed.stdout)).to.include({ queueName: queue, paused: false, concurrency: 4 });

    expect((await cli('limits', queue, '--concurrency', 'none', '--rate', 'none')).code).to.equal(0);
    const json = await cli('queues', '--json');
    const entry = (JSON.parse(json.stdout) as { queueName: string }[]).find((queueEntry) => queueEntry.queueName === queue);
    expect(entry).to.deep.include({ paused: false, concurrency: null, groupConcurrency: 1, rateLimit: null });
    expect(entry).to.have.nested.property('stats.queued', 2);
    const shown = await cli('limits', queue);
    expect(shown.stdout).to.include('group concurrency 1, group rate 5/1000ms');
  });

  it('bad limits are usage errors (exit 2) and write nothing', async () => {
    const queue = uniqueQueue();
    for (const args of [
      ['--concurrency', '0'],
      ['--concurrency', 'many'],
      ['--rate', '5'],
      ['--rate', '5/0ms'],
      ['--rate', '0/1s'],
      ['--group-rate', '5/soon'],
      ['--burst', '3'],
    ]) {
      const result = await cli('limits', queue, ...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
    }
    expect((await cli('pause')).code).to.equal(2);
    expect(await t.store.knex(TABLES.queueSettings).where({ queue_name: queue }).first()).to.equal(undefined);
  });
});
