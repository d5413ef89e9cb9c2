/**
 * The JSON API under <basePath>/api: stats, tasks (list with filters, detail, actions, bulk actions),
 * definitions (list, create, update, actions, enqueue), flows (detail, cancel), schedules,
 * queues (settings, pause, resume, limits) and runners (the runners registry).
 * Errors answer { error: { code, message } } with 400/403/404/409/500.
 */
import {
  applyDefinitionAction,
  applyTaskAction,
  createDefinition,
  DEFINITION_ACTIONS,
  enqueueDefinition,
  TASK_ACTIONS,
  updateDefinition,
  type DefinitionAction,
  type TaskAction,
} from './actions.js';
import { definitionById, definitionPage, overview, taskDetail, taskPage } from './data.js';
import { parsePaging, parseTaskFilters } from './filters.js';
import { HttpError, sendJson } from './http.js';
import { pathSegments, requestBody, type AdminRequest } from './request.js';
import { scheduleApiRoute } from './schedule-routes.js';
import { queueApiRoute } from './queue-routes.js';
import { runnerApiRoute } from './runner-routes.js';
import { bulkApiRoute } from './bulk.js';

export async function apiRoute(request: AdminRequest): Promise<void> {
  const { store, method, res, headers } = request;
  const segments = pathSegments(request.path).slice(1); // without 'api'
  const [section, id, action] = segments;
  const ok = (value: unknown, status = 200) => sendJson(res, status, value, headers);
  const get = method === 'GET' || method === 'HEAD';

  if (section === 'stats' && segments.length === 1 && get) return ok(await overview(store, request.queueNames, request.options.countCap));
  if (section === 'queues' && segments.length === 1 && get) return ok({ queues: await request.queueNames.list(store) });
  if (section === 'queues' && segments.length > 1) return queueApiRoute(request, segments);
  if (section === 'runners') return runnerApiRoute(request, segments);

  if (section === 'tasks') {
    if (id === 'bulk') return bulkApiRoute(request, segments);
    if (segments.length === 1 && get) {
      const { filters, errors } = parseTaskFilters(request.query);
      if (errors.length > 0) throw new HttpError(400, errors.join('; '), 'INVALID_ARGUMENT');
      return ok(await taskPage(store, filters, request.options.countCap));
    }
    if (id && segments.length === 2 && get) {
      const found = await taskDetail(store, id);
      if (!found) throw new HttpError(404, `no task with id '${id}'`, 'NOT_FOUND');
      return ok({ task: found.item, definition: found.definition });
    }
    if (id && segments.length === 2 && method === 'DELETE') return ok({ task: await applyTaskAction(store, id, 'delete') });
    if (id && action && segments.length === 3 && method === 'POST' && (TASK_ACTIONS as readonly string[]).includes(action)) {
      return ok({ task: await applyTaskAction(store, id, action as TaskAction) });
    }
  }

  if (section === 'definitions') {
    if (segments.length === 1 && get) {
      const { page, perPage, errors } = parsePaging(request.query);
      if (errors.length > 0) throw new HttpError(400, errors.join('; '), 'INVALID_ARGUMENT');
      const data = await definitionPage(store, {
        includeDeleted: request.query.get('deleted') === '1',
        page,
        perPage,
        cap: request.options.countCap,
      });
      return ok({
        definitions: data.rows.map(({ definition, queued, failed, total, capped }) => ({
          ...definition,
          counts: { queued, failed, total, capped },
        })),
        total: data.total,
        page: data.page,
        perPage: data.perPage,
        pages: data.pages,
        countCap: request.options.countCap,
      });
    }
    if (segments.length === 1 && method === 'POST')
      return ok({ definition: await createDefinition(store, await requestBody(request)) }, 201);
    if (id && segments.length === 2 && get) {
      const definition = await definitionById(store, id);
      if (!definition) throw new HttpError(404, `no task definition with id '${id}'`, 'NOT_FOUND');
      return ok({ definition });
    }
    if (id && segments.length === 2 && (method === 'PATCH' || method === 'PUT' || method === 'POST')) {
      return ok({ definition: await updateDefinition(store, id, await requestBody(request)) });
    }
    if (id && segments.length === 2 && method === 'DELETE') return ok({ definition: await applyDefinitionAction(store, id, 'delete') });
    if (id && action === 'enqueue' && segments.length === 3 && method === 'POST') {
      const task = await enqueueDefinition(store, id, await requestBody(request));
      request.queueNames.remember(task.queueName);
      return ok({ task }, 201);
    }
    if (id && action && segments.length === 3 && method === 'POST' && (DEFINITION_ACTIONS as readonly string[]).includes(action)) {
      return ok({ definition: await applyDefinitionAction(store, id, action as DefinitionAction) });
    }
  }

  if (section === 'flows' && id) {
    if (segments.length === 2 && get) {
      const flow = await store.flowFindById(id);
      if (!flow) throw new HttpError(404, `no flow with id '${id}'`, 'NOT_FOUND');
      return ok({ flow });
    }
    if (action === 'cancel' && segments.length === 3 && method === 'POST') return ok({ flow: await store.flowCancelById(id) });
  }

  if (section === 'schedules') return scheduleApiRoute(request, segments);
  throw new HttpError(404, `no API route ${method} ${request.path}`, 'NOT_FOUND');
}
