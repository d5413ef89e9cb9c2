/**
 * <basePath>/metrics in the Prometheus text format: depth by queue and status, running, the
 * age of the longest-due task, the last hour's attempts from the recorded metrics, and this
 * process's counters; escaped labels; the dashboard's access rules.
 */
import { expect } from 'chai';
import { defineTask } from '../../lib/index.js';
import { forEachDialect, uniqueAlias } from '../support/index.js';
import { serveDashboard, type TestDashboard } from './admin-helpers.js';

/** `name{labels} value` lines as a map, HELP and TYPE lines apart. */
function parse(text: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    else if (line !== '' && !line.startsWith('#')) {
      const at = line.lastIndexOf(' ');
      samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }
  return { samples, types };
}

forEachDialect('dashboard /metrics', (t) => {
  let dashboard: TestDashboard;

  before(async () => {
    dashboard = await serveDashboard(t.store, { basePath: '/ops' });
  });
  after(async () => {
    await dashboard.close();
  });

  it('serves depth, running, oldest due age, the last hour and this process’s counters', async () => {
    const queue = 'metrics "q"\\1';
    const ok = defineTask({ alias: uniqueAlias('Ok'), handle: () => true });
    const bad = defineTask({ alias: uniqueAlias('Bad'), handle: () => false });
    for (const task of [ok, bad]) await t.store.taskHandlerAdd(task, true);
    await t.store.enqueueMany(ok, [{}, {}], { queueName: queue });
    await t.store.enqueue(bad, {}, { queueName: queue });
    while (await t.store.taskQueueProcessNext(queue)) {
      // all three
    }
    await t.store.enqueue(ok, {}, { queueName: queue, runAt: new Date(Date.now() - 60_000) }); // due a minute ago
    await t.store.enqueue(ok, {}, { queueName: queue, delayMs: 60_000 }); // not due
    await t.store.taskQueueClaimNext('nothing-here');
    await t.store.taskQueueMetricsFlush();

    const response = await fetch(`${dashboard.url}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    const { samples, types } = parse(await response.text());
    const q = 'metrics \\"q\\"\\\\1';
    expect(samples.get(`taskstore_queue_depth{queue="${q}",status="success"}`)).to.equal(2);
    expect(samples.get(`taskstore_queue_depth{queue="${q}",status="failed"}`)).to.equal(1);
    expect(samples.get(`taskstore_queue_depth{queue="${q}",status="queued"}`)).to.equal(2);
    expect(samples.get(`taskstore_tasks_running{queue="${q}"}`)).to.equal(0);
    expect(samples.get(`taskstore_queue_oldest_due_age_seconds{queue="${q}"}`)).to.be.within(59, 120);
    expect(samples.get(`taskstore_tasks_ended_last_hour{queue="${q}",outcome="success"}`)).to.equal(2);
    expect(samples.get(`taskstore_tasks_ended_last_hour{queue="${q}",outcome="failed"}`)).to.equal(1);
    expect(samples.get(`taskstore_tasks_ended_total{queue="${q}",outcome="success"}`)).to.equal(2);
    expect(types.get('taskstore_tasks_ended_total')).to.equal('counter');
    expect(types.get('taskstore_queue_depth')).to.equal('gauge');
  });

  it('keeps the dashboard’s access rules: a remote client without authorize is refused', async () => {
    const response = await fetch(`${dashboard.url}/metrics`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    expect(response.status).to.equal(403);
  });
});
