/** The task list (filters, sort, pages) and the task detail page. */
import { TASK_STATUSES, type TaskDefinition, type TaskProgress, type TaskQueueItem } from '../../foundation/types.js';
import type { TaskPage } from '../data.js';
import { filtersToParams, PAGE_SIZES, TASK_SORT_KEYS, type TaskFilters } from '../filters.js';
import { html, type SafeHtml } from '../html.js';
import { lastError } from '../../foundation/details.js';
import { bulkButtons } from '../bulk.js';
import { actionForm, countText, formatDate, formatMs, href, layout, statusBadge, type PageContext } from './layout.js';

const SORT_LABELS: Record<string, string> = {
  createdAt: 'created',
  updatedAt: 'updated',
  completedAt: 'completed',
  startedAt: 'started',
  availableAt: 'available',
  status: 'status',
  queueName: 'queue',
  priority: 'priority',
  attempts: 'attempts',
};

function runTime(item: TaskQueueItem): number | null {
  return item.startedAt && item.completedAt ? item.completedAt.getTime() - item.startedAt.getTime() : null;
}

function filterForm(context: PageContext, filters: TaskFilters, queues: readonly string[]): SafeHtml {
  const selected = (yes: boolean) => (yes ? html` selected` : '');
  return html`<form method="get" action="${href(context, '/tasks')}" class="filters" id="task-filters">
<label>Status <select name="status"><option value="">any</option>${TASK_STATUSES.map(
    (status) =>
      html`<option value="${status}"${selected(filters.statuses.length === 1 && filters.statuses[0] === status)}>${status}</option>`,
  )}</select></label>
<label>Queue <input name="queue" value="${filters.queue}" list="queue-names" placeholder="any" size="12"></label>
<datalist id="queue-names">${queues.map((queue) => html`<option value="${queue}">`)}</datalist>
<label>Alias <input name="alias" value="${filters.alias}" placeholder="any" size="14"></label>
<label>Parameters contain <input name="params" value="${filters.params}" placeholder="any" size="14"></label>
<label>Unique key <input name="key" value="${filters.key}" placeholder="starts with" size="12"></label>
<label>Created from <input type="datetime-local" name="from" value="${filters.fromText}"></label>
<label>to <input type="datetime-local" name="to" value="${filters.toText}"> <small class="muted">UTC</small></label>
<label>Sort <select name="sort">${TASK_SORT_KEYS.map((key) => html`<option value="${key}"${selected(filters.sort === key)}>${SORT_LABELS[key]}</option>`)}</select></label>
<label><select name="order" aria-label="order"><option value="desc"${selected(filters.order === 'desc')}>newest first</option><option value="asc"${selected(filters.order === 'asc')}>oldest first</option></select></label>
<label>Per page <select name="per">${PAGE_SIZES.map((size) => html`<option value="${size}"${selected(filters.perPage === size)}>${size}</option>`)}</select></label>
<label class="check"><input type="checkbox" name="deleted" value="1"${filters.deleted ? html` checked` : ''}> deleted too</label>
<button type="submit" class="button">Filter</button> <a href="${href(context, '/tasks')}">reset</a>
</form>`;
}

export function taskListPage(
  context: PageContext,
  filters: TaskFilters,
  page: TaskPage,
  errors: string[],
  queues: readonly string[],
): string {
  const pageLink = (number: number) => href(context, '/tasks', filtersToParams(filters, { page: number }));
  const first = (page.page - 1) * page.perPage + 1;
  const last = first + page.items.length - 1;
  // A capped total: at least that many, so there may be pages past the last one counted.
  const more = page.page < page.pages || (page.capped && page.items.length === page.perPage);
  const failedOnly = filters.statuses.length === 1 && filters.statuses[0] === 'failed';
  const body = html`<h1>Tasks</h1>
${filterForm(context, filters, queues)}
${errors.length > 0 ? html`<ul class="error" role="alert">${errors.map((error) => html`<li>${error}</li>`)}</ul>` : ''}
<p class="muted" id="task-count">${page.total === 0 ? 'No tasks match.' : page.items.length === 0 ? `No tasks on this page (${countText(page.total, page.capped)} match).` : `${first}–${last} of ${countText(page.total, page.capped)}`}</p>
${page.total === 0 ? '' : bulkButtons(context, filters)}
${
  page.items.length === 0
    ? ''
    : html`<table class="grid" id="task-table">
<thead><tr><th>Task</th><th>Alias</th><th>Queue</th><th>Status</th><th class="num">Attempts</th><th class="num">Priority</th><th>Created</th><th>Completed</th><th class="num">Took</th><th>Progress</th>${failedOnly ? html`<th>Last error</th>` : ''}</tr></thead>
<tbody>
${page.items.map(
  (item) => html`<tr data-task-id="${item.id}" data-status="${item.status}">
<td><a class="mono" href="${href(context, `/tasks/${encodeURIComponent(item.id)}`)}">${item.id.slice(-12)}</a></td>
<td>${page.aliases[item.id] ?? ''}</td><td>${item.queueName}</td><td>${statusBadge(item.status, item.softDeletedAt !== null)}</td>
<td class="num">${item.attempts}/${item.maxAttempts}</td><td class="num">${item.priority}</td>
<td>${formatDate(item.createdAt)}</td><td>${formatDate(item.completedAt)}</td><td class="num">${formatMs(runTime(item))}</td>
<td class="progress-cell">${item.progress ? progressBar(item.progress) : ''}</td>${failedOnly ? html`<td class="last-error" data-field="last-error">${lastError(item) ?? ''}</td>` : ''}</tr>`,
)}
</tbody></table>`
}
${
  page.pages > 1 || more
    ? html`<nav class="pager" aria-label="pages">
${page.page > 1 ? html`<a href="${pageLink(page.page - 1)}" rel="prev">← previous</a>` : ''}
<span>page ${page.page} of ${countText(page.pages, page.capped)}</span>
${more ? html`<a href="${pageLink(page.page + 1)}" rel="next">next →</a>` : ''}
</nav>`
    : ''
}`;
  return layout(context, { title: 'Tasks', active: 'tasks', body, data: { page: 'tasks' } });
}

/** A percent as shown: at most one decimal. */
function percentText(percent: number): string {
  return `${Math.round(percent * 10) / 10}%`;
}

/** A progress bar (a <progress>: the CSP allows no inline styles) and its percent. */
function progressBar(progress: Pick<TaskProgress, 'percent'>): SafeHtml {
  return html`<progress max="100" value="${progress.percent}" data-field="progress-bar">${percentText(progress.percent)}</progress> <span data-field="progress-percent">${percentText(progress.percent)}</span>`;
}

/**
 * The task's progress as its handler reported it. Present (hidden) while none was reported
 * and the task may still run, so the live refresh can show it when the first report comes.
 */
function progressSection(item: TaskQueueItem): SafeHtml {
  const progress = item.progress;
  const live = item.status === 'queued' || item.status === 'running' || item.status === 'paused';
  if (!progress && !live) return html``;
  const shown = progress ?? { percent: 0, data: null, updatedAt: null };
  return html`<section id="task-progress"${progress ? '' : html` hidden`}><h2>Progress</h2>
<div class="progress-line">${progressBar(shown)} <span class="muted small">updated <span data-field="progress-updated">${formatDate(shown.updatedAt)}</span></span></div>
<pre class="block small-block" data-field="progress-data"${shown.data === null ? html` hidden` : ''}>${shown.data === null ? '' : JSON.stringify(shown.data, null, 2)}</pre>
</section>`;
}

function pre(text: string, field: string, empty: string): SafeHtml {
  return html`<pre class="block" data-field="${field}">${text === '' ? empty : text}</pre>`;
}

export function taskDetailPage(context: PageContext, item: TaskQueueItem, definition: TaskDefinition | null): string {
  const path = `/tasks/${encodeURIComponent(item.id)}`;
  const alias = definition?.alias ?? String(item.parameters['task_alias'] ?? '?');
  const deleted = item.softDeletedAt !== null;
  const actions: SafeHtml[] = [];
  const back = { return: context.here };
  if (!deleted && (item.status === 'failed' || item.status === 'canceled'))
    actions.push(actionForm(context, `${path}/retry`, 'Retry', { fields: back }));
  if (!deleted && (item.status === 'queued' || item.status === 'paused' || item.status === 'waiting' || item.status === 'running')) {
    const confirm =
      item.status === 'running'
        ? 'Cancel this running task? Its handler will be stopped (its ctx.signal aborts, in whichever process it runs) and the task ends canceled.'
        : 'Cancel this task?';
    actions.push(actionForm(context, `${path}/cancel`, 'Cancel', { confirm, fields: back }));
  }
  if (!deleted && item.status === 'queued' && item.availableAt.getTime() > Date.now())
    actions.push(actionForm(context, `${path}/run-now`, 'Run now', { fields: back }));
  if (!deleted)
    actions.push(
      actionForm(context, `${path}/delete`, 'Delete', {
        confirm: 'Delete this task? (soft delete: it can be restored)',
        danger: true,
        fields: back,
      }),
    );
  else actions.push(actionForm(context, `${path}/restore`, 'Restore', { fields: back }));
  const waited = item.startedAt ? item.startedAt.getTime() - item.createdAt.getTime() : null;
  const body = html`<p class="crumbs"><a href="${href(context, '/tasks')}">Tasks</a> / <span class="mono">${item.id}</span></p>
<h1>${alias} ${statusBadge(item.status, deleted)}</h1>
<div class="actions">${actions}</div>
<section class="columns">
<dl class="fields" id="task-fields">
<dt>Task id</dt><dd class="mono">${item.id}</dd>
<dt>Definition</dt><dd>${definition ? html`<a href="${href(context, `/definitions/${encodeURIComponent(definition.id)}`)}">${definition.alias}</a> <span class="muted">${definition.title}</span>` : html`<span class="muted">missing (${item.taskId})</span>`}</dd>
<dt>Queue</dt><dd><a href="${href(context, '/tasks', { queue: item.queueName })}">${item.queueName}</a></dd>
<dt>Attempts</dt><dd data-field="attempts">${item.attempts} of ${item.maxAttempts}</dd>
<dt>Priority</dt><dd>${item.priority}</dd>
${item.uniqueKey ? html`<dt>Unique key</dt><dd>${item.uniqueKey}</dd>` : ''}
${item.group !== null ? html`<dt>Group</dt><dd data-field="group">${item.group}</dd>` : ''}
${item.flowId ? html`<dt>Flow</dt><dd><a id="task-flow" href="${href(context, `/flows/${encodeURIComponent(item.flowId)}`)}">step ${item.flowKey ?? '?'}</a> <span class="muted mono">${item.flowId.slice(-12)}</span></dd>` : ''}
</dl>
<dl class="fields" id="task-timings">
<dt>Created</dt><dd>${formatDate(item.createdAt)}</dd>
<dt>Available</dt><dd data-field="availableAt">${formatDate(item.availableAt)}</dd>
<dt>Started</dt><dd data-field="startedAt">${formatDate(item.startedAt)}</dd>
<dt>Completed</dt><dd data-field="completedAt">${formatDate(item.completedAt)}</dd>
<dt>Waited</dt><dd>${formatMs(waited)}</dd>
<dt>Ran</dt><dd data-field="took">${formatMs(runTime(item))}</dd>
<dt>Heartbeat</dt><dd data-field="heartbeatAt">${formatDate(item.heartbeatAt)}</dd>
${deleted ? html`<dt>Deleted</dt><dd>${formatDate(item.softDeletedAt)}</dd>` : ''}
</dl>
</section>
${progressSection(item)}
<section><h2>Parameters</h2>${pre(JSON.stringify(item.parameters, null, 2), 'parameters', '{}')}</section>
<section><h2>Output</h2>${pre(item.output, 'output', '(none)')}</section>
<section><h2>Details <small class="muted live-note" data-field="live">${item.status === 'running' || item.status === 'queued' || item.status === 'waiting' ? 'live' : ''}</small></h2>${pre(item.details, 'details', '(none yet)')}</section>`;
  return layout(context, {
    title: `${alias} ${item.id.slice(-12)}`,
    active: 'tasks',
    body,
    data: { page: 'task', 'task-id': item.id, 'task-status': item.status },
  });
}
