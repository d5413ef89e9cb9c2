/**
 * `taskstore runners` on every dialect: the started runners of other processes (here, this
 * one) as a table or JSON, filtered by queue; no runners; a bad --stale-after is a usage error.
 */
import { hostname } from 'node:os';
import { expect } from 'chai';
import { ScheduleRunner, TaskQueueRunner } from '../../lib/index.js';
import { forEachDialect, uniqueQueue, waitFor } from '../support/index.js';
import { runCli } from './cli-helpers.js';

forEachDialect('taskstore CLI runners', (t) => {
  const cli = (...args: string[]) => runCli(['--database', t.url, ...args]);

  it('lists the started runners as a table and as JSON, by queue; none once they stop', async () => {
    const queue = uniqueQueue();
    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 3 });
    const schedules = new ScheduleRunner(t.store);
    runner.start();
    schedules.start();
    try {
      await waitFor(() => t.store.runnerList().then((rows) => rows.length === 2));
      const table = await cli('runners');
      expect(table.code, table.stderr).to.equal(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]?.split(/\s{2,}/)).to.deep.equal(['KIND', 'QUEUE', 'HOST', 'PID', 'CONCURRENCY', 'ACTIVE', 'STARTED', 'LAST SEEN']);
      const cells = lines.slice(1).map((line) => line.split(/\s{2,}/));
      expect(cells.map((row) => row.slice(0, 6))).to.deep.equal([
        ['queue', queue, hostname(), String(process.pid), '3', '0'],
        ['schedule', '-', hostname(), String(process.pid), '-', '0'],
      ]);
      for (const row of cells)
        expect(row.slice(6)).to.satisfy((dates: string[]) => dates.every((date) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(date)));

      const json = await cli('runners', '--json', '--queue', queue);
      expect(json.code, json.stderr).to.equal(0);
      const entries = JSON.parse(json.stdout) as Record<string, unknown>[];
      expect(entries).to.have.length(1);
      expect(entries[0]).to.include({
        kind: 'queue',
        queueName: queue,
        host: hostname(),
        pid: process.pid,
        concurrency: 3,
        activeCount: 0,
      });
      expect(entries[0]!['lastSeenAt']).to.be.a('string');

      const other = await cli('runners', '--queue', uniqueQueue());
      expect(other.stdout.trim()).to.equal('no runners');
    } finally {
      await runner.stop();
      await schedules.stop();
    }
    const none = await cli('runners');
    expect(none.code, none.stderr).to.equal(0);
    expect(none.stdout.trim()).to.equal('no runners');
  });

  it('shows a queue name with control characters on one line', async () => {
    const queue = `evil\n\u001b[31m${uniqueQueue()}`;
    const runner = new TaskQueueRunner(t.store, { queueName: queue });
    runner.start();
    try {
      await waitFor(() => t.store.runnerList().then((rows) => rows.length === 1));
      const table = await cli('runners');
      expect(table.code, table.stderr).to.equal(0);
      expect(table.stdout).to.not.include('\u001b');
      expect(table.stdout.trim().split('\n')).to.have.length(2);
    } finally {
      await runner.stop();
    }
  });

  it('a bad --stale-after or an extra argument is a usage error (exit 2)', async () => {
    for (const args of [['--stale-after', '0s'], ['--stale-after', 'soon'], ['extra']]) {
      const result = await cli('runners', ...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2);
      expect(result.stdout).to.equal('');
    }
  });
});
