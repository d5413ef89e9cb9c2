/** The throughput chart of the overview: an inline SVG of stacked bars, one per minute. */
import { html, type SafeHtml } from './html.js';
import type { Overview } from './data.js';

const WIDTH = 1000;
const HEIGHT = 150;
const AXIS = 16;

export function throughputChart(data: Overview['throughput']): SafeHtml {
  const max = Math.max(1, ...data.buckets.map((bucket) => bucket.success + bucket.failed));
  const slot = WIDTH / data.buckets.length;
  const plot = HEIGHT - AXIS;
  const scale = (count: number) => (count / max) * (plot - 18);
  const bars = data.buckets.map((bucket, index) => {
    const x = (index * slot + 1).toFixed(1);
    const width = Math.max(1, slot - 2).toFixed(1);
    const successHeight = scale(bucket.success);
    const failedHeight = scale(bucket.failed);
    const time = bucket.start.toISOString().slice(11, 16);
    return html`<g><title>${time} UTC: ${bucket.success} succeeded, ${bucket.failed} failed</title>
<rect class="bar-success" x="${x}" y="${(plot - successHeight).toFixed(1)}" width="${width}" height="${successHeight.toFixed(1)}"></rect>
<rect class="bar-failed" x="${x}" y="${(plot - successHeight - failedHeight).toFixed(1)}" width="${width}" height="${failedHeight.toFixed(1)}"></rect></g>`;
  });
  const first = data.buckets[0]?.start.toISOString().slice(11, 16) ?? '';
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Tasks finished per minute over the last hour: ${data.success} succeeded, ${data.failed} failed">
<line class="axis" x1="0" y1="${plot}" x2="${WIDTH}" y2="${plot}"></line>
${bars}
<text class="axis-label" x="0" y="${HEIGHT - 3}">${first} UTC</text>
<text class="axis-label" x="${WIDTH}" y="${HEIGHT - 3}" text-anchor="end">now</text>
<text class="axis-label" x="4" y="12">max ${max}/min</text>
</svg>`;
}
