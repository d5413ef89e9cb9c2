/** The flow page: a flow's status and its steps as an indented tree, each step linked to its task page. */
import type { Flow } from '../../foundation/flow-types.js';
import { flowTree } from '../../flows/flow-tree.js';
import { html } from '../html.js';
import { actionForm, formatDate, href, layout, statusBadge, type PageContext } from './layout.js';

/** Deeper steps are indented as much as this (the stylesheet has a class per depth: no inline styles under the CSP). */
const MAX_SHOWN_DEPTH = 12;

export function flowPage(context: PageContext, flow: Flow): string {
  const rows = flowTree(flow);
  const path = `/flows/${encodeURIComponent(flow.id)}`;
  const unstarted = rows.some((row) => ['waiting', 'queued', 'paused'].includes(row.item.status));
  const actions = unstarted
    ? actionForm(context, `${path}/cancel`, 'Cancel', {
        confirm: 'Cancel every step of this flow that has not started? (running steps finish)',
        fields: { return: context.here },
      })
    : html``;
  const body = html`<p class="crumbs"><a href="${href(context, '/tasks')}">Tasks</a> / flow <span class="mono">${flow.id}</span></p>
<h1>Flow ${statusBadge(flow.status)}</h1>
<div class="actions">${actions}</div>
<dl class="fields" id="flow-fields">
<dt>Flow id</dt><dd class="mono">${flow.id}</dd>
<dt>Queue</dt><dd>${flow.queueName}</dd>
<dt>Steps</dt><dd>${rows.length}</dd>
<dt>Created</dt><dd>${formatDate(flow.createdAt)}</dd>
</dl>
<table class="grid" id="flow-steps">
<thead><tr><th>Step</th><th>Alias</th><th>Status</th><th class="num">Attempts</th><th>After</th><th>Completed</th></tr></thead>
<tbody>
${rows.map(
  (row) => html`<tr data-step="${row.key}" data-status="${row.item.status}" data-depth="${row.depth}">
<td><span class="tree depth-${Math.min(row.depth, MAX_SHOWN_DEPTH)}">${row.depth > 0 ? '└ ' : ''}<a href="${href(context, `/tasks/${encodeURIComponent(row.item.id)}`)}">${row.key}</a></span></td>
<td>${String(row.item.parameters['task_alias'] ?? '')}</td><td>${statusBadge(row.item.status, row.item.softDeletedAt !== null)}</td>
<td class="num">${row.item.attempts}/${row.item.maxAttempts}</td><td>${row.dependsOn.join(', ')}</td><td>${formatDate(row.item.completedAt)}</td></tr>`,
)}
</tbody></table>`;
  return layout(context, { title: `Flow ${flow.id.slice(-12)}`, active: 'tasks', body, data: { page: 'flow', 'flow-id': flow.id } });
}
