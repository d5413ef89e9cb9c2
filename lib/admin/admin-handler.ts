/**
 * createAdminHandler: the dashboard as one Node `(req, res, next?)` handler. It works as a
 * plain http.createServer callback and mounted in Express, Fastify or Koa (see
 * docs/dashboard.md). Order of business for every request: is it ours (basePath), was it
 * sent to a host name we answer to (loopback or allowedHosts), may this client use it
 * (authorize, or loopback, or readOnly, or allowRemote), does a state-changing request come
 * from our own pages (Origin, Sec-Fetch-Site) and carry its CSRF token, then the route.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TaskStore } from '../task-store.js';
import { DASHBOARD_JS } from './assets/script.js';
import { DASHBOARD_CSS, FAVICON_SVG } from './assets/style.js';
import { apiRoute } from './api.js';
import { prometheusText } from './metrics.js';
import { QueueNames } from './data.js';
import { describeError, HttpError, redirect, send, sendJson } from './http.js';
import { resolveAdminOptions, type AdminHandlerOptions } from './options.js';
import { crossOriginReason, isAllowedHost, requestHost } from './hosts.js';
import { errorPage, type PageContext } from './pages/layout.js';
import type { AdminRequest } from './request.js';
import { pageRoute } from './routes.js';
import { CSRF_FIELD, CSRF_HEADER, CsrfProtection, isDirectLoopbackRequest } from './security.js';

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function asset(body: string, contentType: string): { body: string; contentType: string; etag: string } {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 20)}"` };
}

const ASSETS: Record<string, ReturnType<typeof asset>> = {
  '/assets/dashboard.js': asset(DASHBOARD_JS, 'text/javascript; charset=utf-8'),
  '/assets/dashboard.css': asset(DASHBOARD_CSS, 'text/css; charset=utf-8'),
  '/favicon.svg': asset(FAVICON_SVG, 'image/svg+xml'),
  // At the root of a host, a browser that ignores the <link rel="icon"> asks here.
  '/favicon.ico': asset(FAVICON_SVG, 'image/svg+xml'),
};

export function createAdminHandler(store: TaskStore, options: AdminHandlerOptions = {}): AdminHandler {
  const resolved = resolveAdminOptions(options);
  const csrf = new CsrfProtection(resolved.csrfSecret, resolved.basePath === '' ? '/' : resolved.basePath);
  const queueNames = new QueueNames(resolved.queues);

  return async function adminHandler(req, res, next) {
    const rawUrl = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    let url: URL;
    try {
      url = new URL(rawUrl, 'http://dashboard.invalid');
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad request URL');
    }
    const base = resolved.basePath;
    if (base !== '' && url.pathname !== base && !url.pathname.startsWith(`${base}/`)) {
      if (next) return next();
      return send(res, 404, 'text/plain; charset=utf-8', 'not found');
    }
    const path = url.pathname.slice(base.length) || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const isApi = path === '/api' || path.startsWith('/api/');
    const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}, page?: PageContext) => {
      if (isApi || !page) {
        if (isApi) return sendJson(res, status, { error: { code, message } }, headers);
        return send(res, status, 'text/plain; charset=utf-8', `${message}\n`, headers);
      }
      return send(res, status, 'text/html; charset=utf-8', errorPage(page, status, message), headers);
    };

    // 0. Only for our own host names: a foreign Host is a rebound DNS name or a misrouted request.
    const host = requestHost(req);
    if (!isAllowedHost(host, resolved.allowedHosts)) {
      const named = host ? `the host '${host.hostname}'` : 'a request without a valid Host header';
      return fail(
        421,
        'MISDIRECTED',
        `taskstore dashboard: not serving ${named}. Open it at a loopback address such as http://127.0.0.1, ` +
          'or add the name to allowedHosts (taskstore dashboard --allowed-host).',
      );
    }

    // Known before anything can fail, so an error page shows the read-only badge only when it is.
    let readOnly = resolved.readOnly;
    try {
      // 1. Who may come in.
      if (resolved.authorize) {
        const allowed = await resolved.authorize(req, res);
        if (res.headersSent || res.writableEnded) return;
        if (allowed !== true) return fail(403, 'FORBIDDEN', 'taskstore dashboard: not authorized');
      } else if (!isDirectLoopbackRequest(req) && !resolved.allowRemote) {
        if (!resolved.readOnly) {
          return fail(
            403,
            'FORBIDDEN',
            `taskstore dashboard: refusing a request that does not come straight from this machine (loopback). ${resolved.remoteRefusalHint}`,
          );
        }
        readOnly = true;
      }

      // 2. Static assets: cacheable, no cookie.
      const file = ASSETS[path];
      if (file && (method === 'GET' || method === 'HEAD')) {
        if (req.headers['if-none-match'] === file.etag)
          return send(res, 304, file.contentType, '', { ETag: file.etag, 'Cache-Control': 'public, max-age=3600' });
        return send(res, 200, file.contentType, file.body, { ETag: file.etag, 'Cache-Control': 'public, max-age=3600' });
      }

      // 3. Prometheus scrapes: read-only text, no cookie.
      if (path === '/metrics' && (method === 'GET' || method === 'HEAD')) {
        return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', await prometheusText(store, resolved.countCap), {
          'Cache-Control': 'no-store',
        });
      }

      // 4. The CSRF nonce of this client (a cookie), and its token.
      const { nonce, setCookie } = csrf.nonceFor(req);
      const headers: Record<string, string> = setCookie ? { 'Set-Cookie': setCookie } : {};
      const page: PageContext = {
        base,
        csrfToken: csrf.tokenFor(nonce),
        readOnly,
        title: resolved.title,
        here: `${base}${path}${url.search}`.replace(/([?&])notice=[^&]*&?/, '$1').replace(/[?&]$/, ''),
        notice: url.searchParams.get('notice'),
      };

      const request: AdminRequest = {
        req,
        res,
        store,
        options: resolved,
        method,
        path,
        query: url.searchParams,
        readOnly,
        queueNames,
        page,
        headers,
      };

      // 5. State-changing requests: never when read-only, always with the token.
      if (STATE_CHANGING.has(method)) {
        if (readOnly) return fail(403, 'READ_ONLY', 'taskstore dashboard: read-only; nothing can be changed here', headers, page);
        const crossOrigin = crossOriginReason(req, host, resolved.allowedHosts);
        if (crossOrigin)
          return fail(
            403,
            'CROSS_ORIGIN',
            `taskstore dashboard: refusing a change sent from another origin (${crossOrigin})`,
            headers,
            page,
          );
        const header = req.headers[CSRF_HEADER];
        const token = Array.isArray(header) ? header[0] : header;
        // Form posts carry the token in the body: read there by the route (verifyCsrf).
        const verify = (given: unknown) => csrf.verify(req, given);
        if (isApi) {
          if (!verify(token))
            return fail(
              403,
              'CSRF',
              'taskstore dashboard: missing or invalid CSRF token (send X-CSRF-Token; GET api/csrf gives one)',
              headers,
            );
          return await apiRoute(request);
        }
        return await pageRoute(request, (body) => {
          if (!verify(token ?? body[CSRF_FIELD]))
            throw new HttpError(403, 'missing or invalid CSRF token: reload the page and try again', 'CSRF');
        });
      } else if (method !== 'GET' && method !== 'HEAD') {
        return fail(405, 'METHOD_NOT_ALLOWED', `method ${method} is not allowed`, { ...headers, Allow: 'GET, HEAD, POST' }, page);
      }

      if (isApi) {
        if (path === '/api/csrf') return sendJson(res, 200, { token: page.csrfToken, header: 'X-CSRF-Token' }, headers);
        return await apiRoute(request);
      }
      if (base !== '' && url.pathname === base) return redirect(res, `${base}/${url.search}`, headers);
      return await pageRoute(request, () => {});
    } catch (error) {
      const { status, code, message, headers } = describeError(error);
      if (status >= 500) store.logger.error(`taskstore dashboard: ${method} ${path} failed`, error);
      if (res.headersSent) return void res.end();
      const page: PageContext = { base, csrfToken: '', readOnly, title: resolved.title, here: base || '/', notice: null };
      return fail(status, code, message, headers, page);
    }
  };
}

export type { AdminHandlerOptions };
