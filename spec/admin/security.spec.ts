/**
 * The dashboard's defences over real HTTP, on every dialect: it answers only to its own host
 * names (DNS rebinding), takes changes only from its own pages (Origin, Sec-Fetch-Site),
 * answers an oversized body with a 413 it can still deliver, gives up on slow clients (the
 * handler's body deadline and the CLI server's timeouts), and works out a form's return
 * target before it applies the action.
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

  describe('Host (DNS rebinding)', () => {
    it('refuses a foreign Host with 421 and no data: no task, no CSRF cookie or token, no action', async () => {
      const failed = await failedTask();
      await t.store.taskQueueUpdate({ id: failed.id, parameters: { secret: 'hunter2' } });
      const { url } = await serve({ basePath: '/admin' });
      const port = new URL(url).port;
      const rebound = { Host: `attacker.example:${port}` };
      for (const path of ['/admin/', `/admin/tasks/${failed.id}`, `/admin/api/tasks/${failed.id}`, '/admin/api/csrf', '/admin/api/tasks']) {
        const response = await rawRequest(`${url.replace('/admin', '')}${path}`, { headers: rebound });
        expect(response.status, path).to.equal(421);
        expect(response.body, path).to.not.include('hunter2');
        expect(response.body, path).to.not.include(failed.id);
        expect(response.headers['set-cookie'], path).to.equal(undefined);
      }
      const api = await rawRequest(`${url}/api/stats`, { headers: rebound });
      expect(JSON.parse(api.body).error.code).to.equal('MISDIRECTED');
      expect(JSON.parse(api.body).error.message).to.match(/attacker\.example.*allowedHosts/);
      // Even with a valid cookie and token from the real name, a write under the rebound name is refused.
      const headers = await writer(url);
      const write = await rawRequest(`${url}/api/tasks/${failed.id}/retry`, { method: 'POST', headers: { ...headers, ...rebound } });
      expect(write.status).to.equal(421);
      expect((await t.store.taskQueueFindById(failed.id))!.status).to.equal('failed');
    });

    it('answers to loopback names and addresses, with or without a port', async () => {
      const { url } = await serve();
      const port = new URL(url).port;
      for (const host of [
        `127.0.0.1:${port}`,
        '127.0.0.1',
        '127.8.9.10',
        `localhost:${port}`,
        'LocalHost',
        'localhost.',
        `app.localhost:${port}`,
        `[::1]:${port}`,
        '[::1]',
      ]) {
        expect((await rawRequest(`${url}/api/queues`, { headers: { Host: host } })).status, host).to.equal(200);
      }
      for (const host of ['127.0.0.1.attacker.example', 'localhost.attacker.example', 'localhostx', '10.0.0.5', '[::2]', 'a@127.0.0.1']) {
        expect((await rawRequest(`${url}/api/queues`, { headers: { Host: host } })).status, host).to.equal(421);
      }
    });

    it('refuses a request without a Host header (HTTP/1.0)', async () => {
      const { url } = await serve();
      const answer = await stalledRequest(url, 'GET /api/queues HTTP/1.0\r\n\r\n');
      expect(answer).to.match(/^HTTP\/1\.1 421 /);
      expect(answer).to.include('"MISDIRECTED"');
    });

    it('allowedHosts adds exact names and, with a leading dot, every name under one; true accepts any Host', async () => {
      const { url } = await serve({ allowedHosts: ['Tasks.Example.com', '.corp.example', '10.0.0.5'] });
      const status = async (host: string) => (await rawRequest(`${url}/api/queues`, { headers: { Host: host } })).status;
      for (const host of [
        'tasks.example.com',
        'TASKS.EXAMPLE.COM:8443',
        'corp.example',
        'a.b.corp.example',
        '10.0.0.5:3000',
        '127.0.0.1',
      ]) {
        expect(await status(host), host).to.equal(200);
      }
      for (const host of ['example.com', 'www.tasks.example.com', 'tasks.example.com.attacker.example', 'evilcorp.example', '10.0.0.6']) {
        expect(await status(host), host).to.equal(421);
      }
      const open = await serve({ allowedHosts: true });
      expect((await rawRequest(`${open.url}/api/queues`, { headers: { Host: 'anything.example' } })).status).to.equal(200);
    });
  });

  describe('Origin and Sec-Fetch-Site on writes', () => {
    it('refuses a write from another origin or site (403 CROSS_ORIGIN) even with a valid token, changing nothing', async () => {
      const failed = await failedTask();
      const { url } = await serve();
      const port = new URL(url).port;
      const headers = await writer(url);
      for (const extra of <Record<string, string>[]>[
        { Origin: 'http://attacker.example' },
        { Origin: `http://127.0.0.1:${Number(port) + 1}` },
        { Origin: `http://localhost:${port}` },
        { Origin: 'null' },
        { Origin: 'not an origin' },
        { 'Sec-Fetch-Site': 'cross-site' },
        { 'Sec-Fetch-Site': 'same-site' },
        { Origin: `http://127.0.0.1:${port}`, 'Sec-Fetch-Site': 'cross-site' },
      ]) {
        const response = await rawRequest(`${url}/api/tasks/${failed.id}/retry`, { method: 'POST', headers: { ...headers, ...extra } });
        expect(response.status, JSON.stringify(extra)).to.equal(403);
        expect(JSON.parse(response.body).error.code, JSON.stringify(extra)).to.equal('CROSS_ORIGIN');
      }
      const form = await rawRequest(`${url}/tasks/${failed.id}/retry`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://attacker.example' },
        body: `_csrf=${encodeURIComponent(headers['X-CSRF-Token']!)}`,
      });
      expect(form.status).to.equal(403);
      expect((await t.store.taskQueueFindById(failed.id))!.status).to.equal('failed');
    });

    it("takes a write from the dashboard's own origin, from a user-initiated request, or from a script that sends neither", async () => {
      const { url } = await serve();
      const port = new URL(url).port;
      const headers = await writer(url);
      for (const extra of <Record<string, string>[]>[
        { Origin: `http://127.0.0.1:${port}`, 'Sec-Fetch-Site': 'same-origin' },
        { 'Sec-Fetch-Site': 'none' },
        {},
      ]) {
        const failed = await failedTask();
        const response = await rawRequest(`${url}/api/tasks/${failed.id}/retry`, { method: 'POST', headers: { ...headers, ...extra } });
        expect(response.status, JSON.stringify(extra)).to.equal(200);
        expect((await t.store.taskQueueFindById(failed.id))!.status).to.equal('queued');
      }
    });

    it('behind a proxy: the Origin may be a name in allowedHosts, on its default port, whatever Host the proxy sends', async () => {
      const { url } = await serve({ allowedHosts: ['tasks.example.com'] });
      const headers = await writer(url);
      for (const extra of <Record<string, string>[]>[
        { Host: 'tasks.example.com', Origin: 'https://tasks.example.com' },
        { Origin: 'https://tasks.example.com' }, // the proxy rewrote Host to 127.0.0.1:port
      ]) {
        const failed = await failedTask();
        const response = await rawRequest(`${url}/api/tasks/${failed.id}/retry`, { method: 'POST', headers: { ...headers, ...extra } });
        expect(response.status, JSON.stringify(extra)).to.equal(200);
      }
      const failed = await failedTask();
      const foreign = await rawRequest(`${url}/api/tasks/${failed.id}/retry`, {
        method: 'POST',
        headers: { ...headers, Host: 'tasks.example.com', Origin: 'https://other.example.com' },
      });
      expect(foreign.status).to.equal(403);
    });
  });

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
