/**
 * The dashboard's operations on every dialect: bulk actions on the filtered task list (the
 * confirmation page states the count, the post needs the CSRF token, read-only refuses), the
 * JSON API's bulk route, "Run now" on a delayed task, the last-error column and the search inputs.
 */
import { expect } from 'chai';
import type { TaskStatus } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';
import { DashboardClient, serveDashboard, type TestDashboard } from './admin-helpers.js';

const decode = (text: string) =>
  text
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

forEachDialect('dashboard bulk actions', (t) => {
  let dashboard: TestDashboard;
  let client: DashboardClient;
  let taskId: string;
  let alias: string;

  before(async () => {
    dashboard = await serveDashboard(t.store, { basePath: '/admin' });
  });
  after(async () => {
    await dashboard.close();
  });
  beforeEach(async () => {
    alias = uniqueAlias('Bulk');
    taskId = (await t.store.taskDefinitionCreate({ alias })).id;
    client = new DashboardClient(dashboard.url);
    await client.csrf();
  });
  const create = (queueName: string, status: TaskStatus, extra: { details?: string; parameters?: Record<string, string> } = {}) =>
    t.store.taskQueueCreate({ taskId, queueName, status, ...extra });

  it('the filtered list offers the actions that apply; the confirmation states the count and escapes the filter', async () => {
    const queue = `${uniqueQueue()}<b>&"`;
    for (let n = 0; n < 3; n++) await create(queue, 'failed');
    await create(queue, 'queued');
    const list = await (await client.get(`/tasks?status=failed&queue=${encodeURIComponent(queue)}`)).text();
    expect(list).to.match(/data-bulk="retry"/);
    expect(list).to.match(/data-bulk="delete"/);
    expect(list, 'cancel does not apply to failed tasks').not.to.match(/data-bulk="cancel"/);
    expect(await (await client.get('/tasks')).text(), 'no bulk action on an unfiltered list').not.to.include('id="bulk-actions"');

    const confirm = await client.get(`/tasks/bulk/retry?status=failed&queue=${encodeURIComponent(queue)}`);
    expect(confirm.status).to.equal(200);
    const page = await confirm.text();
    const question = /<h1 id="bulk-question">([^<]*)<\/h1>/.exec(page)?.[1];
    expect(decode(question ?? '')).to.equal(`Retry 3 failed tasks of queue ${queue}?`);
    expect(page, 'the queue name is escaped').not.to.include('<b>&"');
    expect(page).to.include('<input type="hidden" name="_csrf"');
    expect(page).to.match(/<button type="submit" class="button" data-action="retry">Retry 3 tasks<\/button>/);
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'failed' }), 'the page wrote nothing').to.equal(3);

    const refused = await client.get(`/tasks/bulk/cancel?status=failed&queue=${encodeURIComponent(queue)}`);
    expect(refused.status, 'cancel of failed tasks').to.equal(400);
  });

  it('the post needs the CSRF token; with it, the action runs over exactly the filter and the result page says how many', async () => {
    const [queue, other] = [uniqueQueue(), uniqueQueue()];
    for (let n = 0; n < 4; n++) await create(queue, 'failed');
    const untouched = await create(other, 'failed');
    const kept = await create(queue, 'success');

    const noToken = await client.form('/tasks/bulk/retry', { status: 'failed', queue });
    expect(noToken.status).to.equal(403);
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'failed' }), 'refused: nothing written').to.equal(4);

    const posted = await client.form('/tasks/bulk/retry', { _csrf: client.token, status: 'failed', queue });
    expect(posted.status).to.equal(303);
    const location = posted.headers.get('location') ?? '';
    expect(location).to.match(/^\/admin\/tasks\/bulk\/done\?/);
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'queued' })).to.equal(4);
    expect((await t.store.taskQueueFindById(untouched.id))!.status).to.equal('failed');
    expect((await t.store.taskQueueFindById(kept.id))!.status).to.equal('success');
    const done = await (await client.get(location.slice('/admin'.length))).text();
    expect(/<p class="notice" role="status" id="bulk-result">([^<]*)<\/p>/.exec(done)?.[1]).to.equal('4 tasks queued again.');

    const deleted = await client.form('/tasks/bulk/delete', { _csrf: client.token, queue, alias });
    expect(deleted.status).to.equal(303);
    expect(await t.store.taskQueueCount({ queueName: queue })).to.equal(0);
    const bad = await client.form('/tasks/bulk/delete', { _csrf: client.token });
    expect(bad.status, 'no filter').to.equal(400);
  });

  it('the JSON API counts with dryRun and acts on the filter', async () => {
    const queue = uniqueQueue();
    await create(queue, 'queued', { parameters: { to: '100%@x' } });
    await create(queue, 'queued', { parameters: { to: '100x@x' } });
    const dry = await client.send('POST', `/api/tasks/bulk/cancel?queue=${queue}&params=${encodeURIComponent('100%')}&dryRun=1`);
    expect(dry).to.deep.equal({ status: 200, body: { action: 'cancel', dryRun: true, matched: 1, changed: 0, skipped: 0, conflicts: 0 } });
    const run = await client.send('POST', `/api/tasks/bulk/cancel?queue=${queue}&params=${encodeURIComponent('100%')}`);
    expect(run.body).to.include({ matched: 1, changed: 1 });
    expect(await t.store.taskQueueCount({ queueName: queue, status: 'queued' })).to.equal(1);
    expect((await client.send('POST', `/api/tasks/bulk/cancel?queue=${queue}`, undefined, { csrf: false })).status).to.equal(403);
  });

  it('read-only: no bulk buttons, the confirmation has no form, and the post is refused', async () => {
    const readOnly = await serveDashboard(t.store, { readOnly: true });
    try {
      const queue = uniqueQueue();
      await create(queue, 'failed');
      const reader = new DashboardClient(readOnly.url);
      const list = await (await reader.get(`/tasks?status=failed&queue=${queue}`)).text();
      expect(list).not.to.include('id="bulk-actions"');
      const page = await (await reader.get(`/tasks/bulk/retry?status=failed&queue=${queue}`)).text();
      expect(page).to.include('Read-only: nothing can be changed here.');
      expect(page).not.to.include('id="bulk-confirm"');
      const posted = await reader.form('/tasks/bulk/retry', { status: 'failed', queue });
      expect(posted.status).to.equal(403);
      expect(await t.store.taskQueueCount({ queueName: queue, status: 'failed' })).to.equal(1);
    } finally {
      await readOnly.close();
    }
  });

  it('a delayed task has Run now; the failed list shows the last error; the search inputs filter', async () => {
    const queue = uniqueQueue();
    const delayed = await t.store.taskQueueCreate({ taskId, queueName: queue, availableAt: new Date(Date.now() + 3_600_000) });
    const detail = await (await client.get(`/tasks/${delayed.id}`)).text();
    expect(detail).to.include(`action="/admin/tasks/${delayed.id}/run-now"`);
    const ran = await client.form(`/tasks/${delayed.id}/run-now`, { _csrf: client.token });
    expect(ran.status).to.equal(303);
    expect(ran.headers.get('location')).to.include('notice=made-due');
    expect((await t.store.taskQueueFindById(delayed.id))!.availableAt.getTime()).to.be.at.most(Date.now());
    expect(await (await client.get(`/tasks/${delayed.id}`)).text(), 'due now: no button').not.to.include('/run-now"');

    await create(queue, 'failed', {
      details: '2024-01-01 00:00:00 : Task started\n2024-01-01 00:00:00 : Task failed: <script>no</script> mail',
      parameters: { email: 'who@example.com' },
    });
    const failed = await (await client.get(`/tasks?status=failed&queue=${queue}`)).text();
    expect(failed).to.include('<th>Last error</th>');
    expect(failed).to.include('<td class="last-error" data-field="last-error">&lt;script&gt;no&lt;/script&gt; mail</td>');
    expect(await (await client.get(`/tasks?queue=${queue}`)).text()).not.to.include('<th>Last error</th>');
    const searched = await (await client.get(`/tasks?queue=${queue}&params=WHO%40`)).text();
    expect(searched).to.match(/1–1 of 1/);
    expect(searched).to.include('name="params" value="WHO@"');
  });
});
