/**
 * The dashboard's JSON API on every dialect: stats, task lists with allowlisted filters,
 * task and definition actions, schedules, CSRF, read-only, access without authorize, and
 * escaping in the HTML pages.
 */
import { expect } from 'chai';
import { forEachDialect, waitFor } from '../support/index.js';
import { defineTask, type TaskQueueItem } from '../../lib/index.js';
import { DashboardClient, serveDashboard, type TestDashboard } from './admin-helpers.js';

forEachDialect('dashboard JSON API', (t) => {
  let dashboard: TestDashboard;
  let client: DashboardClient;

  before(async () => {
    dashboard = await serveDashboard(t.store, { basePath: '/admin', queues: ['always-shown'] });
  });
  after(async () => {
    await dashboard.close();
  });
  beforeEach(() => {
    client = new DashboardClient(dashboard.url);
  });

  async function failedTask(queue = 'q1'): Promise<TaskQueueItem> {
    const item = await t.store.taskDefinitionEnqueueByAlias(queue, 'ApiEcho', { n: 1 });
    await t.store.taskQueueClaimNext(queue);
    const claimed = (await t.store.taskQueueFindById(item.id))!;
    await t.store.taskQueueUpdate({ id: claimed.id, status: 'failed' });
    return (await t.store.taskQueueFindById(item.id))!;
  }

  beforeEach(async () => {
    await t.store.taskDefinitionCreate({ alias: 'ApiEcho', title: 'Echo' });
  });

  it('flows: a flow with its steps by key (404 when unknown), and cancel', async () => {
    const flow = await t.store.flowEnqueue({
      queueName: 'q1',
      steps: [
        { key: 'a', alias: 'ApiEcho' },
        { key: 'b', alias: 'ApiEcho', dependsOn: ['a'] },
      ],
    });
    const found = await client.json(`/api/flows/${flow.id}`);
    expect(found.status).to.equal(200);
    expect(found.body.flow).to.include({ id: flow.id, status: 'running', queueName: 'q1' });
    expect(found.body.flow.items.b).to.include({ status: 'waiting', flowId: flow.id, flowKey: 'b' });
    expect(found.body.flow.dependsOn).to.deep.equal({ a: [], b: ['a'] });
    expect((await client.json('/api/flows/nope')).status).to.equal(404);
    expect((await client.send('POST', `/api/flows/${flow.id}/cancel`, undefined, { csrf: false })).status).to.equal(403);
    const canceled = await client.send('POST', `/api/flows/${flow.id}/cancel`);
    expect(canceled.status).to.equal(200);
    expect(canceled.body.flow.status).to.equal('canceled');
    const page = await (await client.get(`/flows/${flow.id}`)).text();
    expect(page).to.include('id="flow-steps"');
    expect(page).to.include(`data-step="b"`);
    const task = await (await client.get(`/tasks/${flow.items['b']!.id}`)).text();
    expect(task).to.include(`/admin/flows/${flow.id}`);
  });

  it('stats: counts by status per queue (configured queues too), totals and the hourly throughput', async () => {
    await t.store.taskDefinitionEnqueueByAlias('q1', 'ApiEcho', {});
    await t.store.taskDefinitionEnqueueByAlias('q2', 'ApiEcho', {});
    await t.store.taskDefinitionEnqueueByAlias('q2', 'ApiEcho', {});
    const done = (await t.store.taskQueueClaimNext('q2'))!;
    await t.store.taskQueueUpdate({ id: done.id, status: 'success' });
    const { status, body } = await client.json('/api/stats');
    expect(status).to.equal(200);
    expect(body.totals).to.include({ queued: 2 });
    const byName = Object.fromEntries(
      (body.queues as { queueName: string; stats: Record<string, number> }[]).map((queue) => [queue.queueName, queue.stats]),
    );
    expect(Object.keys(byName)).to.include.members(['q1', 'q2', 'always-shown']);
    expect(byName['q1']).to.include({ queued: 1 });
    expect(body.throughput.buckets).to.have.length(60);
    expect(body.definitions).to.equal(1);
  });

  it('stats: throughput and wait/run times of the last hour come from the recorded metrics', async () => {
    await t.store.taskHandlerAdd(defineTask({ alias: 'ApiEcho', handle: () => true }));
    await t.store.taskDefinitionEnqueueByAlias('q3', 'ApiEcho', {});
    await t.store.taskDefinitionEnqueueByAlias('q3', 'ApiEcho', {});
    while (await t.store.taskQueueProcessNext('q3')) {
      // both
    }
    await t.store.taskQueueMetricsFlush();
    const { body } = await client.json('/api/stats');
    expect(body.throughput).to.include({ success: 2, failed: 0 });
    const q3 = (body.timings as { queueName: string; count: number; runMs: { p50: number } }[]).find((row) => row.queueName === 'q3');
    expect(q3).to.include({ count: 2 });
    expect(q3?.runMs.p50).to.be.a('number');
    const page = await (await client.get('/')).text();
    expect(page).to.include('id="queue-timings"');
    expect(page).to.match(/<th scope="row">q3<\/th><td class="num">2<\/td>/);
  });

  it('tasks: filters by status, queue, alias and created range; sorts; pages', async () => {
    await t.store.taskDefinitionCreate({ alias: 'Other' });
    const a = await t.store.taskDefinitionEnqueueByAlias('q1', 'ApiEcho', {}, { priority: 1 });
    const b = await t.store.taskDefinitionEnqueueByAlias('q2', 'ApiEcho', {}, { priority: 3 });
    const c = await t.store.taskDefinitionEnqueueByAlias('q2', 'Other', {}, { priority: 2 });
    await t.store.taskQueueCancelById(c.id);

    const all = await client.json('/api/tasks');
    expect(all.body.total).to.equal(3);
    expect(all.body.aliases[c.id]).to.equal('Other');
    const ids = (query: string) =>
      client.json(`/api/tasks?${query}`).then(({ body }) => (body.items as TaskQueueItem[]).map((item) => item.id));
    expect(await ids('status=canceled')).to.deep.equal([c.id]);
    expect(await ids('status=queued,canceled&queue=q2&sort=priority&order=desc')).to.deep.equal([b.id, c.id]);
    expect(await ids('alias=ApiEcho&sort=priority&order=asc')).to.deep.equal([a.id, b.id]);
    expect(await ids('alias=Nobody')).to.deep.equal([]);
    expect(await ids(`from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).to.deep.equal([]);
    expect(await ids(`to=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).to.have.length(3);
    const page2 = await client.json('/api/tasks?sort=priority&order=asc&per=20&page=1');
    expect(page2.body).to.include({ page: 1, perPage: 20, pages: 1, total: 3 });
  });

  it('tasks: sort keys, statuses, page sizes and dates outside the allowlist are 400s', async () => {
    for (const query of ['sort=soft_deleted_at', 'sort=id;drop', 'status=done', 'per=7', 'order=sideways', 'from=yesterday', 'page=-1']) {
      const { status, body } = await client.json(`/api/tasks?${query}`);
      expect(status, query).to.equal(400);
      expect(body.error.code, query).to.equal('INVALID_ARGUMENT');
    }
  });

  it('task detail, and retry / cancel / delete / restore with the CSRF token', async () => {
    const failed = await failedTask();
    const detail = await client.json(`/api/tasks/${failed.id}`);
    expect(detail.body.task).to.include({ id: failed.id, status: 'failed' });
    expect(detail.body.definition.alias).to.equal('ApiEcho');
    expect((await client.json('/api/tasks/no-such-id')).status).to.equal(404);

    const retried = await client.send('POST', `/api/tasks/${failed.id}/retry`);
    expect(retried.status).to.equal(200);
    expect(retried.body.task.status).to.equal('queued');
    const canceled = await client.send('POST', `/api/tasks/${failed.id}/cancel`);
    expect(canceled.body.task.status).to.equal('canceled');
    const wrong = await client.send('POST', `/api/tasks/${failed.id}/cancel`);
    expect(wrong.status).to.equal(409);
    expect(wrong.body.error.code).to.equal('INVALID_STATE');
    const deleted = await client.send('DELETE', `/api/tasks/${failed.id}`);
    expect(deleted.body.task.softDeletedAt).to.be.a('string');
    expect(await t.store.taskQueueFindById(failed.id)).to.equal(null);
    expect((await client.json(`/api/tasks/${failed.id}`)).body.task.softDeletedAt).to.be.a('string');
    const restored = await client.send('POST', `/api/tasks/${failed.id}/restore`);
    expect(restored.body.task.softDeletedAt).to.equal(null);
    expect((await client.send('POST', `/api/tasks/${failed.id}/explode`)).status).to.equal(404);
  });

  it('refuses state-changing requests without a valid CSRF token (403), changing nothing', async () => {
    const failed = await failedTask();
    const none = await client.send('POST', `/api/tasks/${failed.id}/retry`, undefined, { csrf: false });
    expect(none.status).to.equal(403);
    expect(none.body.error.code).to.equal('CSRF');
    await client.csrf();
    const other = new DashboardClient(dashboard.url);
    await other.csrf();
    client.token = other.token; // a token for another client's cookie
    expect((await client.send('POST', `/api/tasks/${failed.id}/retry`)).status).to.equal(403);
    const form = await client.form(`/tasks/${failed.id}/retry`, {});
    expect(form.status).to.equal(403);
    expect((await t.store.taskQueueFindById(failed.id))!.status).to.equal('failed');
    // the page's own token works for its form
    const page = new DashboardClient(dashboard.url);
    const html = await (await page.get(`/tasks/${failed.id}`)).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    expect(token).to.be.a('string');
    const posted = await page.form(`/tasks/${failed.id}/retry`, { _csrf: token!, return: `/admin/tasks/${failed.id}` });
    expect(posted.status).to.equal(303);
    expect(posted.headers.get('location')).to.equal(`/admin/tasks/${failed.id}?notice=retried`);
    expect((await t.store.taskQueueFindById(failed.id))!.status).to.equal('queued');
  });

  it('enqueue with parameters the store refuses answers 400, not 500: nested 20,000 deep, a lone surrogate queue name', async () => {
    const { id } = (await t.store.taskDefinitionFindByAlias('ApiEcho'))!;
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    for (const body of [{ params: deep }, { queue: 'q\uD800' }]) {
      const answer = await client.send('POST', `/api/definitions/${id}/enqueue`, body);
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.include({ code: 'INVALID_ARGUMENT' });
    }
    expect(await t.store.taskQueueCount()).to.equal(0);
  });

  it('definitions: create, duplicate (409), update, deactivate, enqueue with JSON params, delete, restore', async () => {
    const created = await client.send('POST', '/api/definitions', { alias: 'Made', title: 'Made here', maxAttempts: 3 });
    expect(created.status).to.equal(201);
    const id = created.body.definition.id as string;
    expect(created.body.definition).to.include({ alias: 'Made', maxAttempts: 3, status: 'active' });
    expect((await client.send('POST', '/api/definitions', { alias: 'Made' })).status).to.equal(409);
    expect((await client.send('POST', '/api/definitions', {})).status).to.equal(400);
    const updated = await client.send('PATCH', `/api/definitions/${id}`, { title: 'Renamed', memo: 'note' });
    expect(updated.body.definition).to.include({ title: 'Renamed', memo: 'note' });

    const enqueued = await client.send('POST', `/api/definitions/${id}/enqueue`, {
      queue: 'special',
      params: { who: 'Ann', n: 2 },
      priority: 5,
    });
    expect(enqueued.status).to.equal(201);
    const item = (await t.store.taskQueueFindById(enqueued.body.task.id))!;
    expect(item).to.include({ queueName: 'special', priority: 5 });
    expect(item.parameters).to.include({ who: 'Ann', n: 2 });
    const badParams = await client.send('POST', `/api/definitions/${id}/enqueue`, { params: '[1,2]' });
    expect(badParams.status).to.equal(400);

    expect((await client.send('POST', `/api/definitions/${id}/cancel`)).body.definition.status).to.equal('canceled');
    expect((await client.send('POST', `/api/definitions/${id}/enqueue`, {})).status).to.equal(409);
    expect((await client.send('POST', `/api/definitions/${id}/activate`)).body.definition.status).to.equal('active');
    await client.send('POST', `/api/definitions/${id}/delete`);
    expect(await t.store.taskDefinitionFindById(id)).to.equal(null);
    const listed = await client.json('/api/definitions?deleted=1');
    expect(
      (listed.body.definitions as { id: string; counts: { total: number } }[]).find((entry) => entry.id === id)?.counts.total,
    ).to.equal(1);
    await client.send('POST', `/api/definitions/${id}/restore`);
    expect(await t.store.taskDefinitionFindById(id)).to.not.equal(null);
  });

  it('schedules: create, list with the next runs, pause and activate', async () => {
    const created = await client.send('POST', '/api/schedules', {
      name: 'every-hour',
      alias: 'ApiEcho',
      cron: '0 * * * *',
      queue: 'cron',
      params: { from: 'schedule' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.schedule.id as string;
    expect(created.body.schedule.nextRuns).to.have.length(5);
    const listed = await client.json('/api/schedules');
    expect(listed.body.schedules.map((schedule: { name: string }) => schedule.name)).to.deep.equal(['every-hour']);
    const paused = await client.send('POST', `/api/schedules/${id}/pause`);
    expect(paused.body.schedule.status).to.equal('inactive');
    expect(paused.body.schedule.nextRuns).to.deep.equal([]);
    const active = await client.send('POST', `/api/schedules/${id}/activate`);
    expect(active.body.schedule.status).to.equal('active');
    const rule = await client.send('POST', '/api/schedules', { name: 'every-2-days', alias: 'ApiEcho', frequency: 'daily', interval: '2' });
    expect(rule.status, JSON.stringify(rule.body)).to.equal(201);
    expect(rule.body.schedule.recurrenceRule).to.include({ frequency: 'daily', interval: 2 });
    const bad = await client.send('POST', '/api/schedules', { name: 'bad', alias: 'ApiEcho', cron: 'not a cron' });
    expect(bad.status).to.equal(400);
  });

  it('escapes user strings in the pages: a <script> in params or an alias is text', async () => {
    const evil = '<script>alert(1)</script>';
    await t.store.taskDefinitionCreate({ alias: 'Evil', title: `"><img src=x onerror=alert(1)>` });
    const item = await t.store.taskDefinitionEnqueueByAlias(`q${'"'}<b>`, 'Evil', { html: evil });
    await t.store.taskQueueUpdate({ id: item.id, output: evil, details: `x ${evil}` });
    for (const path of [`/tasks/${item.id}`, '/tasks', '/definitions', '/']) {
      const html = await (await client.get(path)).text();
      expect(html, path).to.not.include('<script>alert');
      expect(html, path).to.not.include('<img src=x');
      expect(html, path).to.not.include('<b>');
    }
    const detail = await (await client.get(`/tasks/${item.id}`)).text();
    expect(detail).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('pages answer with security headers; outside the base path goes to next()', async () => {
    const response = await client.get('/');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-security-policy')).to.include("script-src 'self'");
    expect(response.headers.get('x-frame-options')).to.equal('DENY');
    expect(response.headers.get('set-cookie')).to.match(/^taskstore_csrf=[^;]+; Path=\/admin; HttpOnly; SameSite=Strict/);
    const outside = await fetch(dashboard.url.replace('/admin', '/elsewhere'));
    expect(outside.status).to.equal(418);
    const script = await client.get('/assets/dashboard.js');
    expect(script.headers.get('content-type')).to.match(/javascript/);
    expect(await script.text()).to.include('followTask');
  });
});

forEachDialect('dashboard access', (t) => {
  const servers: TestDashboard[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  const serve = async (...args: Parameters<typeof serveDashboard> extends [unknown, ...infer R] ? R : never) => {
    const server = await serveDashboard(t.store, ...args);
    servers.push(server);
    return server;
  };
  const proxied = { 'X-Forwarded-For': '203.0.113.9' };

  it('without authorize serves loopback only: a proxied (remote) request is refused with a clear 403', async () => {
    const { url } = await serve();
    expect((await fetch(`${url}/api/stats`)).status).to.equal(200);
    const remote = await fetch(`${url}/api/stats`, { headers: proxied });
    expect(remote.status).to.equal(403);
    expect(((await remote.json()) as { error: { message: string } }).error.message).to.match(/authorize.*readOnly.*allowRemote/);
    const page = await fetch(`${url}/`, { headers: proxied });
    expect(page.status).to.equal(403);
  });

  it('readOnly serves remote readers, hides actions and refuses every write', async () => {
    await t.store.taskDefinitionCreate({ alias: 'RoTask' });
    const item = await t.store.taskDefinitionEnqueueByAlias('', 'RoTask', {});
    const { url } = await serve({ readOnly: true });
    const page = await fetch(`${url}/tasks/${item.id}`, { headers: proxied });
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.not.include('<form method="post"');
    expect(html).to.include('read-only');
    const client = new DashboardClient(url);
    const write = await client.send('POST', `/api/tasks/${item.id}/cancel`);
    expect(write.status).to.equal(403);
    expect(write.body.error.code).to.equal('READ_ONLY');
    expect((await t.store.taskQueueFindById(item.id))!.status).to.equal('queued');
  });

  it('allowRemote serves remote requests; authorize decides, and may answer itself', async () => {
    const open = await serve({ allowRemote: true });
    expect((await fetch(`${open.url}/api/stats`, { headers: proxied })).status).to.equal(200);
    const guarded = await serve({
      authorize: (req, res) => {
        if (req.headers.authorization === 'Bearer let-me-in') return true;
        if (req.headers.authorization === undefined) {
          res.writeHead(401, { 'WWW-Authenticate': 'Bearer' }).end();
        }
        return false;
      },
    });
    expect((await fetch(`${guarded.url}/api/stats`, { headers: { ...proxied, Authorization: 'Bearer let-me-in' } })).status).to.equal(200);
    expect((await fetch(`${guarded.url}/api/stats`, { headers: { Authorization: 'Bearer wrong' } })).status).to.equal(403);
    const challenged = await fetch(`${guarded.url}/api/stats`);
    expect(challenged.status).to.equal(401);
    expect(challenged.headers.get('www-authenticate')).to.equal('Bearer');
  });

  it('accepts a body a framework already parsed (req.body, as Express and Koa body parsers leave it)', async () => {
    const { url } = await serve({}, async (req) => {
      if (req.method !== 'POST') return;
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      (req as typeof req & { body: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    });
    const client = new DashboardClient(url);
    const created = await client.send('POST', '/api/definitions', { alias: 'FromExpress' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    await waitFor(() => t.store.taskDefinitionFindByAlias('FromExpress'), { message: 'the definition exists' });
  });
});
