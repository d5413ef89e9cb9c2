/**
 * What the CLI prints: aligned tables and key/value blocks for people, JSON for scripts.
 * Dates are shown as `YYYY-MM-DD HH:MM:SS` in UTC, like the details log.
 */
import type { Writable } from 'node:stream';

export interface Output {
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable;
  /** --json: machine-readable output on stdout. */
  readonly json: boolean;
}

export function line(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

/** JSON with Dates as ISO strings, pretty-printed. */
export function printJson(out: Output, value: unknown): void {
  line(out.stdout, JSON.stringify(value, null, 2));
}

export function formatDate(date: Date | null | undefined): string {
  if (!date) return '-';
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Milliseconds as '850ms', '12.3s', '4m05s', '2h03m'. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** One line, control characters made visible, cut to `max` characters. */
export function oneLine(text: string, max = 60): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it replaces
  const flat = text.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '?');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** An aligned table with a header row; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(headers), ...rows.map(render)].join('\n');
}

/** `key: value` lines with the keys aligned. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${value}`).join('\n');
}
