/**
 * The runners page and api/runners on every dialect: the started runners with their host,
 * pid, queue, concurrency and active count; a hostile queue name is text, never markup; the
 * page has no forms and refuses posts; the nav links to it.
 */
import { hostname } from 'node:os';
import { expect } from 'chai';
import { ScheduleRunner, TaskQueueRunner, type RunnerInfo } from '../../lib/index.js';
import { forEachDialect, uniqueQueue, waitFor } from '../support/index.js';
import { DashboardClient, serveDashboard, type TestDashboard } from './admin-helpers.js';

const HOSTILE = `<script>window.__xss=1</script><img src=x onerror="alert(1)">&"'`;

forEachDialect('dashboard runners', (t) => {
  let dashboard: TestDashboard;
  let client: DashboardClient;

  before(async () => {
    dashboard = await serveDashboard(t.store, { basePath: '/admin' });
  });
  after(async () => {
    await dashboard.close();
  });
  beforeEach(() => {
    client = new DashboardClient(dashboard.url);
  });

  it('the page and api/runners list the started runners; the hostile queue name is escaped', async () => {
    const queue = `${HOSTILE}${uniqueQueue()}`;
    const runner = new TaskQueueRunner(t.store, { queueName: queue, maxConcurrency: 5 });
    const schedules = new ScheduleRunner(t.store);
    runner.start();
    schedules.start();
    try {
      await waitFor(() => t.store.runnerList().then((rows) => rows.length === 2));
      const { status, body } = await client.json<{ runners: RunnerInfo[]; heartbeatIntervalMs: number; staleAfterMs: number }>(
        '/api/runners',
      );
      expect(status).to.equal(200);
      expect(body.heartbeatIntervalMs).to.equal(10_000);
      expect(body.staleAfterMs).to.equal(30_000);
      expect(
        body.runners.map((entry) => [entry.kind, entry.queueName, entry.host, entry.pid, entry.concurrency, entry.activeCount]),
      ).to.deep.equal([
        ['queue', queue, hostname(), process.pid, 5, 0],
        ['schedule', null, hostname(), process.pid, null, 0],
      ]);

      const response = await client.get('/runners');
      expect(response.status).to.equal(200);
      const page = await response.text();
      expect(page).to.include('<h1>Runners</h1>');
      expect(page).to.include('aria-current="page">Runners</a>');
      expect(page).to.not.include('<script>window.__xss');
      expect(page).to.not.include('<img src=x');
      expect(page).to.include('&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&quot;&#39;');
      const rows = page.match(/<tr data-runner="[^"]+">/g) ?? [];
      expect(rows).to.have.length(2);
      expect(page).to.match(/<td class="num" data-field="concurrency">5<\/td>/);
      expect(page).to.include(`<td class="num" data-field="pid">${process.pid}</td>`);
      expect(page).to.not.include('<form');
    } finally {
      await runner.stop();
      await schedules.stop();
    }
    const empty = await (await client.get('/runners')).text();
    expect(empty).to.include('No runners are running.');
    expect((await client.json('/api/runners')).body.runners).to.deep.equal([]);
  });

  it('the overview links to the runners page; posts and unknown paths under it are 404s', async () => {
    const overview = await (await client.get('/')).text();
    expect(overview).to.include('href="/admin/runners"');
    await client.csrf();
    const post = await client.form('/runners', { _csrf: client.token });
    expect(post.status).to.equal(404);
    expect((await client.get('/runners/x')).status).to.equal(404);
    expect((await client.send('POST', '/api/runners', {})).status).to.equal(404);
  });
});
