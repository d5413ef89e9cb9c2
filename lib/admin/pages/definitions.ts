/** Task definitions: the list with a create form, and one definition's edit and enqueue forms. */
import type { TaskDefinition } from '../../foundation/types.js';
import type { DefinitionPage } from '../data.js';
import { formValue, type FormError } from '../form-errors.js';
import { html, type SafeHtml } from '../html.js';
import {
  actionForm,
  countText,
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

/** Words in an enqueue error message, by the field of the enqueue form they are about. */
export const ENQUEUE_FORM_FIELDS: Readonly<Record<string, string>> = {
  queue: 'queue',
  queueName: 'queue',
  priority: 'priority',
  delay: 'delay',
  delayMs: 'delay',
  params: 'params',
  parameters: 'params',
};

function definitionActions(context: PageContext, definition: TaskDefinition, back: string): SafeHtml[] {
  const path = `/definitions/${encodeURIComponent(definition.id)}`;
  const fields = { return: back };
  if (definition.softDeletedAt) return [actionForm(context, `${path}/restore`, 'Restore', { fields })];
  return [
    definition.status === 'active'
      ? actionForm(context, `${path}/cancel`, 'Deactivate', {
          confirm: `Deactivate ${definition.alias}? New enqueues are refused until it is activated again.`,
          fields,
        })
      : actionForm(context, `${path}/activate`, 'Activate', { fields }),
    actionForm(context, `${path}/delete`, 'Delete', {
      confirm: `Delete ${definition.alias}? (soft delete: it can be restored)`,
      danger: true,
      fields,
    }),
  ];
}

function definitionFields(definition: Partial<TaskDefinition>): SafeHtml {
  return html`<label>Alias <input name="alias" required maxlength="100" value="${definition.alias ?? ''}"></label>
<label>Title <input name="title" maxlength="255" value="${definition.title ?? ''}"></label>
<label>Max attempts <input name="maxAttempts" type="number" min="1" value="${definition.maxAttempts ?? 1}"></label>
<label>Status <select name="status"><option value="active"${definition.status !== 'canceled' ? html` selected` : ''}>active</option><option value="canceled"${definition.status === 'canceled' ? html` selected` : ''}>canceled</option></select></label>
<label class="wide">Description <textarea name="description" rows="2">${definition.description ?? ''}</textarea></label>
<label class="wide">Memo <textarea name="memo" rows="2">${definition.memo ?? ''}</textarea></label>`;
}

export function definitionListPage(context: PageContext, data: DefinitionPage, showDeleted: boolean): string {
  const { rows } = data;
  const paging = (page: number): Record<string, string> => ({
    ...(showDeleted ? { deleted: '1' } : {}),
    ...(data.perPage !== 50 ? { per: String(data.perPage) } : {}),
    ...(page !== 1 ? { page: String(page) } : {}),
  });
  const body = html`<h1>Task definitions</h1>
<p><a href="${href(context, '/definitions', showDeleted ? {} : { deleted: '1' })}">${showDeleted ? 'hide deleted' : 'show deleted'}</a></p>
${
  rows.length === 0
    ? html`<p class="muted">No task definitions yet.</p>`
    : html`<table class="grid" id="definition-table">
<thead><tr><th>Alias</th><th>Title</th><th>Status</th><th class="num">Attempts</th><th class="num">Queued</th><th class="num">Failed</th><th class="num">Tasks</th><th>Created</th><th></th></tr></thead>
<tbody>
${rows.map(
  ({ definition, queued, failed, total, capped }) => html`<tr data-definition-id="${definition.id}">
<td><a href="${href(context, `/definitions/${encodeURIComponent(definition.id)}`)}">${definition.alias}</a></td><td>${definition.title}</td>
<td>${statusBadge(definition.status, definition.softDeletedAt !== null)}</td><td class="num">${definition.maxAttempts}</td>
<td class="num"><a href="${href(context, '/tasks', { alias: definition.alias, status: 'queued' })}">${countText(queued, capped.includes('queued'))}</a></td>
<td class="num"><a href="${href(context, '/tasks', { alias: definition.alias, status: 'failed' })}">${countText(failed, capped.includes('failed'))}</a></td>
<td class="num"><a href="${href(context, '/tasks', { alias: definition.alias })}">${countText(total, capped.includes('total'))}</a></td>
<td>${formatDate(definition.createdAt)}</td><td class="actions">${definitionActions(context, definition, context.here)}</td></tr>`,
)}
</tbody></table>
${
  data.pages > 1
    ? html`<nav class="pager" aria-label="pages">
${data.page > 1 ? html`<a href="${href(context, '/definitions', paging(data.page - 1))}" rel="prev">← previous</a>` : ''}
<span>page ${data.page} of ${data.pages} (${data.total} definitions)</span>
${data.page < data.pages ? html`<a href="${href(context, '/definitions', paging(data.page + 1))}" rel="next">next →</a>` : ''}
</nav>`
    : ''
}`
}
${
  context.readOnly
    ? ''
    : html`<section><h2>New definition</h2>
<form method="post" action="${href(context, '/definitions')}" class="form-grid" id="definition-create">${csrfInput(context)}
${definitionFields({})}
<div class="wide"><button type="submit" class="button">Create</button></div></form></section>`
}`;
  return layout(context, { title: 'Definitions', active: 'definitions', body, data: { page: 'definitions' } });
}

export function definitionDetailPage(
  context: PageContext,
  definition: TaskDefinition,
  queues: readonly string[],
  /** A refused enqueue post: what was sent and why. */
  enqueue?: { values: Record<string, unknown>; error: FormError },
): string {
  const error = enqueue?.error;
  const value = (name: string, fallback: string) => formValue(enqueue?.values, name, fallback);
  const path = `/definitions/${encodeURIComponent(definition.id)}`;
  const deleted = definition.softDeletedAt !== null;
  const body = html`<p class="crumbs"><a href="${href(context, '/definitions')}">Definitions</a> / ${definition.alias}</p>
<h1>${definition.alias} ${statusBadge(definition.status, deleted)}</h1>
<div class="actions">${definitionActions(context, definition, context.here)}
<a class="button" href="${href(context, '/tasks', { alias: definition.alias })}">Tasks</a></div>
<dl class="fields"><dt>Id</dt><dd class="mono">${definition.id}</dd><dt>Created</dt><dd>${formatDate(definition.createdAt)}</dd><dt>Updated</dt><dd>${formatDate(definition.updatedAt)}</dd>
${deleted ? html`<dt>Deleted</dt><dd>${formatDate(definition.softDeletedAt)}</dd>` : ''}</dl>
${
  context.readOnly
    ? html`<dl class="fields"><dt>Title</dt><dd>${definition.title}</dd><dt>Max attempts</dt><dd>${definition.maxAttempts}</dd><dt>Description</dt><dd>${definition.description}</dd><dt>Memo</dt><dd>${definition.memo}</dd></dl>`
    : html`<section><h2>Enqueue</h2>
${definition.status !== 'active' || deleted ? html`<p class="muted">Only an active, live definition can be enqueued.</p>` : ''}
<form method="post" action="${href(context, `${path}/enqueue`)}" class="form-grid" id="enqueue-form">${csrfInput(context)}
${formErrorTop(error, 'Nothing was enqueued')}
<label>Queue <input name="queue" value="${value('queue', 'default')}" list="queue-names" maxlength="100"${invalidAttr(error, 'queue')}>${fieldError(error, 'queue')}</label>
<datalist id="queue-names">${queues.map((queue) => html`<option value="${queue}">`)}</datalist>
<label>Priority <input name="priority" type="number" value="${value('priority', '0')}"${invalidAttr(error, 'priority')}>${fieldError(error, 'priority')}</label>
<label>Delay <input name="delay" placeholder="e.g. 30s, 5m" size="8" value="${value('delay', '')}"${invalidAttr(error, 'delay')}>${fieldError(error, 'delay')}</label>
<label class="wide">Parameters (JSON object) <textarea name="params" rows="4" class="mono" spellcheck="false"${invalidAttr(error, 'params')}>${value('params', '{}')}</textarea>${fieldError(error, 'params')}</label>
<div class="wide"><button type="submit" class="button">Enqueue</button></div></form></section>
<section><h2>Edit</h2>
<form method="post" action="${href(context, path)}" class="form-grid" id="definition-edit">${csrfInput(context)}
${definitionFields(definition)}
<div class="wide"><button type="submit" class="button">Save</button></div></form></section>`
}`;
  return layout(context, { title: definition.alias, active: 'definitions', body, data: { page: 'definition' } });
}
