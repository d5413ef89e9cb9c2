/**
 * Runners in the dashboard: the runners page and api/runners, both read-only, from the
 * store's runnerList (docs/runners.md, "The runners registry").
 */
import { STALE_AFTER_HEARTBEATS } from '../store/runner-registry.js';
import type { TaskStore } from '../task-store.js';
import { HttpError, send, sendJson } from './http.js';
import { notFoundPage } from './pages/not-found.js';
import { runnersPage, type RunnersPageData } from './pages/runners.js';
import type { AdminRequest } from './request.js';

/** The live runners, with the heartbeat interval and the staleness window they were judged by. */
export async function runnerEntries(store: TaskStore): Promise<RunnersPageData> {
  const heartbeatIntervalMs = store.runnerHeartbeatIntervalMs;
  return { runners: await store.runnerList(), heartbeatIntervalMs, staleAfterMs: STALE_AFTER_HEARTBEATS * heartbeatIntervalMs };
}

/** GET /runners. `segments` come decoded. */
export async function runnerPageRoute(request: AdminRequest, segments: string[]): Promise<void> {
  const { page, res, headers } = request;
  if (segments.length !== 1) return send(res, 404, 'text/html; charset=utf-8', notFoundPage(page), headers);
  send(res, 200, 'text/html; charset=utf-8', runnersPage(page, await runnerEntries(request.store)), headers);
}

/** GET api/runners: { runners, heartbeatIntervalMs, staleAfterMs }. `segments` come decoded, without 'api'. */
export async function runnerApiRoute(request: AdminRequest, segments: string[]): Promise<void> {
  const { method, res, headers } = request;
  if (segments.length === 1 && (method === 'GET' || method === 'HEAD'))
    return sendJson(res, 200, await runnerEntries(request.store), headers);
  throw new HttpError(404, `no API route ${method} ${request.path}`, 'NOT_FOUND');
}
