/**
 * Schedules in the dashboard: the list with the next runs, a create form, pause / activate,
 * soft delete and restore; and the same under api/schedules.
 */
import { FREQUENCIES, type RecurrenceRule } from '../schedules/recurrence.js';
import type { TaskStore } from '../task-store.js';
import type { JsonObject, Schedule, ScheduleCreateInput, ScheduleStatus } from '../foundation/types.js';
import { stringField, type Body } from './actions.js';
import { parseInstant } from '../foundation/time.js';
import { formErrorOf } from './form-errors.js';
import { HttpError, redirect, send, sendJson } from './http.js';
import { nextRuns, SCHEDULE_FORM_FIELDS, schedulesPage, type SchedulesPageData } from './pages/schedules.js';
import { notFoundPage } from './pages/not-found.js';
import { requestBody, type AdminRequest } from './request.js';

export const SCHEDULE_ACTIONS = ['pause', 'activate', 'delete', 'restore'] as const;
export type ScheduleAction = (typeof SCHEDULE_ACTIONS)[number];

export function scheduleJson(schedule: Schedule): Schedule & { nextRuns: Date[] } {
  return { ...schedule, nextRuns: nextRuns(schedule, 5) };
}

function badRequest(message: string): HttpError {
  return new HttpError(400, message, 'INVALID_ARGUMENT');
}

/** A create input from a form (strings) or JSON (typed: recurrenceRule may be an object). */
export function scheduleInput(body: Body): ScheduleCreateInput {
  const name = stringField(body, 'name', 255)?.trim();
  if (!name) throw badRequest('name is required');
  const input: ScheduleCreateInput = { name };
  const alias = stringField(body, 'alias', 100)?.trim();
  const definitionId = stringField(body, 'taskDefinitionId', 100)?.trim();
  if (definitionId) input.taskDefinitionId = definitionId;
  else if (alias) input.alias = alias;
  else throw badRequest('alias (or taskDefinitionId) is required');
  const description = stringField(body, 'description');
  if (description) input.description = description;
  const queue = stringField(body, 'queue', 100)?.trim() ?? stringField(body, 'queueName', 100)?.trim();
  if (queue) input.queueName = queue;
  const status = stringField(body, 'status', 20);
  if (status) input.status = status as ScheduleStatus;
  const timezone = stringField(body, 'timezone', 100)?.trim();
  if (timezone) input.timezone = timezone;
  const maxText = stringField(body, 'maxExecutionCount', 12)?.trim();
  if (maxText) {
    if (!/^\d+$/.test(maxText)) throw badRequest('maxExecutionCount must be a whole number');
    input.maxExecutionCount = Number(maxText);
  }
  const endAt = stringField(body, 'endAt', 40)?.trim();
  if (endAt) {
    const parsed = parseInstant(endAt, { requireOffset: false });
    if (!parsed) throw badRequest(`endAt: '${endAt}' is not a date`);
    input.endAt = parsed;
  }
  const params = body['params'] ?? body['parameters'];
  if (params !== undefined && params !== '') {
    let value: unknown = params;
    if (typeof params === 'string') {
      try {
        value = JSON.parse(params);
      } catch (error) {
        throw badRequest(`params is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('params must be a JSON object');
    input.parameters = value as JsonObject;
  }
  const cron = stringField(body, 'cron', 200)?.trim();
  if (body['recurrenceRule'] !== undefined && typeof body['recurrenceRule'] === 'object' && body['recurrenceRule'] !== null) {
    input.recurrenceRule = body['recurrenceRule'] as RecurrenceRule;
  } else if (cron) {
    input.cron = cron;
  } else {
    const frequency = stringField(body, 'frequency', 20)?.trim();
    if (!frequency) throw badRequest('give a cron expression or a frequency');
    if (!(FREQUENCIES as readonly string[]).includes(frequency)) throw badRequest(`frequency must be one of ${FREQUENCIES.join(', ')}`);
    const rule: RecurrenceRule = { frequency: frequency as RecurrenceRule['frequency'] };
    const interval = stringField(body, 'interval', 6)?.trim();
    if (interval) {
      if (!/^\d+$/.test(interval)) throw badRequest('interval must be a whole number');
      rule.interval = Number(interval);
    }
    const startsAt = stringField(body, 'startsAt', 40)?.trim();
    if (startsAt) {
      const parsed = parseInstant(startsAt, { requireOffset: false });
      if (!parsed) throw badRequest(`startsAt: '${startsAt}' is not a date`);
      rule.startsAt = parsed;
    }
    input.recurrenceRule = rule;
  }
  return input;
}

async function existingSchedule(store: TaskStore, id: string): Promise<Schedule> {
  const [schedule] = await store.scheduleList({ id, includeSoftDeleted: true, limit: 1 });
  if (!schedule) throw new HttpError(404, `no schedule with id '${id}'`, 'NOT_FOUND');
  return schedule;
}

export async function applyScheduleAction(store: TaskStore, id: string, action: ScheduleAction): Promise<Schedule> {
  await existingSchedule(store, id);
  switch (action) {
    case 'pause':
      return store.scheduleUpdate({ id, status: 'inactive' });
    case 'activate':
      return store.scheduleUpdate({ id, status: 'active' });
    case 'delete':
      await store.scheduleSoftDeleteById(id);
      return existingSchedule(store, id);
    case 'restore':
      return store.scheduleRestoreById(id);
  }
}

async function listSchedules(store: TaskStore, includeDeleted: boolean): Promise<{ schedules: Schedule[]; aliases: Map<string, string> }> {
  const schedules = await store.scheduleList({ orderBy: 'name', includeSoftDeleted: includeDeleted, limit: 500 });
  const ids = [...new Set(schedules.map((schedule) => schedule.taskDefinitionId))];
  const definitions = ids.length === 0 ? [] : await store.taskDefinitionList({ ids, includeSoftDeleted: true });
  return { schedules, aliases: new Map(definitions.map((definition) => [definition.id, definition.alias])) };
}

/** The schedules page, with a refused create post's input and error when there is one. */
async function renderSchedules(request: AdminRequest, form?: SchedulesPageData['form']): Promise<string> {
  const { store, page } = request;
  const showDeleted = request.query.get('deleted') === '1';
  const { schedules, aliases } = await listSchedules(store, showDeleted);
  const definitions = await store.taskDefinitionList({ orderBy: 'alias', status: 'active', limit: 500 });
  const definitionAliases = definitions.map((definition) => definition.alias);
  return schedulesPage(page, { schedules, aliases, definitionAliases, showDeleted, ...(form ? { form } : {}) });
}

export async function schedulePageRoute(request: AdminRequest, segments: string[], body: Body | null): Promise<void> {
  const { store, page, res, headers } = request;
  const [, id, action] = segments;
  const htmlOut = (status: number, text: string) => send(res, status, 'text/html; charset=utf-8', text, headers);
  if (body === null) {
    if (segments.length !== 1) return htmlOut(404, notFoundPage(page));
    return htmlOut(200, await renderSchedules(request));
  }
  if (segments.length === 1) {
    try {
      await store.scheduleCreate(scheduleInput(body));
    } catch (error) {
      // A refused input: the form again, with what was sent and the error beside its field.
      const formError = formErrorOf(error, SCHEDULE_FORM_FIELDS);
      if (!formError) throw error;
      return htmlOut(formError.status, await renderSchedules(request, { values: body, error: formError }));
    }
    return redirect(res, `${page.base}/schedules?notice=created`, headers);
  }
  if (id && action && segments.length === 3 && (SCHEDULE_ACTIONS as readonly string[]).includes(action)) {
    await applyScheduleAction(store, id, action as ScheduleAction);
    const notice = { pause: 'paused', activate: 'activated', delete: 'deleted', restore: 'restored' }[action as ScheduleAction];
    return redirect(res, `${page.base}/schedules?notice=${notice}`, headers);
  }
  return htmlOut(404, notFoundPage(page));
}

export async function scheduleApiRoute(request: AdminRequest, segments: string[]): Promise<void> {
  const { store, method, res, headers } = request;
  const [, id, action] = segments;
  const ok = (value: unknown, status = 200) => sendJson(res, status, value, headers);
  if (segments.length === 1 && method === 'GET') {
    const { schedules } = await listSchedules(store, request.query.get('deleted') === '1');
    return ok({ schedules: schedules.map(scheduleJson) });
  }
  if (segments.length === 1 && method === 'POST')
    return ok({ schedule: scheduleJson(await store.scheduleCreate(scheduleInput(await requestBody(request)))) }, 201);
  if (id && segments.length === 2 && method === 'GET') return ok({ schedule: scheduleJson(await existingSchedule(store, id)) });
  if (id && segments.length === 2 && method === 'DELETE')
    return ok({ schedule: scheduleJson(await applyScheduleAction(store, id, 'delete')) });
  if (id && action && segments.length === 3 && method === 'POST' && (SCHEDULE_ACTIONS as readonly string[]).includes(action)) {
    return ok({ schedule: scheduleJson(await applyScheduleAction(store, id, action as ScheduleAction)) });
  }
  throw new HttpError(404, `no API route ${method} ${request.path}`, 'NOT_FOUND');
}
