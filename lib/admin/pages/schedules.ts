/** The schedules page: the list with each schedule's timing and next runs, and the create form. */
import { FREQUENCIES, nextRunAt, type Frequency } from '../../schedules/recurrence.js';
import type { Schedule } from '../../foundation/types.js';
import { formValue, type FormError } from '../form-errors.js';
import { html, type SafeHtml } from '../html.js';
import {
  actionForm,
  csrfInput,
  fieldError,
  formatDate,
  formErrorTop,
  href,
  invalidAttr,
  layout,
  statusBadge,
  type PageContext,
} from './layout.js';

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

const UNITS: Record<Exclude<Frequency, 'none'>, readonly [string, string]> = {
  secondly: ['second', 'seconds'],
  minutely: ['minute', 'minutes'],
  hourly: ['hour', 'hours'],
  daily: ['day', 'days'],
  weekly: ['week', 'weeks'],
  monthly: ['month', 'months'],
  yearly: ['year', 'years'],
};

/** 'every minute', 'every 20 seconds', 'every 2 hours'; 'once' for frequency none. */
export function everyText(frequency: Frequency, interval = 1): string {
  if (frequency === 'none') return 'once';
  const [one, many] = UNITS[frequency];
  return interval === 1 ? `every ${one}` : `every ${interval} ${many}`;
}

function minuteText(date: Date | string): string {
  return new Date(date).toISOString().slice(0, 16).replace('T', ' ');
}

/** A schedule's timing in words: 'cron 0 9 * * 1', 'every 2 hours from 2026-01-01 00:00'. */
export function describeTiming(schedule: Pick<Schedule, 'cron' | 'recurrenceRule'>): string {
  if (schedule.cron) return `cron ${schedule.cron}`;
  const rule = schedule.recurrenceRule;
  if (!rule) return '–';
  const parts = [everyText(rule.frequency, rule.interval ?? 1)];
  if (rule.daysOfWeek?.length) parts.push(`on ${rule.daysOfWeek.join(', ')}`);
  if (rule.daysOfMonth?.length) parts.push(`on day${rule.daysOfMonth.length > 1 ? 's' : ''} ${rule.daysOfMonth.join(', ')}`);
  if (rule.monthsOfYear?.length) parts.push(`in ${rule.monthsOfYear.join(', ')}`);
  if (rule.startsAt) parts.push(`${rule.frequency === 'none' ? 'at' : 'from'} ${minuteText(rule.startsAt)}`);
  if (rule.endsAt) parts.push(`until ${minuteText(rule.endsAt)}`);
  return parts.join(' ');
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

function options(choices: readonly (readonly [string, string])[], chosen: string): SafeHtml[] {
  return choices.map(([value, label]) => html`<option value="${value}"${value === chosen ? html` selected` : ''}>${label}</option>`);
}

/** A schedule's words in an error message, by the field of the create form they are about. */
export const SCHEDULE_FORM_FIELDS: Readonly<Record<string, string>> = {
  name: 'name',
  alias: 'alias',
  taskDefinitionId: 'alias',
  queue: 'queue',
  queueName: 'queue',
  status: 'status',
  cron: 'cron',
  recurrenceRule: 'frequency',
  frequency: 'frequency',
  interval: 'interval',
  startsAt: 'startsAt',
  timezone: 'timezone',
  maxExecutionCount: 'maxExecutionCount',
  endAt: 'endAt',
  params: 'params',
  parameters: 'params',
};

/** The create form; after a refused post, with what was sent and the error beside its field. */
function scheduleCreateForm(context: PageContext, aliases: string[], values?: Record<string, unknown>, error?: FormError): SafeHtml {
  const value = (name: string, fallback = '') => formValue(values, name, fallback);
  const field = (name: string) => html`${invalidAttr(error, name)}`;
  return html`<section><h2>New schedule</h2>
<form method="post" action="${href(context, '/schedules')}" class="form-grid" id="schedule-create">${csrfInput(context)}
${formErrorTop(error, 'The schedule was not created')}
<label>Name <input name="name" required maxlength="255" value="${value('name')}"${field('name')}>${fieldError(error, 'name')}</label>
<label>Task <select name="alias" required${field('alias')}>${options(
    aliases.map((alias) => [alias, alias] as const),
    value('alias'),
  )}</select>${fieldError(error, 'alias')}</label>
<label>Queue <input name="queue" value="${value('queue', 'default')}" maxlength="100"${field('queue')}>${fieldError(error, 'queue')}</label>
<label>Status <select name="status"${field('status')}>${options(
    [
      ['active', 'active'],
      ['draft', 'draft'],
    ],
    value('status', 'active'),
  )}</select>${fieldError(error, 'status')}</label>
<label>Cron <input name="cron" placeholder="*/5 * * * *" class="mono" value="${value('cron')}"${field('cron')}>${fieldError(error, 'cron')}</label>
<label>or every <select name="frequency"${field('frequency')}>${options(
    [['', '–'], ...FREQUENCIES.map((frequency) => [frequency, frequency] as const)],
    value('frequency'),
  )}</select>${fieldError(error, 'frequency')}</label>
<label>Interval <input name="interval" type="number" min="1" value="${value('interval', '1')}"${field('interval')}>${fieldError(error, 'interval')}</label>
<label>Starts at <input name="startsAt" type="datetime-local" value="${value('startsAt')}"${field('startsAt')}>${fieldError(error, 'startsAt')}</label>
<label>Time zone <input name="timezone" value="${value('timezone', 'UTC')}"${field('timezone')}>${fieldError(error, 'timezone')}</label>
<label>Max runs <input name="maxExecutionCount" type="number" min="0" value="${value('maxExecutionCount', '0')}"${field('maxExecutionCount')}>${fieldError(error, 'maxExecutionCount')}</label>
<label class="wide">Parameters (JSON object) <textarea name="params" rows="3" class="mono" spellcheck="false"${field('params')}>${value('params', '{}')}</textarea>${fieldError(error, 'params')}</label>
<div class="wide"><button type="submit" class="button">Create</button></div></form></section>`;
}

export interface SchedulesPageData {
  schedules: Schedule[];
  /** Task definition aliases by id, for the list. */
  aliases: Map<string, string>;
  /** Active definitions' aliases, for the create form. */
  definitionAliases: string[];
  showDeleted: boolean;
  /** A refused create post: what was sent and why. */
  form?: { values: Record<string, unknown>; error: FormError };
}

export function schedulesPage(context: PageContext, data: SchedulesPageData): string {
  const { schedules, aliases, showDeleted } = data;
  const body = html`<h1>Schedules</h1>
<p><a href="${href(context, '/schedules', showDeleted ? {} : { deleted: '1' })}">${showDeleted ? 'hide deleted' : 'show deleted'}</a></p>
${
  schedules.length === 0
    ? html`<p class="muted">No schedules yet.</p>`
    : html`<div class="table-scroll"><table class="grid" id="schedule-table">
<thead><tr><th>Name</th><th>Task</th><th>Queue</th><th>When</th><th>Status</th><th>Next runs (UTC)</th><th>Last run</th><th class="num">Runs</th><th></th></tr></thead>
<tbody>
${schedules.map(
  (schedule) => html`<tr data-schedule-id="${schedule.id}">
<td>${schedule.name}${schedule.lastError ? html`<div class="error small">${schedule.lastError}</div>` : ''}</td>
<td><a href="${href(context, '/tasks', { alias: aliases.get(schedule.taskDefinitionId) ?? '' })}">${aliases.get(schedule.taskDefinitionId) ?? schedule.taskDefinitionId}</a></td>
<td>${schedule.queueName}</td><td data-field="timing">${describeTiming(schedule)}${schedule.timezone !== 'UTC' ? html` <span class="muted">(${schedule.timezone})</span>` : ''}</td>
<td>${statusBadge(schedule.status, schedule.softDeletedAt !== null)}</td>
<td>${nextRuns(schedule).map((run, index) => html`${index > 0 ? html`<br>` : ''}${formatDate(run)}`)}</td>
<td>${formatDate(schedule.lastRunAt)}</td>
<td class="num">${schedule.executionCount}${schedule.maxExecutionCount > 0 ? ` / ${schedule.maxExecutionCount}` : ''}</td>
<td class="actions">${scheduleActions(context, schedule)}</td></tr>`,
)}
</tbody></table></div>`
}
${context.readOnly ? '' : scheduleCreateForm(context, data.definitionAliases, data.form?.values, data.form?.error)}`;
  return layout(context, { title: 'Schedules', active: 'schedules', body, data: { page: 'schedules' } });
}
