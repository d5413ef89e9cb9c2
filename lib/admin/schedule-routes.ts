/**
 * Schedules in the dashboard: the list with the next runs, a create form, pause / activate,
 * soft delete and restore; and the same under api/schedules.
 */
import { nextRunAt, FREQUENCIES, type RecurrenceRule } from '../schedules/recurrence.js';
import type { TaskStore } from '../task-store.js';
import type { JsonObject, Schedule, ScheduleCreateInput, ScheduleStatus } from '../foundation/types.js';
import { stringField, type Body } from './actions.js';
import { parseInstant } from '../foundation/time.js';
import { html, type SafeHtml } from './html.js';
import { HttpError, redirect, send, sendJson } from './http.js';
import { actionForm, csrfInput, formatDate, href, layout, statusBadge, type PageContext } from './pages/layout.js';
import { notFoundPage } from './pages/not-found.js';
import { requestBody, type AdminRequest } from './request.js';

export const SCHEDULE_ACTIONS = ['pause', 'activate', 'delete', 'restore'] as const;
export type ScheduleAction = (typeof SCHEDULE_ACTIONS)[number];

/** The next `count` runs of a schedule from now (empty unless active). */
export function nextRuns(schedule: Schedule, count = 3, now = new Date()): Date[] {
  if (schedule.status !== 'active' || schedule.softDeletedAt) return [];
  const rule = schedule.cron ?? schedule.recurrenceRule;
  if (!rule) return [];
  const runs: Date[] = [];
  let from = schedule.nextRunAt ? new Date(schedule.nextRunAt.getTime() - 1) : now;
  const remaining = schedule.maxExecutionCount > 0 ? schedule.maxExecutionCount - schedule.executionCount : Infinity;
  try {
    while (runs.length < Math.min(count, remaining)) {
      const next = nextRunAt(rule, from, { timezone: schedule.timezone });
      if (!next || (schedule.endAt && next > schedule.endAt)) break;
      runs.push(next);
      from = next;
    }
  } catch {
    // an invalid stored rule shows no runs; lastError tells the rest
  }
  return runs;
}

function timingText(schedule: Schedule): string {
  if (schedule.cron) return `cron ${schedule.cron}`;
  const rule = schedule.recurrenceRule;
  if (!rule) return '–';
  const every = (rule.interval ?? 1) === 1 ? rule.frequency : `every ${rule.interval} × ${rule.frequency}`;
  const parts = [rule.frequency === 'none' ? 'once' : every];
  if (rule.daysOfWeek?.length) parts.push(`on ${rule.daysOfWeek.join(', ')}`);
  if (rule.daysOfMonth?.length) parts.push(`days ${rule.daysOfMonth.join(', ')}`);
  if (rule.monthsOfYear?.length) parts.push(`in ${rule.monthsOfYear.join(', ')}`);
  if (rule.startsAt) parts.push(`from ${new Date(rule.startsAt).toISOString().slice(0, 16).replace('T', ' ')}`);
  return parts.join(' ');
}

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
      } catch {
        throw badRequest('params is not valid JSON');
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

function scheduleActions(context: PageContext, schedule: Schedule): SafeHtml[] {
  const path = `/schedules/${encodeURIComponent(schedule.id)}`;
  const fields = { return: context.here };
  if (schedule.softDeletedAt) return [actionForm(context, `${path}/restore`, 'Restore', { fields })];
  const actions: SafeHtml[] = [];
  if (schedule.status === 'active') actions.push(actionForm(context, `${path}/pause`, 'Pause', { fields }));
  else if (schedule.status !== 'completed') actions.push(actionForm(context, `${path}/activate`, 'Activate', { fields }));
  actions.push(
    actionForm(context, `${path}/delete`, 'Delete', { confirm: `Delete schedule ${schedule.name}? (soft delete)`, danger: true, fields }),
  );
  return actions;
}

function schedulesPage(
  context: PageContext,
  schedules: Schedule[],
  aliases: Map<string, string>,
  definitionAliases: string[],
  showDeleted: boolean,
): string {
  const body = html`<h1>Schedules</h1>
<p><a href="${href(context, '/schedules', showDeleted ? {} : { deleted: '1' })}">${showDeleted ? 'hide deleted' : 'show deleted'}</a></p>
${
  schedules.length === 0
    ? html`<p class="muted">No schedules yet.</p>`
    : html`<table class="grid" id="schedule-table">
<thead><tr><th>Name</th><th>Task</th><th>Queue</th><th>When</th><th>Status</th><th>Next runs (UTC)</th><th>Last run</th><th class="num">Runs</th><th></th></tr></thead>
<tbody>
${schedules.map(
  (schedule) => html`<tr data-schedule-id="${schedule.id}">
<td>${schedule.name}${schedule.lastError ? html`<div class="error small">${schedule.lastError}</div>` : ''}</td>
<td><a href="${href(context, '/tasks', { alias: aliases.get(schedule.taskDefinitionId) ?? '' })}">${aliases.get(schedule.taskDefinitionId) ?? schedule.taskDefinitionId}</a></td>
<td>${schedule.queueName}</td><td>${timingText(schedule)}${schedule.timezone !== 'UTC' ? html` <span class="muted">(${schedule.timezone})</span>` : ''}</td>
<td>${statusBadge(schedule.status, schedule.softDeletedAt !== null)}</td>
<td>${nextRuns(schedule).map((run, index) => html`${index > 0 ? html`<br>` : ''}${formatDate(run)}`)}</td>
<td>${formatDate(schedule.lastRunAt)}</td>
<td class="num">${schedule.executionCount}${schedule.maxExecutionCount > 0 ? ` / ${schedule.maxExecutionCount}` : ''}</td>
<td class="actions">${scheduleActions(context, schedule)}</td></tr>`,
)}
</tbody></table>`
}
${
  context.readOnly
    ? ''
    : html`<section><h2>New schedule</h2>
<form method="post" action="${href(context, '/schedules')}" class="form-grid" id="schedule-create">${csrfInput(context)}
<label>Name <input name="name" required maxlength="255"></label>
<label>Task <select name="alias" required>${definitionAliases.map((alias) => html`<option value="${alias}">${alias}</option>`)}</select></label>
<label>Queue <input name="queue" value="default" maxlength="100"></label>
<label>Status <select name="status"><option value="active">active</option><option value="draft">draft</option></select></label>
<label>Cron <input name="cron" placeholder="*/5 * * * *" class="mono"></label>
<label>or every <select name="frequency"><option value="">–</option>${FREQUENCIES.map((frequency) => html`<option value="${frequency}">${frequency}</option>`)}</select></label>
<label>Interval <input name="interval" type="number" min="1" value="1"></label>
<label>Starts at <input name="startsAt" type="datetime-local"></label>
<label>Time zone <input name="timezone" value="UTC"></label>
<label>Max runs <input name="maxExecutionCount" type="number" min="0" value="0"></label>
<label class="wide">Parameters (JSON object) <textarea name="params" rows="3" class="mono" spellcheck="false">{}</textarea></label>
<div class="wide"><button type="submit" class="button">Create</button></div></form></section>`
}`;
  return layout(context, { title: 'Schedules', active: 'schedules', body, data: { page: 'schedules' } });
}

export async function schedulePageRoute(request: AdminRequest, segments: string[], body: Body | null): Promise<void> {
  const { store, page, res, headers } = request;
  const [, id, action] = segments;
  const htmlOut = (status: number, text: string) => send(res, status, 'text/html; charset=utf-8', text, headers);
  if (body === null) {
    if (segments.length !== 1) return htmlOut(404, notFoundPage(page));
    const deleted = request.query.get('deleted') === '1';
    const { schedules, aliases } = await listSchedules(store, deleted);
    const definitions = await store.taskDefinitionList({ orderBy: 'alias', status: 'active', limit: 500 });
    return htmlOut(
      200,
      schedulesPage(
        page,
        schedules,
        aliases,
        definitions.map((definition) => definition.alias),
        deleted,
      ),
    );
  }
  if (segments.length === 1) {
    await store.scheduleCreate(scheduleInput(body));
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
