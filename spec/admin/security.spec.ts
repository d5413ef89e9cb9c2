/**
 * The dashboard's defences over real HTTP, on every dialect: it works out a form's return
 * target before it applies the action.
 */
import { expect } from 'chai';
import { forEachDialect } from '../support/index.js';
import type { TaskQueueItem } from '../../lib/index.js';
import { DashboardClient, serveDashboard, type TestDashboard } from './admin-helpers.js';

forEachDialect('dashboard security', (t) => {
  const servers: TestDashboard[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  const serve = async (...args: Parameters<typeof serveDashboard> extends [unknown, ...infer R] ? R : never) => {
    const server = await serveDashboard(t.store, ...args);
    servers.push(server);
    return server;
  };

  beforeEach(async () => {
    await t.store.taskDefinitionCreate({ alias: 'SecEcho' });
  });

  async function failedTask(): Promise<TaskQueueItem> {
    const item = await t.store.taskDefinitionEnqueueByAlias('sec', 'SecEcho', {});
    await t.store.taskQueueClaimNext('sec');
    await t.store.taskQueueUpdate({ id: item.id, status: 'failed' });
    return (await t.store.taskQueueFindById(item.id))!;
  }

  describe('form return targets', () => {
    it('percent-encodes a non-Latin-1 return target and redirects there once the action is applied', async () => {
      const { url } = await serve({ basePath: '/admin' });
      const page = new DashboardClient(url);
      await page.csrf();
      for (const wanted of ['/admin/tasks?queue=é✓&status=failed', '/admin/tasks/café', '/admin/tasks?alias=x#frag✓']) {
        const failed = await failedTask();
        const response = await page.form(`/tasks/${failed.id}/retry`, { _csrf: page.token, return: wanted });
        expect(response.status, wanted).to.equal(303);
        const location = response.headers.get('location')!;
        expect(location, wanted).to.match(/^[\x21-\x7e]+$/);
        const target = new URL(location, url);
        const intended = new URL(wanted, url);
        expect(decodeURIComponent(target.pathname), wanted).to.equal(decodeURIComponent(intended.pathname));
        for (const [key, value] of intended.searchParams) expect(target.searchParams.get(key), wanted).to.equal(value);
        expect(target.searchParams.get('notice')).to.equal('retried');
        expect((await t.store.taskQueueFindById(failed.id))!.status).to.equal('queued');
        // The server reads the target back as it was meant: the list with its filters, or the page of task 'café'.
        const followed = await page.get(location.slice('/admin'.length));
        if (intended.pathname === '/admin/tasks') expect(followed.status, location).to.equal(200);
        else expect(await followed.text(), location).to.include('No task with id café');
      }
    });

    it('falls back to the task page for a return target outside the dashboard, its API or another host', async () => {
      const { url } = await serve({ basePath: '/admin' });
      const page = new DashboardClient(url);
      await page.csrf();
      for (const wanted of [
        'https://attacker.example/',
        '//attacker.example/admin/',
        '/admin/api/tasks',
        '/admin/../api/x',
        '/elsewhere',
        '/admin/%2e%2e/x',
      ]) {
        const failed = await failedTask();
        const response = await page.form(`/tasks/${failed.id}/retry`, { _csrf: page.token, return: wanted });
        expect(response.status, wanted).to.equal(303);
        expect(response.headers.get('location'), wanted).to.equal(`/admin/tasks/${failed.id}?notice=retried`);
      }
    });
  });
});
