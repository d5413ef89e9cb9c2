/**
 * The dashboard's defences over real HTTP, on every dialect: it answers an oversized body with
 * a 413 it can still deliver, gives up on slow clients (the handler's body deadline and the
 * CLI server's timeouts), and works out a form's return target before it applies the action.
 */
import { expect } from 'chai';
import { startDashboardServer, type DashboardServer } from '../../lib/cli/dashboard-server.js';
import { forEachDialect } from '../support/index.js';
import type { TaskQueueItem } from '../../lib/index.js';
import { DashboardClient, rawRequest, serveDashboard, stalledRequest, type TestDashboard } from './admin-helpers.js';

forEachDialect('dashboard security', (t) => {
  const servers: (TestDashboard | DashboardServer)[] = [];
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

  /** A client with its cookie and token, and the headers of a JSON write with them. */
  async function writer(url: string): Promise<Record<string, string>> {
    const client = new DashboardClient(url);
    await client.csrf();
    return { Cookie: client.cookie, 'X-CSRF-Token': client.token, 'Content-Type': 'application/json' };
  }

  describe('request bodies', () => {
    const overLimit = Buffer.alloc(2 * 1024 * 1024, 'a');

    it('answers a body over 1 MiB with 413 PAYLOAD_TOO_LARGE and Connection: close, and creates nothing', async () => {
      const { url } = await serve();
      const headers = await writer(url);
      const declared = await rawRequest(`${url}/api/definitions`, {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(overLimit.length) },
        body: overLimit,
      });
      const chunked = await rawRequest(`${url}/api/definitions`, { method: 'POST', headers, body: overLimit });
      for (const response of [declared, chunked]) {
        expect(response.status).to.equal(413);
        expect(response.headers.connection).to.equal('close');
        expect(JSON.parse(response.body).error.code).to.equal('PAYLOAD_TOO_LARGE');
      }
      const form = await rawRequest(`${url}/definitions`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `alias=Huge&_csrf=${encodeURIComponent(headers['X-CSRF-Token']!)}&memo=${'m'.repeat(1024 * 1024)}`,
      });
      expect(form.status).to.equal(413);
      expect(form.body).to.include('larger than 1 MiB');
      expect(await t.store.taskDefinitionCount()).to.equal(1);
    });

    it('a body that stalls gets 408 REQUEST_TIMEOUT from the handler (bodyTimeoutMs), and the connection is closed', async () => {
      const { url } = await serve({ bodyTimeoutMs: 100 });
      const headers = await writer(url);
      const head =
        `POST /api/definitions HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${headers['Cookie']}\r\nX-CSRF-Token: ${headers['X-CSRF-Token']}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"alias": "Sl';
      const answer = await stalledRequest(url, head);
      expect(answer).to.match(/^HTTP\/1\.1 408 /);
      expect(answer).to.match(/\r\nConnection: close\r\n/i);
      expect(answer).to.include('"REQUEST_TIMEOUT"');
      expect(await t.store.taskDefinitionCount()).to.equal(1);
    });

    it('the CLI server ends a request whose headers or body stall (headersTimeout, requestTimeout) with 408', async () => {
      const cli = await startDashboardServer(t.store, {
        host: '127.0.0.1',
        port: 0,
        headersTimeoutMs: 100,
        requestTimeoutMs: 200,
        bodyTimeoutMs: 600_000, // the server's timeouts, not the handler's, end these
      });
      servers.push(cli);
      const headers = await writer(cli.url.replace(/\/$/, ''));
      const slowHeaders = await stalledRequest(cli.url, 'GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      expect(slowHeaders).to.match(/^HTTP\/1\.1 408 /);
      const slowBody = await stalledRequest(
        cli.url,
        `POST /api/definitions HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${headers['Cookie']}\r\nX-CSRF-Token: ${headers['X-CSRF-Token']}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"alias": "Sl',
      );
      expect(slowBody).to.match(/^HTTP\/1\.1 408 /);
      expect(await t.store.taskDefinitionCount()).to.equal(1);
    });
  });

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
