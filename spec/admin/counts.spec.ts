/**
 * The dashboard's counts stop at its countCap (docs/dashboard.md, "What it costs the
 * database"): overview, queues page, task list totals, definitions (paged), JSON API and
 * /metrics show "n+" and list what was capped; below the cap they are exact.
 */
import { expect } from 'chai';
import type { TaskStatus } from '../../lib/index.js';
import { forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';
import { DashboardClient, serveDashboard, type TestDashboard } from './admin-helpers.js';

forEachDialect('dashboard counts up to countCap', (t) => {
  let dashboard: TestDashboard;
  let client: DashboardClient;

  before(async () => {
    dashboard = await serveDashboard(t.store, { basePath: '/admin', countCap: 2 });
  });
  after(async () => {
    await dashboard.close();
  });
  beforeEach(() => {
    client = new DashboardClient(dashboard.url);
  });

  async function tasks(taskId: string, queueName: string, status: TaskStatus, count: number): Promise<void> {
    for (let i = 0; i < count; i++) await t.store.taskQueueCreate({ taskId, queueName, status });
  }

  it('overview and queues: a count past the cap shows as "2+", listed in capped; totals too', async () => {
    const queue = uniqueQueue('cap');
    const { id } = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Capped') });
    await tasks(id, queue, 'queued', 3);
    await tasks(id, queue, 'failed', 2);

    const { body } = await client.json('/api/stats');
    const row = body.queues.find((entry: { queueName: string }) => entry.queueName === queue);
    expect(row).to.deep.include({ total: 4, capped: ['queued'] });
    expect(row.stats).to.include({ queued: 2, failed: 2 });
    expect(body.capped).to.include('queued');
    expect(body.capped).to.not.include('failed');
    expect(body.countCap).to.equal(2);

    const overview = await (await client.get('/')).text();
    expect(overview).to.match(new RegExp(`data-count="${queue}\\|queued"><a [^>]*>2\\+</a>`));
    expect(overview).to.match(new RegExp(`data-count="${queue}\\|failed"><a [^>]*>2</a>`));
    const queues = await (await client.get('/queues')).text();
    expect(queues).to.match(new RegExp(`data-count="${queue}\\|queued"><a [^>]*>2\\+</a>`));
    const metrics = await (await client.get('/metrics')).text();
    expect(metrics).to.include(`taskstore_queue_depth{queue="${queue}",status="queued"} 2`);
    expect(metrics).to.include(`taskstore_queue_depth_capped{queue="${queue}",status="queued"} 1`);
    expect(metrics).to.include(`taskstore_queue_depth_capped{queue="${queue}",status="failed"} 0`);
  });

  it('task list: the total stops at the cap ("1–3 of 2+"), the page shows every row it holds', async () => {
    const queue = uniqueQueue('list');
    const { id } = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Listed') });
    await tasks(id, queue, 'failed', 3);
    const { body } = await client.json(`/api/tasks?queue=${queue}&per=20`);
    expect(body).to.include({ total: 2, capped: true, pages: 1 });
    expect(body.items).to.have.length(3);
    const exact = await client.json(`/api/tasks?queue=${queue}&status=queued`);
    expect(exact.body).to.include({ total: 0, capped: false });
    const page = await (await client.get(`/tasks?queue=${queue}&per=20`)).text();
    expect(page).to.include('1–3 of 2+');
  });

  it('task list: newest first by default, in creation (id) order', async () => {
    const queue = uniqueQueue('order');
    const { id } = await t.store.taskDefinitionCreate({ alias: uniqueAlias('Ordered') });
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await t.store.taskQueueCreate({ taskId: id, queueName: queue }));
    const { body } = await client.json(`/api/tasks?queue=${queue}`);
    expect(body.items.map((item: { id: string }) => item.id)).to.deep.equal(made.map((item) => item.id).reverse());
  });

  it('definitions: paged by alias, each page counting only its own definitions, up to the cap', async () => {
    const prefix = uniqueAlias('Paged');
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) ids.push((await t.store.taskDefinitionCreate({ alias: `${prefix}${String(i).padStart(2, '0')}` })).id);
    await tasks(ids[0]!, 'paged', 'queued', 3);
    await tasks(ids[0]!, 'paged', 'failed', 1);
    await tasks(ids[21]!, 'paged', 'failed', 1);
    const all = await t.store.taskDefinitionCount();

    const first = await client.json('/api/definitions?per=20');
    expect(first.body).to.include({ page: 1, perPage: 20, total: all, pages: Math.ceil(all / 20), countCap: 2 });
    const mine = (definitions: { id: string; counts: unknown }[]) => definitions.filter((definition) => ids.includes(definition.id));
    const onFirst = mine(first.body.definitions).find((definition) => definition.id === ids[0]);
    expect(onFirst?.counts).to.deep.equal({ queued: 2, failed: 1, total: 3, capped: ['queued', 'total'] });

    const pages = await Promise.all(
      Array.from({ length: first.body.pages }, (_, i) => client.json(`/api/definitions?per=20&page=${i + 1}`)),
    );
    const seen = pages.flatMap((page) => mine(page.body.definitions));
    expect(seen.map((definition) => definition.id)).to.deep.equal(ids);
    expect(seen.find((definition) => definition.id === ids[21])?.counts).to.deep.equal({ queued: 0, failed: 1, total: 1, capped: [] });

    const html = await (await client.get('/definitions?per=20')).text();
    expect(html).to.match(/page 1 of \d+/);
    expect((await client.json('/api/definitions?per=7')).status).to.equal(400);
  });
});
