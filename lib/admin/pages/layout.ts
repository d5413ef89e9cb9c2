/** The page frame and the small pieces every page uses: links, dates, badges, action forms. */
import { CSRF_FIELD } from '../security.js';
import { html, type SafeHtml } from '../html.js';
import type { TaskStatus } from '../../foundation/types.js';
import type { FormError } from '../form-errors.js';

export interface PageContext {
  /** The mount path, '' at the root. */
  readonly base: string;
  readonly csrfToken: string;
  readonly readOnly: boolean;
  readonly title: string;
  /** The current path and query under the base, for forms that come back here. */
  readonly here: string;
  readonly notice: string | null;
}

const NOTICES: Record<string, string> = {
  retried: 'The task was queued again.',
  canceled: 'The task was canceled.',
  'flow-canceled': 'The steps of the flow that had not started were canceled.',
  deleted: 'Deleted (soft): restore it any time.',
  restored: 'Restored.',
  created: 'Created.',
  updated: 'Saved.',
  enqueued: 'Task enqueued.',
  activated: 'Activated.',
  paused: 'Paused.',
  resumed: 'Resumed.',
  limits: 'Limits saved.',
  'made-due': 'The task is due now: the next claim of its queue takes it.',
};

/** Only known notice keys are shown: nothing from the URL reaches the page as text. */
export function noticeText(key: string | null): string | null {
  return key === null ? null : (NOTICES[key] ?? null);
}

export function href(context: PageContext, path: string, params?: URLSearchParams | Record<string, string>): string {
  const query = params === undefined ? '' : new URLSearchParams(params as Record<string, string>).toString();
  return `${context.base}${path}${query ? `?${query}` : ''}`;
}

/** A count the store stopped at its cap shows as "10000+". */
export function countText(count: number, capped: boolean): string {
  return capped ? `${count}+` : String(count);
}

export function formatDate(date: Date | null | undefined): SafeHtml {
  if (!date) return html`<span class="muted">–</span>`;
  const text = date.toISOString().slice(0, 19).replace('T', ' ');
  return html`<time datetime="${date.toISOString()}">${text}</time>`;
}

export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
}

export function statusBadge(status: TaskStatus | string, deleted = false): SafeHtml {
  return html`<span class="status status-${status}" data-field="status">${status}</span>${deleted ? html` <span class="status status-deleted">deleted</span>` : ''}`;
}

/** A paused queue's badge; present but hidden while it runs, so the live refresh can show it. */
export function pausedBadge(queueName: string, paused: boolean): SafeHtml {
  return html`<span class="status status-paused" data-paused="${queueName}" title="paused: no runner claims from this queue"${paused ? '' : html` hidden`}>paused</span>`;
}

/** A one-button POST form with the CSRF token; nothing at all when read-only. */
export function actionForm(
  context: PageContext,
  path: string,
  label: string,
  options: { confirm?: string; danger?: boolean; fields?: Record<string, string> } = {},
): SafeHtml {
  if (context.readOnly) return html``;
  return html`<form method="post" action="${href(context, path)}" class="inline"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>
<input type="hidden" name="${CSRF_FIELD}" value="${context.csrfToken}">
${Object.entries(options.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit" class="${options.danger ? 'button danger' : 'button'}" data-action="${label.toLowerCase()}">${label}</button></form>`;
}

export function csrfInput(context: PageContext): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${context.csrfToken}">`;
}

export function layout(
  context: PageContext,
  page: { title: string; active: string; body: SafeHtml; data?: Record<string, string> },
): string {
  const nav: [string, string, string][] = [
    ['overview', '/', 'Overview'],
    ['tasks', '/tasks', 'Tasks'],
    ['definitions', '/definitions', 'Definitions'],
    ['schedules', '/schedules', 'Schedules'],
    ['queues', '/queues', 'Queues'],
    ['runners', '/runners', 'Runners'],
  ];
  const notice = noticeText(context.notice);
  const data = Object.entries(page.data ?? {}).map(([key, value]) => html` data-${key}="${value}"`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${context.csrfToken}">
<title>${page.title} · ${context.title}</title>
<link rel="icon" type="image/svg+xml" href="${href(context, '/favicon.svg')}">
<link rel="stylesheet" href="${href(context, '/assets/dashboard.css')}">
<script src="${href(context, '/assets/dashboard.js')}" defer></script>
</head>
<body data-base="${context.base}"${data}>
<header class="top">
<a class="brand" href="${href(context, '/')}">${context.title}</a>
<nav>${nav.map(([key, path, label]) => html`<a href="${href(context, path)}"${key === page.active ? html` class="active" aria-current="page"` : ''}>${label}</a>`)}</nav>
${context.readOnly ? html`<span class="badge-readonly" title="actions are disabled">read-only</span>` : ''}
</header>
<main>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${page.body}
</main>
</body>
</html>`.value;
}

export function errorPage(context: PageContext, status: number, message: string): string {
  return layout(context, {
    title: `Error ${status}`,
    active: '',
    body: html`<h1>Error ${status}</h1><p class="error" role="alert">${message}</p><p><a href="${href(context, '/')}">Back to the overview</a></p>`,
  });
}

/** The error of a form shown again: at the top, and what the page shows beside a field. */
export function formErrorTop(error: FormError | undefined, action: string): SafeHtml {
  if (!error) return html``;
  return html`<p class="error wide" role="alert" id="form-error">${
    error.field ? `${action}: see the field marked below.` : `${action}: ${error.message}`
  }</p>`;
}

/** The message beside `field` when the error names it (else nothing). */
export function fieldError(error: FormError | undefined, field: string): SafeHtml {
  if (!error || error.field !== field) return html``;
  return html`<span class="field-error" id="${field}-error" data-field-error="${field}">${error.message}</span>`;
}

/** aria-invalid on the field the error names. */
export function invalidAttr(error: FormError | undefined, field: string): SafeHtml {
  return error?.field === field ? html` aria-invalid="true" aria-describedby="${field}-error"` : html``;
}
