/** The overview: counts by status per queue, throughput and wait/run times over the last hour. */
import { TASK_STATUSES, type TaskStatus } from '../../foundation/types.js';
import { throughputChart } from '../chart.js';
import type { Overview } from '../data.js';
import { html, type SafeHtml } from '../html.js';
import { countText, href, layout, pausedBadge, type PageContext } from './layout.js';

export function overviewPage(context: PageContext, data: Overview): string {
  const countCell = (queue: string, status: TaskStatus, count: number, capped: boolean) => {
    const link = href(context, '/tasks', queue === '' ? { status } : { status, queue });
    return html`<td class="num" data-count="${queue}|${status}">${count > 0 ? html`<a href="${link}">${countText(count, capped)}</a>` : html`<span class="muted">0</span>`}</td>`;
  };
  const body = html`<h1>Overview</h1>
<section class="cards">
${TASK_STATUSES.map(
  (status) =>
    html`<a class="card status-card card-${status}" href="${href(context, '/tasks', { status })}"><span class="card-count" data-total="${status}">${countText(data.totals[status], data.capped.includes(status))}</span><span class="card-label">${status}</span></a>`,
)}
</section>
<section>
<h2>Throughput <small class="muted">attempts ended per minute, last hour: <span data-field="throughput-success">${data.throughput.success}</span> succeeded, <span data-field="throughput-failed">${data.throughput.failed}</span> failed</small></h2>
${throughputChart(data.throughput)}
${timingsTable(data)}
</section>
<section>
<h2>Queues</h2>
${
  data.queues.length === 0
    ? html`<p class="muted">No tasks yet. Enqueue one from <a href="${href(context, '/definitions')}">Definitions</a>.</p>`
    : html`<table class="grid" id="queue-stats">
<thead><tr><th>Queue</th>${TASK_STATUSES.map((status) => html`<th class="num">${status}</th>`)}<th class="num">total</th></tr></thead>
<tbody>
${data.queues.map(
  (
    queue,
  ) => html`<tr><th scope="row"><a href="${href(context, '/tasks', { queue: queue.queueName })}">${queue.queueName}</a> ${pausedBadge(queue.queueName, queue.paused)}</th>
${TASK_STATUSES.map((status) => countCell(queue.queueName, status, queue.stats[status], queue.capped.includes(status)))}<td class="num">${countText(queue.total, queue.capped.length > 0)}</td></tr>`,
)}
</tbody></table>`
}
<p class="muted small">${data.definitions} task definition${data.definitions === 1 ? '' : 's'} · counts stop at ${data.countCap} per queue and status (shown as ${data.countCap}+) · updated <span data-field="generated">${data.generatedAt.toISOString().slice(11, 19)}</span> UTC</p>
</section>`;
  return layout(context, { title: 'Overview', active: 'overview', body, data: { page: 'overview' } });
}

/** Wait (due → started) and run (started → ended) times per queue, as histogram bounds. */
function timingsTable(data: Overview): SafeHtml {
  if (data.timings.length === 0) return html`<p class="muted small" id="queue-timings">No attempts recorded in the last hour.</p>`;
  return html`<table class="grid" id="queue-timings">
<thead><tr><th>Queue</th><th class="num">attempts</th><th class="num">wait p50</th><th class="num">wait p95</th><th class="num">run p50</th><th class="num">run p95</th></tr></thead>
<tbody>
${data.timings.map(
  (row) =>
    html`<tr><th scope="row">${row.queueName}</th><td class="num">${row.count}</td><td class="num">${bound(row.waitMs.p50)}</td><td class="num">${bound(row.waitMs.p95)}</td><td class="num">${bound(row.runMs.p50)}</td><td class="num">${bound(row.runMs.p95)}</td></tr>`,
)}
</tbody></table>`;
}

/** A percentile given as its histogram bucket's upper bound: '≤ 250 ms', '≤ 2.5 s', '> 30 min'. */
export function bound(ms: number | null): string {
  if (ms === null) return '–';
  if (ms === Infinity) return '> 30 min';
  if (ms < 1000) return `≤ ${ms} ms`;
  if (ms < 60_000) return `≤ ${ms / 1000} s`;
  return `≤ ${ms / 60_000} min`;
}
