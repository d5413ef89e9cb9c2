/**
 * The runners page: the started TaskQueueRunners and ScheduleRunners of every process sharing
 * the database, from the runners registry (docs/runners.md, "The runners registry"). Read-only.
 */
import type { RunnerInfo } from '../../foundation/runner-types.js';
import { html } from '../html.js';
import { formatDate, formatMs, href, layout, type PageContext } from './layout.js';

export interface RunnersPageData {
  runners: RunnerInfo[];
  /** How often runners write their row (the store's runnerHeartbeatIntervalMs). */
  heartbeatIntervalMs: number;
  /** A runner not seen for this long is not listed. */
  staleAfterMs: number;
}

const dash = html`<span class="muted">–</span>`;

export function runnersPage(context: PageContext, data: RunnersPageData): string {
  const { runners, heartbeatIntervalMs, staleAfterMs } = data;
  const count = (value: number | null) => (value === null ? dash : String(value));
  const body = html`<h1>Runners</h1>
<p class="muted">Every started runner, in any process on any machine sharing the database, writes its row every ${formatMs(heartbeatIntervalMs)};
one not seen for ${formatMs(staleAfterMs)} is left out (a process that died, or lost the database).</p>
${
  runners.length === 0
    ? html`<p class="muted">No runners are running.</p>`
    : html`<div class="table-scroll"><table class="grid" id="runner-table">
<thead><tr><th>Kind</th><th>Queue</th><th>Host</th><th class="num">PID</th><th class="num">Concurrency</th><th class="num">Prefetch</th><th class="num">Active</th><th class="num">Poll interval</th><th>Started</th><th>Last seen</th></tr></thead>
<tbody>
${runners.map(
  (runner) => html`<tr data-runner="${runner.id}">
<td data-field="kind">${runner.kind}</td>
<td data-field="queue">${runner.queueName === null ? dash : html`<a href="${href(context, '/tasks', { queue: runner.queueName })}">${runner.queueName}</a>`}</td>
<td data-field="host">${runner.host}</td><td class="num" data-field="pid">${runner.pid}</td>
<td class="num" data-field="concurrency">${count(runner.concurrency)}</td><td class="num" data-field="prefetch">${count(runner.prefetch)}</td>
<td class="num" data-field="active">${runner.activeCount}</td><td class="num">${formatMs(runner.pollIntervalMs)}</td>
<td>${formatDate(runner.startedAt)}</td><td data-field="last-seen">${formatDate(runner.lastSeenAt)}</td></tr>`,
)}
</tbody></table></div>`
}`;
  return layout(context, { title: 'Runners', active: 'runners', body, data: { page: 'runners' } });
}
