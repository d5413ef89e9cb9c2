/** The HTML pages and their form posts (each post answers with a 303 redirect). */
import { notFoundPage } from './pages/not-found.js';
import {
  applyDefinitionAction,
  applyTaskAction,
  createDefinition,
  DEFINITION_ACTIONS,
  enqueueDefinition,
  TASK_ACTIONS,
  updateDefinition,
  type Body,
  type DefinitionAction,
  type TaskAction,
} from './actions.js';
import { definitionById, definitionPage, overview, taskDetail, taskPage } from './data.js';
import { parsePaging, parseTaskFilters } from './filters.js';
import { redirect, send } from './http.js';
import { definitionDetailPage, definitionListPage, ENQUEUE_FORM_FIELDS } from './pages/definitions.js';
import { formErrorOf } from './form-errors.js';
import { href } from './pages/layout.js';
import { flowPage } from './pages/flows.js';
import { overviewPage } from './pages/overview.js';
import { taskDetailPage, taskListPage } from './pages/tasks.js';
import { pathSegments, requestBody, type AdminRequest } from './request.js';
import { schedulePageRoute } from './schedule-routes.js';
import { queuePageRoute } from './queue-routes.js';
import { runnerPageRoute } from './runner-routes.js';
import { bulkPageRoute } from './bulk.js';

const NOTICE_OF: Record<string, string> = {
  retry: 'retried',
  cancel: 'canceled',
  delete: 'deleted',
  restore: 'restored',
  activate: 'activated',
  'run-now': 'made-due',
};

/**
 * Where a form goes back to: its `return` field when that is a page of this dashboard, else
 * `fallback`; with `notice` added. Worked out before the action runs, and percent-encoded
 * (a Location header holds ASCII only), so an odd target can never fail an applied action.
 */
function returnTo(request: AdminRequest, body: Body, fallback: string, notice: string): string {
  const base = request.page.base;
  const wanted = typeof body['return'] === 'string' ? body['return'] : '';
  let target = new URL(`${base}${fallback}`, 'http://dashboard.invalid');
  if (wanted.startsWith(`${base}/`) && !wanted.startsWith('//') && !/[\\\s]/.test(wanted)) {
    try {
      const url = new URL(wanted, 'http://dashboard.invalid');
      const under = url.pathname.slice(base.length);
      const ours = url.origin === target.origin && url.pathname.startsWith(`${base}/`);
      if (ours && under !== '/api' && !under.startsWith('/api/')) target = url;
    } catch {
      // not a URL: the fallback
    }
  }
  target.hash = '';
  target.searchParams.delete('notice');
  target.searchParams.append('notice', notice);
  return `${target.pathname}${target.search}`;
}

function html(request: AdminRequest, status: number, page: string): void {
  send(request.res, status, 'text/html; charset=utf-8', page, request.headers);
}

export async function pageRoute(request: AdminRequest, verifyCsrf: (body: Body) => void): Promise<void> {
  const { store, path, method, page } = request;
  const segments = pathSegments(path);
  const [section, id, action] = segments;

  if (method === 'POST') {
    const body = await requestBody(request);
    verifyCsrf(body);
    if (section === 'tasks' && id === 'bulk') return bulkPageRoute(request, segments, body);
    if (section === 'tasks' && id && action && (TASK_ACTIONS as readonly string[]).includes(action) && segments.length === 3) {
      const location = returnTo(request, body, `/tasks/${encodeURIComponent(id)}`, NOTICE_OF[action] ?? 'updated');
      await applyTaskAction(store, id, action as TaskAction);
      return redirect(request.res, location, request.headers);
    }
    if (section === 'definitions' && segments.length === 1) {
      const definition = await createDefinition(store, body);
      return redirect(request.res, `${page.base}/definitions/${encodeURIComponent(definition.id)}?notice=created`, request.headers);
    }
    if (section === 'definitions' && id && segments.length === 2) {
      await updateDefinition(store, id, body);
      return redirect(request.res, `${page.base}/definitions/${encodeURIComponent(id)}?notice=updated`, request.headers);
    }
    if (section === 'definitions' && id && action === 'enqueue' && segments.length === 3) {
      let item;
      try {
        item = await enqueueDefinition(store, id, body);
      } catch (error) {
        // A refused input: the definition page again, the enqueue form keeping what was sent.
        const definition = await definitionById(store, id);
        const formError = definition ? formErrorOf(error, ENQUEUE_FORM_FIELDS) : null;
        if (!definition || !formError) throw error;
        const queues = await request.queueNames.list(store);
        return html(request, formError.status, definitionDetailPage(page, definition, queues, { values: body, error: formError }));
      }
      request.queueNames.remember(item.queueName);
      return redirect(request.res, `${page.base}/tasks/${encodeURIComponent(item.id)}?notice=enqueued`, request.headers);
    }
    if (section === 'definitions' && id && action && (DEFINITION_ACTIONS as readonly string[]).includes(action) && segments.length === 3) {
      const notice = action === 'cancel' ? 'updated' : (NOTICE_OF[action] ?? 'updated');
      const location = returnTo(request, body, `/definitions/${encodeURIComponent(id)}`, notice);
      await applyDefinitionAction(store, id, action as DefinitionAction);
      return redirect(request.res, location, request.headers);
    }
    if (section === 'flows' && id && action === 'cancel' && segments.length === 3) {
      const location = returnTo(request, body, `/flows/${encodeURIComponent(id)}`, 'flow-canceled');
      await store.flowCancelById(id);
      return redirect(request.res, location, request.headers);
    }
    if (section === 'schedules') return schedulePageRoute(request, segments, body);
    if (section === 'queues') return queuePageRoute(request, segments, body);
    return html(request, 404, notFoundPage(page));
  }

  if (segments.length === 0)
    return html(request, 200, overviewPage(page, await overview(store, request.queueNames, request.options.countCap)));
  if (section === 'tasks' && segments.length === 1) {
    const { filters, errors } = parseTaskFilters(request.query);
    const result = await taskPage(store, filters, request.options.countCap);
    return html(request, errors.length > 0 ? 400 : 200, taskListPage(page, filters, result, errors, await request.queueNames.list(store)));
  }
  if (section === 'tasks' && id === 'bulk') return bulkPageRoute(request, segments, null);
  if (section === 'tasks' && id && segments.length === 2) {
    const found = await taskDetail(store, id);
    if (!found) return html(request, 404, notFoundPage(page, `No task with id ${id}.`, href(page, '/tasks')));
    return html(request, 200, taskDetailPage(page, found.item, found.definition));
  }
  if (section === 'definitions' && segments.length === 1) {
    const deleted = request.query.get('deleted') === '1';
    const { page: number, perPage, errors } = parsePaging(request.query);
    const data = await definitionPage(store, { includeDeleted: deleted, page: number, perPage, cap: request.options.countCap });
    return html(request, errors.length > 0 ? 400 : 200, definitionListPage(page, data, deleted));
  }
  if (section === 'definitions' && id && segments.length === 2) {
    const definition = await definitionById(store, id);
    if (!definition) return html(request, 404, notFoundPage(page, `No task definition with id ${id}.`, href(page, '/definitions')));
    return html(request, 200, definitionDetailPage(page, definition, await request.queueNames.list(store)));
  }
  if (section === 'flows' && id && segments.length === 2) {
    const flow = await store.flowFindById(id);
    if (!flow) return html(request, 404, notFoundPage(page, `No flow with id ${id}.`, href(page, '/tasks')));
    return html(request, 200, flowPage(page, flow));
  }
  if (section === 'schedules') return schedulePageRoute(request, segments, null);
  if (section === 'queues') return queuePageRoute(request, segments, null);
  if (section === 'runners') return runnerPageRoute(request, segments);
  return html(request, 404, notFoundPage(page));
}
