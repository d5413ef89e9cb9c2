/** Durations as people write them: '500ms', '30s', '5m', '2h', '7d', '1w', '1h30m'; a bare number is seconds. */
import { invalidArgument } from './errors.js';

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Milliseconds; INVALID_ARGUMENT naming `name` when the text is not a duration. */
export function parseDuration(text: string, name: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  const consumed = parts.map((part) => part[0]).join('');
  if (parts.length === 0 || consumed !== trimmed) {
    throw invalidArgument(`${name}: '${text}' is not a duration (examples: 30s, 5m, 2h, 7d)`);
  }
  return Math.round(parts.reduce((sum, part) => sum + Number(part[1]) * (DURATION_UNITS[part[2] as string] as number), 0));
}
