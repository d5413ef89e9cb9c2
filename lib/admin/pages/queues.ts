/**
 * The queues page: every queue with its paused state, its limits and its tasks by status;
 * pause / resume, and a limits form per queue (docs/flow-control.md). The forms name their
 * queue in a field, never in the path: a queue may be called anything, '..' included.
 */
import { TASK_STATUSES, type QueueListEntry, type RateLimit } from '../../foundation/types.js';
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
  pausedBadge,
  type PageContext,
} from './layout.js';

/** Words in a limits error message, by the field of the limits form they are about. */
export const QUEUE_FORM_FIELDS: Readonly<Record<string, string>> = {
  concurrency: 'concurrency',
  groupConcurrency: 'groupConcurrency',
  rateLimit: 'rateCount',
  rateCount: 'rateCount',
  ratePeriod: 'ratePeriod',
  groupRateLimit: 'groupRateCount',
  groupRateCount: 'groupRateCount',
  groupRatePeriod: 'groupRatePeriod',
};

const PERIOD_UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** A period as the form takes it back: '1m', '30s', '1500ms' (the largest unit that divides it). */
export function formatPeriod(ms: number): string {
  for (const [unit, size] of PERIOD_UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function rateText(rate: RateLimit | null): string {
  return rate ? `${rate.count} / ${formatPeriod(rate.periodMs)}` : '—';
}

function limitText(limit: number | null): string {
  return limit === null ? '—' : String(limit);
}

export interface QueuesPageData {
  queues: QueueListEntry[];
  /** A refused limits post: its queue, what was sent and why. */
  form?: { queue: string; values: Record<string, unknown>; error: FormError };
}

/** The values a queue's limits form shows: what was sent after a refusal, else the settings. */
function limitValues(queue: QueueListEntry): Record<string, string> {
  const text = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));
  return {
    concurrency: text(queue.concurrency),
    groupConcurrency: text(queue.groupConcurrency),
    rateCount: text(queue.rateLimit?.count),
    ratePeriod: queue.rateLimit ? formatPeriod(queue.rateLimit.periodMs) : '',
    groupRateCount: text(queue.groupRateLimit?.count),
    groupRatePeriod: queue.groupRateLimit ? formatPeriod(queue.groupRateLimit.periodMs) : '',
  };
}

function limitsForm(context: PageContext, queue: QueueListEntry, index: number, refused?: QueuesPageData['form']): SafeHtml {
  const error = refused?.error;
  const values = refused?.values ?? limitValues(queue);
  const input = (name: string, label: string, placeholder: string) =>
    html`<label>${label} <input name="${name}" value="${formValue(values, name)}" placeholder="${placeholder}" size="8" inputmode="${name.endsWith('Period') ? 'text' : 'numeric'}"${invalidAttr(error, name)}>${fieldError(error, name)}</label>`;
  const summary = [
    `concurrency ${limitText(queue.concurrency)}`,
    `per group ${limitText(queue.groupConcurrency)}`,
    `rate ${rateText(queue.rateLimit)}`,
    `group rate ${rateText(queue.groupRateLimit)}`,
  ].join(' · ');
  return html`<details class="limits" id="limits-${index}" data-queue="${queue.queueName}"${refused ? html` open` : ''}>
<summary><strong>${queue.queueName}</strong> <span class="muted">${summary}</span></summary>
<form method="post" action="${href(context, '/queues/limits')}" class="form-grid limits-form">${csrfInput(context)}
<input type="hidden" name="queue" value="${queue.queueName}">
${formErrorTop(error, 'The limits were not saved')}
${input('concurrency', 'Concurrency (running at once)', 'no limit')}
${input('groupConcurrency', 'Group concurrency (per group)', 'no limit')}
${input('rateCount', 'Rate: starts', 'no limit')}
${input('ratePeriod', 'per period', 'e.g. 1s, 1m')}
${input('groupRateCount', 'Group rate: starts', 'no limit')}
${input('groupRatePeriod', 'per period', 'e.g. 1s, 1m')}
<p class="wide muted small">Empty means no limit. Limits hold across every runner of the queue, in every process.</p>
<div class="wide"><button type="submit" class="button" data-action="save-limits">Save limits</button></div></form></details>`;
}

function queueActions(context: PageContext, queue: QueueListEntry): SafeHtml {
  const fields = { queue: queue.queueName };
  return queue.paused
    ? actionForm(context, '/queues/resume', 'Resume', { fields })
    : actionForm(context, '/queues/pause', 'Pause', {
        confirm: `Pause ${queue.queueName}? No runner, in any process, claims from it until it is resumed; running tasks finish.`,
        fields,
      });
}

export function queuesPage(context: PageContext, data: QueuesPageData): string {
  const { queues, form } = data;
  const countCell = (queue: string, status: string, count: number, capped: boolean) =>
    html`<td class="num" data-count="${queue}|${status}">${count > 0 ? html`<a href="${href(context, '/tasks', { status, queue })}">${countText(count, capped)}</a>` : html`<span class="muted">0</span>`}</td>`;
  const orphanError = form && !queues.some((queue) => queue.queueName === form.queue) ? form.error : undefined;
  const body = html`<h1>Queues</h1>
${orphanError ? html`<p class="error" role="alert" id="form-error">The limits were not saved: ${orphanError.message}</p>` : ''}
${
  queues.length === 0
    ? html`<p class="muted">No queues yet: a queue appears once it has tasks or settings.</p>`
    : html`<div class="table-scroll"><table class="grid" id="queue-table">
<thead><tr><th>Queue</th><th class="num">Concurrency</th><th class="num">Per group</th><th class="num">Rate</th><th class="num">Group rate</th>${TASK_STATUSES.map(
        (status) => html`<th class="num">${status}</th>`,
      )}<th>Changed</th><th></th></tr></thead>
<tbody>
${queues.map(
  (queue, index) => html`<tr data-queue="${queue.queueName}">
<th scope="row"><a href="${href(context, '/tasks', { queue: queue.queueName })}">${queue.queueName}</a> ${pausedBadge(queue.queueName, queue.paused)}</th>
<td class="num" data-limit="concurrency">${limitText(queue.concurrency)}</td><td class="num" data-limit="groupConcurrency">${limitText(queue.groupConcurrency)}</td>
<td class="num" data-limit="rateLimit">${rateText(queue.rateLimit)}</td><td class="num" data-limit="groupRateLimit">${rateText(queue.groupRateLimit)}</td>
${TASK_STATUSES.map((status) => countCell(queue.queueName, status, queue.stats[status], queue.capped.includes(status)))}
<td>${formatDate(queue.updatedAt)}</td>
<td class="actions">${queueActions(context, queue)}${context.readOnly ? '' : html`<a class="button" href="#limits-${index}">Limits</a>`}</td></tr>`,
)}
</tbody></table></div>`
}
${
  context.readOnly || queues.length === 0
    ? ''
    : html`<section><h2>Limits</h2>
${queues.map((queue, index) => limitsForm(context, queue, index, form?.queue === queue.queueName ? form : undefined))}</section>`
}`;
  return layout(context, { title: 'Queues', active: 'queues', body, data: { page: 'queues' } });
}
