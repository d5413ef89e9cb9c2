/** The dashboard's stylesheet and icon, served from <basePath>/assets/dashboard.css and <basePath>/favicon.svg (no CDN). */
export const DASHBOARD_CSS = String.raw`
:root { --fg: #1d2430; --muted: #6b7280; --line: #e3e6ea; --bg: #f7f8fa; --card: #fff; --accent: #2f5bd3;
  --queued: #6b7280; --running: #2f5bd3; --success: #1f8a4c; --failed: #c62f2f; --canceled: #8a6d1f; --paused: #7a4fb3; --waiting: #94a3b8; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; padding: 10px 24px; background: #1d2430; color: #fff; }
header.top a { color: #cfd6e4; } header.top a.active { color: #fff; font-weight: 600; }
header.top .brand { color: #fff; font-weight: 700; font-size: 16px; }
header.top nav { display: flex; flex-wrap: wrap; gap: 4px 16px; flex: 1; }
.badge-readonly { background: #8a6d1f; color: #fff; border-radius: 4px; padding: 2px 8px; font-size: 12px; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 16px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.muted { color: var(--muted); } .small { font-size: 12px; } .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.notice { background: #e8f4ec; border: 1px solid #b9dfc6; padding: 8px 12px; border-radius: 6px; }
.error { background: #fbeaea; border: 1px solid #f0c2c2; padding: 8px 12px; border-radius: 6px; color: #8b1f1f; }
ul.error { padding-left: 28px; }
.cards { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; display: flex; flex-direction: column; color: var(--fg); }
.card:hover { text-decoration: none; border-color: var(--accent); }
.card-count { font-size: 26px; font-weight: 700; } .card-label { color: var(--muted); }
.card-failed .card-count { color: var(--failed); } .card-success .card-count { color: var(--success); } .card-running .card-count { color: var(--running); }
table.grid { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table.grid th, table.grid td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
table.grid thead th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
table.grid tbody tr:hover { background: #f2f5fb; }
.num { text-align: right !important; font-variant-numeric: tabular-nums; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--queued); }
.status-running, .status-active { background: var(--running); } .status-success { background: var(--success); } .status-failed { background: var(--failed); }
.status-canceled { background: var(--canceled); } .status-paused, .status-inactive, .status-draft { background: var(--paused); } .status-deleted { background: #444; }
.status-completed { background: var(--success); } .status-waiting { background: var(--waiting); }
${Array.from({ length: 13 }, (_, depth) => `#flow-steps .tree.depth-${depth} { padding-left: ${depth * 1.5}em; }`).join('\n')}
form.filters { display: flex; flex-wrap: wrap; gap: 10px 14px; align-items: end; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin-bottom: 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
form.filters label.check { flex-direction: row; align-items: center; gap: 6px; }
input, select, textarea { font: inherit; padding: 5px 7px; border: 1px solid #c8cdd4; border-radius: 5px; background: #fff; color: var(--fg); }
.button { display: inline-block; font: inherit; padding: 5px 12px; border-radius: 5px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
.button:hover { filter: brightness(1.08); text-decoration: none; } .button.danger { background: #fff; color: var(--failed); border-color: var(--failed); }
a.button { background: #fff; color: var(--accent); }
form.inline { display: inline; margin: 0 4px 0 0; }
.actions { display: flex; gap: 6px; align-items: center; margin-bottom: 12px; flex-wrap: wrap; } td.actions { margin: 0; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
dl.fields { display: grid; grid-template-columns: 130px 1fr; gap: 6px 12px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin: 0; }
dl.fields dt { color: var(--muted); } dl.fields dd { margin: 0; overflow-wrap: anywhere; }
pre.block { background: #111827; color: #e5e7eb; padding: 12px 14px; border-radius: 8px; overflow: auto; max-height: 480px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.form-grid { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px 14px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.form-grid label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
.form-grid .wide { grid-column: 1 / -1; }
.form-grid p.error { margin: 0; }
.field-error { color: #8b1f1f; font-size: 12px; }
[aria-invalid="true"] { border-color: var(--failed); outline: 1px solid var(--failed); }
.table-scroll { overflow-x: auto; }
.crumbs { color: var(--muted); margin: 0; }
.pager { display: flex; gap: 16px; justify-content: center; margin: 16px 0; }
svg.chart { display: block; width: 100%; height: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.bar-success { fill: var(--success); } .bar-failed { fill: var(--failed); }
.axis { stroke: var(--line); } .axis-label { fill: var(--muted); font-size: 10px; }
.live-note { color: var(--running); font-weight: 400; }
progress { width: 100%; max-width: 360px; height: 12px; accent-color: var(--running); vertical-align: middle; }
td.progress-cell, td[data-limit] { white-space: nowrap; } td.progress-cell progress { width: 80px; }
td.last-error { max-width: 32em; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.9em; }
.progress-line { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-bottom: 8px; }
pre.small-block { max-height: 200px; }
details.limits { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; margin-bottom: 8px; }
details.limits summary { cursor: pointer; } details.limits .form-grid { border: 0; padding: 12px 0 4px; }
@media (max-width: 800px) { .cards { grid-template-columns: repeat(3, 1fr); } .columns, .form-grid { grid-template-columns: 1fr; } }
@media (max-width: 600px) {
  header.top { padding: 8px 12px; gap: 6px 12px; }
  header.top nav { order: 3; flex-basis: 100%; gap: 4px 14px; }
  header.top nav a { padding: 4px 0; }
  main { padding: 12px 12px 32px; }
  .cards { grid-template-columns: repeat(2, 1fr); }
  dl.fields { grid-template-columns: 1fr; } dl.fields dd { margin-bottom: 6px; }
}
`;

/** The dashboard's icon, served from <basePath>/favicon.svg: a queue of three bars. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d2430"/><rect x="7" y="8" width="18" height="4" rx="2" fill="#2f5bd3"/><rect x="7" y="14" width="14" height="4" rx="2" fill="#1f8a4c"/><rect x="7" y="20" width="10" height="4" rx="2" fill="#cfd6e4"/></svg>
`;
