/**
 * Queues, running tasks and progress in the dashboard, on every dialect: the queue settings
 * through the JSON API (list, pause, resume, limits; refusals write nothing; CSRF and
 * read-only), the queues page and its forms (a refused limits form comes back with its input
 * and the message beside the field), the paused badge on the overview, cancel of a running
 * task, and a handler's progress and group on the task pages.
 */
import { expect } from 'chai';
import { deferred, forEachDialect, TABLES, uniqueAlias, waitFor } from '../support/index.js';
import { defineTask, type QueueSettings } from '../../lib/index.js';
import { DashboardClient, serveDashboard, type TestDashboard } from './admin-helpers.js';

/** The message shown beside `field`, as the page's text (entities decoded), or null. */
function besideField(page: string, field: string): string | null {
  const match = new RegExp(`<span class="field-error" id="${field}-error" data-field-error="${field}">([^<]*)</span>`).exec(page);
  return match ? (match[1] ?? '').replace(/&#39;/g, "'").replace(/&amp;/g, '&') : null;
}

/** A queue name that needs percent-encoding in a path: a slash, a space, '%', '?', '#', non-ASCII. */
const ODD = 'mail/eu 50% ?#✓';

forEachDialect('dashboard queues', (t) => {
  let dashboard: TestDashboard;
  let client: DashboardClient;
  const api = (name: string, rest = '') => `/api/queues/${encodeURIComponent(name)}${rest}`;

  before(async () => {
    dashboard = await serveDashboard(t.store, { basePath: '/admin', queues: ['always-shown'] });
  });
  after(async () => {
    await dashboard.close();
  });
  beforeEach(async () => {
    await t.store.taskDefinitionCreate({ alias: 'QueueEcho' });
    client = new DashboardClient(dashboard.url);
    await client.csrf();
  });

  const unlimited = { paused: false, concurrency: null, groupConcurrency: null, rateLimit: null, groupRateLimit: null, updatedAt: null };

  it('GET api/queues/settings: every queue with its settings and its tasks by status; api/queues still answers the names', async () => {
    await t.store.taskDefinitionEnqueueByAlias('mail', 'QueueEcho', {});
    await t.store.taskDefinitionEnqueueByAlias('mail', 'QueueEcho', {});
    await t.store.queuePause('mail');
    await t.store.queueConfigure('reports', { concurrency: 4, groupRateLimit: { count: 5, periodMs: 1000 } });
    const { status, body } = await client.json('/api/queues/settings');
    expect(status).to.equal(200);
    const byName = Object.fromEntries((body.queues as (QueueSettings & { stats: Record<string, number> })[]).map((q) => [q.queueName, q]));
    expect(Object.keys(byName)).to.deep.equal(['always-shown', 'mail', 'reports']);
    expect(byName['mail']).to.include({ paused: true, concurrency: null });
    expect(byName['mail']!.stats).to.include({ queued: 2, running: 0 });
    expect(byName['reports']).to.deep.include({ paused: false, concurrency: 4, groupRateLimit: { count: 5, periodMs: 1000 } });
    expect(byName['always-shown']).to.deep.include(unlimited);
    const names = await client.json('/api/queues');
    expect(names.body).to.deep.equal({ queues: ['always-shown', 'mail', 'reports'] });
    const one = await client.json(api('reports', '/settings'));
    expect(one.body.queue).to.include({ queueName: 'reports', concurrency: 4 });
  });

  it('POST pause / resume and PATCH limits change the store, for a queue name that needs percent-encoding', async () => {
    const paused = await client.send('POST', api(ODD, '/pause'));
    expect(paused.status, JSON.stringify(paused.body)).to.equal(200);
    expect(paused.body.queue).to.include({ queueName: ODD, paused: true });
    expect(await t.store.queueSettings(ODD)).to.include({ paused: true });
    const configured = await client.send('PATCH', api(ODD), { concurrency: 3, rateLimit: { count: 10, periodMs: 60_000 } });
    expect(configured.status, JSON.stringify(configured.body)).to.equal(200);
    expect(configured.body.queue).to.deep.include({ paused: true, concurrency: 3, rateLimit: { count: 10, periodMs: 60_000 } });
    expect(await t.store.queueSettings(ODD)).to.deep.include({ concurrency: 3, rateLimit: { count: 10, periodMs: 60_000 } });
    expect((await client.send('POST', api(ODD, '/resume'))).body.queue).to.include({ paused: false });
    expect((await client.send('PATCH', api(ODD), { concurrency: null })).body.queue).to.include({ concurrency: null });
    expect(await t.store.queueSettings(ODD)).to.deep.include({
      paused: false,
      concurrency: null,
      rateLimit: { count: 10, periodMs: 60_000 },
    });
    expect((await client.json('/api/queues')).body.queues).to.include(ODD);
  });

  it('refuses bad limits, a bad queue name and a malformed path with 400, writing nothing', async () => {
    for (const body of [{ concurrency: 0 }, { concurrency: '5' }, { rateLimit: { count: 1 } }, { concurrency: 2, bogus: true }]) {
      const answer = await client.send('PATCH', api('mail'), body);
      expect(answer.status, JSON.stringify(body)).to.equal(400);
      expect(answer.body.error.code).to.equal('INVALID_ARGUMENT');
    }
    const refused = await client.send('PATCH', api('mail'), { concurrency: 2, groupConcurrency: -1 });
    expect(refused.body.error.message).to.match(/groupConcurrency/);
    expect(await t.store.queueSettings('mail')).to.deep.include(unlimited);
    const long = await client.send('POST', api('x'.repeat(101), '/pause'));
    expect(long.status).to.equal(400);
    expect(long.body.error.message).to.match(/queueName must be at most 100 characters/);
    expect((await client.send('POST', '/api/queues/%E0%A4%A/pause')).status).to.equal(400);
    expect((await client.send('POST', api('mail', '/explode'))).status).to.equal(404);
    expect((await t.store.queueList()).map((queue) => queue.queueName)).to.deep.equal([]);
  });

  it('a write without the CSRF token gets 403 CSRF; a read-only dashboard refuses with 403 READ_ONLY and shows no forms', async () => {
    const bare = await client.send('POST', api('mail', '/pause'), undefined, { csrf: false });
    expect(bare.status).to.equal(403);
    expect(bare.body.error.code).to.equal('CSRF');
    const form = await client.form('/queues/pause', { queue: 'mail' });
    expect(form.status).to.equal(403);
    await t.store.taskDefinitionEnqueueByAlias('mail', 'QueueEcho', {});
    const readOnly = await serveDashboard(t.store, { basePath: '/ro', readOnly: true });
    try {
      const reader = new DashboardClient(readOnly.url);
      for (const [method, path, body] of [
        ['POST', api('mail', '/pause'), undefined],
        ['PATCH', api('mail'), { concurrency: 1 }],
      ] as const) {
        const answer = await reader.send(method, path, body);
        expect(answer.status).to.equal(403);
        expect(answer.body.error.code).to.equal('READ_ONLY');
      }
      const page = await (await reader.get('/queues')).text();
      expect(page).to.include('<tr data-queue="mail">');
      expect(page).to.not.include('<form method="post"');
      expect(page).to.not.include('id="limits-0"');
    } finally {
      await readOnly.close();
    }
    expect(await t.store.queueSettings('mail')).to.deep.include(unlimited);
  });

  it('the queues page: limits ("—" when none), counts linking to the task list, pause / resume / limits forms with notices', async () => {
    await t.store.taskDefinitionEnqueueByAlias(ODD, 'QueueEcho', {});
    await t.store.queueConfigure(ODD, { concurrency: 20, rateLimit: { count: 100, periodMs: 60_000 } });
    let page = await (await client.get('/queues')).text();
    expect(page).to.include('<a href="/admin/queues" class="active" aria-current="page">Queues</a>');
    const row = page.slice(page.indexOf(`<tr data-queue="${ODD}">`));
    expect(row).to.match(/data-limit="concurrency">20</);
    expect(row).to.match(/data-limit="groupConcurrency">—</);
    expect(row).to.match(/data-limit="rateLimit">100 \/ 1m</);
    expect(row).to.include(
      `href="/admin/tasks?${new URLSearchParams({ status: 'queued', queue: ODD }).toString().replace(/&/g, '&amp;')}">1</a>`,
    );
    expect(row).to.match(/data-paused="[^"]*" title="[^"]*" hidden>paused</);

    const pause = await client.form('/queues/pause', { _csrf: client.token, queue: ODD });
    expect(pause.status).to.equal(303);
    expect(pause.headers.get('location')).to.equal('/admin/queues?notice=paused');
    expect(await t.store.queueSettings(ODD)).to.include({ paused: true });
    page = await (await client.get('/queues?notice=paused')).text();
    expect(page).to.include('<p class="notice" role="status">Paused.</p>');
    expect(page).to.match(/data-paused="[^"]*" title="[^"]*">paused</);
    expect(page).to.include('data-action="resume"');

    const limits = await client.form('/queues/limits', {
      _csrf: client.token,
      queue: ODD,
      concurrency: '',
      groupConcurrency: '2',
      rateCount: '5',
      ratePeriod: '1s',
      groupRateCount: '',
      groupRatePeriod: '',
    });
    expect(limits.status).to.equal(303);
    expect(limits.headers.get('location')).to.equal('/admin/queues?notice=limits');
    expect(await t.store.queueSettings(ODD)).to.deep.include({
      paused: true,
      concurrency: null,
      groupConcurrency: 2,
      rateLimit: { count: 5, periodMs: 1000 },
      groupRateLimit: null,
    });
    const resume = await client.form('/queues/resume', { _csrf: client.token, queue: ODD });
    expect(resume.headers.get('location')).to.equal('/admin/queues?notice=resumed');
    expect(await t.store.queueSettings(ODD)).to.include({ paused: false });
  });

  it('a refused limits form: 400 with the page, what was typed kept, the message beside its field, nothing written', async () => {
    await t.store.taskDefinitionEnqueueByAlias('reports', 'QueueEcho', {});
    await t.store.queueConfigure('reports', { concurrency: 7 });
    const before = await t.store.queueSettings('reports');
    const post = async (fields: Record<string, string>) => {
      const response = await client.form('/queues/limits', { _csrf: client.token, queue: 'reports', ...fields });
      return { status: response.status, page: await response.text() };
    };
    const word = await post({ concurrency: 'lots', rateCount: '100', ratePeriod: '1m' });
    expect(word.status).to.equal(400);
    expect(word.page).to.include('<h1>Queues</h1>');
    expect(word.page).to.match(/<details class="limits" id="limits-\d+" data-queue="reports" open>/);
    expect(besideField(word.page, 'concurrency')).to.match(/^concurrency must be a whole number from 1 to 1000000/);
    expect(word.page).to.match(/<input name="concurrency" value="lots"[^>]* aria-invalid="true"/);
    expect(word.page).to.match(/<input name="rateCount" value="100"/);
    expect(word.page).to.match(/<input name="ratePeriod" value="1m"/);
    const half = await post({ rateCount: '5' });
    expect(half.status).to.equal(400);
    expect(besideField(half.page, 'ratePeriod')).to.match(/^ratePeriod is required with a count/);
    const period = await post({ groupRateCount: '5', groupRatePeriod: 'soon' });
    expect(besideField(period.page, 'groupRatePeriod')).to.match(/^groupRatePeriod: 'soon' is not a duration/);
    // The store's own refusal (a name it does not take) goes above, with nothing written either.
    const long = await client.form('/queues/limits', { _csrf: client.token, queue: 'x'.repeat(101), concurrency: '1' });
    expect(long.status).to.equal(400);
    expect(await long.text()).to.include('The limits were not saved: queueConfigure: queueName must be at most 100 characters');
    expect(await t.store.queueSettings('reports')).to.deep.equal(before);
    expect((await t.store.queueList()).map((queue) => queue.queueName)).to.deep.equal(['reports']);
  });

  it('the overview shows a paused badge from one queueList, whatever the number of queues', async () => {
    // The statements of one overview that read the settings table (not the change probes' sums).
    const settingsReads = async () => {
      let count = 0;
      const read = new RegExp(`^select (?!\\().* from [\`"]?${TABLES.queueSettings}[\`"]?( |$)`, 'i');
      const listener = (query: { sql?: string }) => {
        if (typeof query.sql === 'string' && read.test(query.sql.trim())) count += 1;
      };
      t.store.knex.on('query', listener);
      try {
        expect((await client.get('/')).status).to.equal(200);
      } finally {
        t.store.knex.off('query', listener);
      }
      return count;
    };
    await t.store.taskDefinitionEnqueueByAlias('q0', 'QueueEcho', {});
    await t.store.queuePause('q0');
    expect(await settingsReads()).to.equal(1);
    for (let n = 1; n <= 6; n += 1) {
      await t.store.taskDefinitionEnqueueByAlias(`q${n}`, 'QueueEcho', {});
      if (n % 2 === 0) await t.store.queuePause(`q${n}`);
    }
    expect(await settingsReads(), 'one read for seven queues').to.equal(1);
    const page = await (await client.get('/')).text();
    const badges = [...page.matchAll(/data-paused="(q\d)" title="[^"]*"( hidden)?>paused</g)].map(
      (match) => `${match[1]}${match[2] ? '' : '!'}`,
    );
    expect(badges).to.deep.equal(['q0!', 'q1', 'q2!', 'q3', 'q4!', 'q5', 'q6!']);
    const stats = await client.json('/api/stats');
    const paused = (stats.body.queues as { queueName: string; paused: boolean }[]).filter((queue) => queue.paused);
    expect(paused.map((queue) => queue.queueName)).to.deep.equal(['q0', 'q2', 'q4', 'q6']);
  });

  it('cancels a claimed (running) task through the API and the page form', async () => {
    const first = await t.store.taskDefinitionEnqueueByAlias('work', 'QueueEcho', {});
    const second = await t.store.taskDefinitionEnqueueByAlias('work', 'QueueEcho', {});
    expect((await t.store.taskQueueClaimNext('work'))!.id).to.equal(first.id);
    expect((await t.store.taskQueueClaimNext('work'))!.id).to.equal(second.id);
    const canceled = await client.send('POST', `/api/tasks/${first.id}/cancel`);
    expect(canceled.status, JSON.stringify(canceled.body)).to.equal(200);
    expect(canceled.body.task).to.include({ status: 'canceled' });
    expect(await t.store.taskQueueFindById(first.id)).to.include({ status: 'canceled', claimToken: null });
    const page = await (await client.get(`/tasks/${second.id}`)).text();
    expect(page).to.include('data-confirm="Cancel this running task? Its handler will be stopped');
    const form = await client.form(`/tasks/${second.id}/cancel`, { _csrf: client.token, return: `/admin/tasks/${second.id}` });
    expect(form.status).to.equal(303);
    expect(form.headers.get('location')).to.equal(`/admin/tasks/${second.id}?notice=canceled`);
    expect(await t.store.taskQueueFindById(second.id)).to.include({ status: 'canceled' });
  });

  it("a running handler's progress and group show on the task page and in the list; cancel stops the handler", async () => {
    const alias = uniqueAlias('Progress');
    const reported = deferred();
    const stopped = deferred<string>();
    await t.store.taskHandlerAdd(
      defineTask({
        alias,
        async handle(ctx) {
          ctx.setProgress(42.25, { step: 'resize <b>', of: 3 });
          reported.resolve();
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          stopped.resolve(String((ctx.signal.reason as { reason?: string }).reason));
        },
      }),
      true,
    );
    const item = await t.store.taskDefinitionEnqueueByAlias('work', alias, {}, { group: 'account:42' });
    const queued = await (await client.get(`/tasks/${item.id}`)).text();
    expect(queued).to.include('<section id="task-progress" hidden>');
    expect(queued).to.include('<dt>Group</dt><dd data-field="group">account:42</dd>');
    const done = t.store.taskQueueProcessNext('work');
    try {
      await reported.promise;
      await waitFor(async () => (await t.store.taskQueueFindById(item.id))?.progress, { message: 'the progress is written' });
      const page = await (await client.get(`/tasks/${item.id}`)).text();
      expect(page).to.include('<section id="task-progress"><h2>Progress</h2>');
      expect(page).to.include('<progress max="100" value="42.25" data-field="progress-bar">42.3%</progress>');
      expect(page).to.include('&quot;step&quot;: &quot;resize &lt;b&gt;&quot;');
      expect(page).to.include('data-action="cancel"');
      const json = await client.json(`/api/tasks/${item.id}`);
      expect(json.body.task.progress).to.deep.include({ percent: 42.25, data: { step: 'resize <b>', of: 3 } });
      const list = await (await client.get('/tasks?status=running')).text();
      expect(list).to.include('<th>Progress</th>');
      expect(list).to.match(/<td class="progress-cell"><progress max="100" value="42.25" data-field="progress-bar">42.3%<\/progress>/);
      expect((await client.send('POST', `/api/tasks/${item.id}/cancel`)).body.task.status).to.equal('canceled');
      expect(await stopped.promise).to.equal('canceled');
    } finally {
      // Whatever failed above, the handler must end: cancel it if it still runs.
      if ((await t.store.taskQueueFindById(item.id))?.status === 'running') await t.store.taskQueueCancelById(item.id);
      await done;
    }
    expect(await t.store.taskQueueFindById(item.id)).to.include({ status: 'canceled' });
  });
});
