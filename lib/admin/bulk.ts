/**
 * Bulk actions on the filtered task list: retry, cancel or delete every task the filters
 * select. The list links to a confirmation page (GET /tasks/bulk/<action>?<filters>) that
 * states the count; its form posts the same filters with the CSRF token; the action runs in
 * batches (taskQueueRequeueMany and friends) and the answer redirects to a page with the
 * result (GET /tasks/bulk/done?…, numbers only). Offered only when the list is filtered, and
 * only for the actions that apply to the filtered statuses; never when read-only. The JSON API
 * takes POST /api/tasks/bulk/<action>?<filters>[&dryRun=1].
 */
import type { BulkActionOptions, BulkActionResult, TaskQueueFilter } from '../foundation/bulk-types.js';
import type { TaskStatus } from '../foundation/types.js';
import { BULK_BATCH_SIZE } from '../queue/task-bulk.js';
import type { TaskStore } from '../task-store.js';
import type { Body } from './actions.js';
import { filtersToParams, parseTaskFilters, taskQueryFor, type TaskFilters } from './filters.js';
import { html, type SafeHtml } from './html.js';
import { HttpError, redirect, send, sendJson } from './http.js';
import { notFoundPage } from './pages/not-found.js';
import { csrfInput, href, layout, type PageContext } from './pages/layout.js';
import type { AdminRequest } from './request.js';

interface BulkKind {
  readonly label: string;
  readonly verb: string;
  readonly done: string;
  /** The statuses it applies to; null: every status. */
  readonly applies: readonly TaskStatus[] | null;
  readonly danger: boolean;
}

const BULK_KINDS: Readonly<Record<string, BulkKind>> = {
  retry: { label: 'Retry all', verb: 'Retry', done: 'queued again', applies: ['failed', 'canceled'], danger: false },
  cancel: { label: 'Cancel all', verb: 'Cancel', done: 'canceled', applies: ['queued', 'paused', 'waiting', 'running'], danger: true },
  delete: { label: 'Delete all', verb: 'Delete', done: 'deleted (soft)', applies: null, danger: true },
};
const BULK_NAMES = Object.keys(BULK_KINDS);

/** The filter keys a confirmation form carries (the statuses comma-joined in one field). */
const FILTER_FIELDS = ['status', 'queue', 'alias', 'from', 'to', 'params', 'key'] as const;

const count = (n: number) => n.toLocaleString('en-US');

/** The bulk actions offered for these filters: none unless they narrow the list, and only those that apply to their statuses. */
export function bulkActionsFor(filters: TaskFilters): string[] {
  if (filters.deleted) return [];
  const narrowed =
    filters.statuses.length > 0 ||
    [filters.queue, filters.alias, filters.fromText, filters.toText, filters.params, filters.key].some(Boolean);
  if (!narrowed) return [];
  return BULK_NAMES.filter((name) => {
    const applies = BULK_KINDS[name]?.applies ?? null;
    return applies === null || filters.statuses.every((status) => applies.includes(status));
  });
}

/** The list's bulk buttons: links to the confirmation pages, keeping the filters. */
export function bulkButtons(context: PageContext, filters: TaskFilters): SafeHtml {
  const names = bulkActionsFor(filters);
  if (context.readOnly || names.length === 0) return html``;
  const params = filterParams(filters);
  return html`<p class="actions" id="bulk-actions"><span class="muted">Every task of this filter:</span> ${names.map((name) => {
    const kind = BULK_KINDS[name] as BulkKind;
    return html`<a class="${kind.danger ? 'button danger' : 'button'}" data-bulk="${name}" href="${href(context, `/tasks/bulk/${name}`, params)}">${kind.label}…</a> `;
  })}</p>`;
}

/** GET: the confirmation (or the result page); POST: the action, then a redirect to its result. */
export async function bulkPageRoute(request: AdminRequest, segments: readonly string[], body: Body | null): Promise<void> {
  const { page, store } = request;
  const name = segments[2];
  if (segments.length === 3 && name === 'done' && body === null) return sendPage(request, 200, donePage(page, request.query));
  if (segments.length !== 3 || name === undefined || !BULK_NAMES.includes(name)) return sendPage(request, 404, notFoundPage(page));
  const filters = checkedFilters(body === null ? request.query : fieldsOf(body), name);
  if (body === null) {
    const filter = await bulkFilter(store, filters);
    const matched = filter ? (await runBulk(store, name, filter, { dryRun: true })).matched : 0;
    return sendPage(request, 200, confirmPage(page, name, filters, matched));
  }
  const filter = await bulkFilter(store, filters);
  const result = filter ? await runBulk(store, name, filter) : { matched: 0, changed: 0, skipped: 0, conflicts: 0 };
  const params = filterParams(filters);
  for (const key of ['matched', 'changed', 'skipped', 'conflicts'] as const) params.set(key, String(result[key]));
  params.set('action', name);
  return redirect(request.res, href(page, '/tasks/bulk/done', params), request.headers);
}

/** POST /api/tasks/bulk/<action>?<filters>[&dryRun=1] → { action, dryRun, matched, changed, skipped, conflicts }. */
export async function bulkApiRoute(request: AdminRequest, segments: readonly string[]): Promise<void> {
  const name = segments[2];
  if (segments.length !== 3 || name === undefined || !BULK_NAMES.includes(name) || request.method !== 'POST') {
    throw new HttpError(404, `no API route ${request.method} ${request.path}`, 'NOT_FOUND');
  }
  const filters = checkedFilters(request.query, name);
  const dryRun = ['1', 'true'].includes(request.query.get('dryRun') ?? '');
  const filter = await bulkFilter(request.store, filters);
  const result = filter ? await runBulk(request.store, name, filter, { dryRun }) : { matched: 0, changed: 0, skipped: 0, conflicts: 0 };
  sendJson(request.res, 200, { action: name, dryRun, ...result }, request.headers);
}

function sendPage(request: AdminRequest, status: number, page: string): void {
  send(request.res, status, 'text/html; charset=utf-8', page, request.headers);
}

/** The filters, checked: 400 for a bad value, or for an action the filters do not allow. */
function checkedFilters(params: URLSearchParams, name: string): TaskFilters {
  const { filters, errors } = parseTaskFilters(params);
  if (errors.length > 0) throw new HttpError(400, errors.join('; '), 'INVALID_ARGUMENT');
  if (!bulkActionsFor(filters).includes(name)) {
    const applies = BULK_KINDS[name]?.applies;
    const needs = applies ? ` to tasks that are ${applies.join(', ')}` : '';
    throw new HttpError(
      400,
      `${name} of every task of a filter needs a filter (status, queue, alias, …) and applies only${needs || ' to live tasks'}`,
      'INVALID_ARGUMENT',
    );
  }
  return filters;
}

/** The filter of a form's fields. */
function fieldsOf(body: Body): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of FILTER_FIELDS) {
    const value = body[key];
    if (typeof value === 'string') params.set(key, value);
  }
  return params;
}

/** Only the filter, none of the list's sort and paging. */
function filterParams(filters: TaskFilters): URLSearchParams {
  const all = filtersToParams(filters);
  const params = new URLSearchParams();
  for (const key of FILTER_FIELDS) if (key !== 'status' && all.has(key)) params.set(key, all.get(key) as string);
  if (filters.statuses.length > 0) params.set('status', filters.statuses.join(','));
  return params;
}

async function bulkFilter(store: TaskStore, filters: TaskFilters): Promise<TaskQueueFilter | null> {
  const query = await taskQueryFor(store, filters);
  if (!query) return null; // an alias no definition has: nothing matches
  const { orderBy: _orderBy, sortOrder: _sortOrder, includeSoftDeleted: _deleted, ...filter } = query;
  return filter;
}

function runBulk(store: TaskStore, name: string, filter: TaskQueueFilter, options?: BulkActionOptions): Promise<BulkActionResult> {
  if (name === 'retry') return store.taskQueueRequeueMany(filter, options);
  if (name === 'cancel') return store.taskQueueCancelMany(filter, options);
  return store.taskQueueSoftDeleteMany(filter, options);
}

/** "Retry 1,234 failed tasks of queue emails?" */
function question(name: string, filters: TaskFilters, matched: number): string {
  const kind = BULK_KINDS[name] as BulkKind;
  const statuses = filters.statuses.length > 0 ? filters.statuses : (kind.applies ?? []);
  const what = `${statuses.length > 0 ? `${statuses.join(' or ')} ` : ''}task${matched === 1 ? '' : 's'}`;
  const of = [filters.queue ? ` of queue ${filters.queue}` : '', filters.alias ? ` of ${filters.alias}` : ''].join('');
  return `${kind.verb} ${count(matched)} ${what}${of}?`;
}

function filterList(filters: TaskFilters): SafeHtml {
  const rows: [string, string][] = [
    ['Status', filters.statuses.join(', ')],
    ['Queue', filters.queue],
    ['Alias', filters.alias],
    ['Created from', filters.fromText],
    ['Created to', filters.toText],
    ['Parameters contain', filters.params],
    ['Unique key starts with', filters.key],
  ];
  return html`<dl class="fields" id="bulk-filter">${rows.filter(([, value]) => value !== '').map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>`;
}

function confirmPage(context: PageContext, name: string, filters: TaskFilters, matched: number): string {
  const kind = BULK_KINDS[name] as BulkKind;
  const back = href(context, '/tasks', filtersToParams(filters));
  const params = filterParams(filters);
  const form =
    matched === 0 || context.readOnly
      ? html`<p>${matched === 0 ? 'No task of this filter can be changed: nothing to do.' : 'Read-only: nothing can be changed here.'}</p>`
      : html`<form method="post" action="${href(context, `/tasks/bulk/${name}`)}" id="bulk-confirm">
${csrfInput(context)}
${FILTER_FIELDS.map((key) => (params.has(key) ? html`<input type="hidden" name="${key}" value="${params.get(key) as string}">` : ''))}
<button type="submit" class="${kind.danger ? 'button danger' : 'button'}" data-action="${name}">${kind.verb} ${count(matched)} task${matched === 1 ? '' : 's'}</button>
</form>`;
  const body = html`<p class="crumbs"><a href="${back}">Tasks</a> / ${kind.label}</p>
<h1 id="bulk-question">${question(name, filters, matched)}</h1>
${filterList(filters)}
<p class="muted">Done in batches of ${BULK_BATCH_SIZE} tasks, one transaction each. A task whose state changes meanwhile is left as it is${name === 'retry' ? ', and so is one whose unique key another queued or running task holds' : ''}; tasks created from now on are not included.</p>
${form}
<p><a href="${back}">Back to the tasks</a></p>`;
  return layout(context, { title: kind.label, active: 'tasks', body, data: { page: 'bulk-confirm' } });
}

function donePage(context: PageContext, query: URLSearchParams): string {
  const number = (key: string) => {
    const text = query.get(key) ?? '';
    return /^\d{1,12}$/.test(text) ? Number(text) : 0;
  };
  const name = query.get('action') ?? '';
  const kind = BULK_KINDS[name];
  const { filters } = parseTaskFilters(query);
  const back = href(context, '/tasks', filtersToParams(filters));
  const changed = number('changed');
  const skipped = number('skipped');
  const conflicts = number('conflicts');
  const why =
    conflicts > 0
      ? `, ${count(conflicts)} of them because another queued or running task holds their unique key`
      : ' (their state changed meanwhile)';
  const body = html`<h1>${kind ? kind.label : 'Bulk action'}: done</h1>
<p class="notice" role="status" id="bulk-result">${count(changed)} task${changed === 1 ? '' : 's'} ${kind ? kind.done : 'changed'}${skipped > 0 ? `; ${count(skipped)} skipped${why}` : ''}.</p>
<p><a href="${back}">Back to the tasks</a></p>`;
  return layout(context, { title: 'Bulk action done', active: 'tasks', body, data: { page: 'bulk-done' } });
}
