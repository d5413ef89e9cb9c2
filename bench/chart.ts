/**
 * A dependency-free SVG bar chart of a results file: one panel per metric, one horizontal bar
 * per system (the median over rounds) with a thin whisker from the fastest to the slowest round.
 */
import { METRIC_LABELS, HIGHER_IS_BETTER, fmt } from './harness.js';
import type { BenchResults, Metric, SystemResult } from './harness.js';

const PANELS: readonly Metric[] = ['drain', 'enqueueBatch', 'enqueueSingle', 'latencyP50', 'latencyP95'];

const FAMILY_COLORS: Readonly<Record<string, string>> = {
  taskstore: '#2563eb',
  'graphile-worker': '#16a34a',
  'pg-boss': '#d97706',
  'raw-sql': '#6b7280',
};

const WIDTH = 960;
const LABEL_WIDTH = 250;
const VALUE_WIDTH = 150;
const ROW_HEIGHT = 24;
const BAR_HEIGHT = 16;
const PANEL_GAP = 28;
const TITLE_HEIGHT = 26;

const escapeXml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

function panel(metric: Metric, systems: readonly SystemResult[], top: number): { svg: string; height: number } {
  const rows = systems.filter((s) => s.median[metric] !== undefined);
  const direction = HIGHER_IS_BETTER[metric] ? 'higher is better' : 'lower is better';
  const parts = [`<text x="0" y="${top + 17}" class="title">${escapeXml(`${METRIC_LABELS[metric]}, ${direction}`)}</text>`];
  if (rows.length === 0) {
    parts.push(`<text x="${LABEL_WIDTH}" y="${top + TITLE_HEIGHT + 16}" class="label">no data</text>`);
    return { svg: parts.join('\n'), height: TITLE_HEIGHT + ROW_HEIGHT };
  }
  const scaleMax = Math.max(...rows.map((s) => s.max[metric] ?? s.median[metric] ?? 0)) || 1;
  const barSpace = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const x = (value: number): number => LABEL_WIDTH + (value / scaleMax) * barSpace;
  for (const [i, s] of rows.entries()) {
    const y = top + TITLE_HEIGHT + i * ROW_HEIGHT;
    const mid = s.median[metric] ?? 0;
    const lo = s.min[metric] ?? mid;
    const hi = s.max[metric] ?? mid;
    const color = FAMILY_COLORS[s.family] ?? '#9333ea';
    const cy = y + BAR_HEIGHT / 2;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 12}" class="label" text-anchor="end">${escapeXml(`${s.id} (${s.dialect})`)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${(x(mid) - LABEL_WIDTH).toFixed(1)}" height="${BAR_HEIGHT}" fill="${color}"/>`,
      `<line x1="${x(lo).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${cy}" y2="${cy}" class="whisker"/>`,
      `<line x1="${x(lo).toFixed(1)}" x2="${x(lo).toFixed(1)}" y1="${cy - 4}" y2="${cy + 4}" class="whisker"/>`,
      `<line x1="${x(hi).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${cy - 4}" y2="${cy + 4}" class="whisker"/>`,
      `<text x="${(Math.max(x(mid), x(hi)) + 6).toFixed(1)}" y="${y + 12}" class="value">${escapeXml(fmt(mid))}</text>`,
    );
  }
  return { svg: parts.join('\n'), height: TITLE_HEIGHT + rows.length * ROW_HEIGHT };
}

/** The chart as an SVG document. */
export function renderChart(results: BenchResults): string {
  const systems = results.systems;
  const header = `${results.settings.jobs.toLocaleString('en-US')} no-op jobs, concurrency ${results.settings.concurrency}, ${results.settings.rounds === 1 ? 'one round' : `median of ${results.settings.rounds} interleaved rounds (whiskers: min–max)`}, ${results.startedAt.slice(0, 10)}`;
  const body: string[] = [];
  let top = 34;
  for (const metric of PANELS) {
    const { svg, height } = panel(metric, systems, top);
    body.push(svg);
    top += height + PANEL_GAP;
  }
  const height = top;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH + 20}" height="${height}" viewBox="-10 0 ${WIDTH + 20} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:14px;font-weight:bold;fill:#111}.label{font-size:12px;fill:#222}.value{font-size:12px;fill:#111}.note{font-size:12px;fill:#555}.whisker{stroke:#111;stroke-width:1}</style>',
    `<rect x="-10" y="0" width="${WIDTH + 20}" height="${height}" fill="#fff"/>`,
    `<text x="0" y="18" class="note">${escapeXml(header)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
