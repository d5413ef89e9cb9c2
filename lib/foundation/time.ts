/** Time in one place: the instant parser, a cancellable sleep, and monotonic updatedAt stamps. */
import { DateTime } from 'luxon';

/** An offset at the end of an ISO 8601 date-time: 'Z', '+01', '+0100' or '+01:00'. */
const OFFSET = /T\d{2}.*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Reads an ISO 8601 instant ('2025-01-02T03:04:05Z', '2025-01-02T03:04+01:00'). With
 * `requireOffset` a text without an offset is refused (it names no single instant); without
 * it, a date or a date-time without an offset is read as UTC (what a datetime-local form
 * field sends). A space may stand for the 'T'. Null when the text is not such an instant.
 */
export function parseInstant(text: string, options: { requireOffset: boolean }): Date | null {
  const trimmed = text.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  if (options.requireOffset && !OFFSET.test(trimmed)) return null;
  const parsed = DateTime.fromISO(trimmed, { zone: 'utc', setZone: true });
  return parsed.isValid ? parsed.toJSDate() : null;
}

/** Waits `ms`, or less when `signal` aborts; leaves no timer or listener behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A timestamp strictly later than `previous`, so updatedAt always moves forward. */
export function laterThan(previous: Date, now: Date): Date {
  return now.getTime() > previous.getTime() ? now : new Date(previous.getTime() + 1);
}
