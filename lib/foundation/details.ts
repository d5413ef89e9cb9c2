/**
 * The details log of a task: one line per event, `YYYY-MM-DD HH:MM:SS : message` in UTC,
 * lines joined with '\n'.
 */
export function formatDetailsLine(message: string, at: Date = new Date()): string {
  return `${stampOf(at)} : ${message}`;
}

/** The last second formatted: a busy runner stamps thousands of lines within the same one. */
let lastSecond = Number.NaN;
let lastStamp = '';

function stampOf(at: Date): string {
  const second = Math.floor(at.getTime() / 1000);
  if (second !== lastSecond) {
    lastStamp = at.toISOString().slice(0, 19).replace('T', ' ');
    lastSecond = second;
  }
  return lastStamp;
}

export function appendDetailsLine(details: string, line: string): string {
  return details === '' ? line : `${details}\n${line}`;
}

/** A details line's stamp: where one entry ends and the next begins (a message may span lines). */
const STAMPED = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} : /;
/** The lines a failed attempt ends with: 'Task failed' (after its reason) or 'Task failed: <error>'; the sweep's 'Failed forcefully …'. */
const FAILED = /^(Task failed(: |$)|Failed forcefully )/;
/** What the executor writes before a bare 'Task failed' when it could not run the handler. */
const KNOWN_REASON = /^(Task DOES NOT exist$|No handler for alias: )/;

/**
 * The last error a task's details log records, or null when none: the message of its last
 * 'Task failed: …' entry, or the reason before a bare 'Task failed' ('No handler for alias:
 * …', 'Task DOES NOT exist'; a handler that returned false leaves 'Task failed'), or the
 * sweep's 'Failed forcefully after N minutes timeout'. Read from the details text alone, so a
 * list can show it without another query.
 */
export function lastError(item: { details: string }): string | null {
  const entries: string[] = [];
  for (const line of item.details.split('\n')) {
    if (STAMPED.test(line) || entries.length === 0) entries.push(line.replace(STAMPED, ''));
    else entries[entries.length - 1] += `\n${line}`;
  }
  for (let at = entries.length - 1; at >= 0; at--) {
    const entry = entries[at] as string;
    if (!FAILED.test(entry)) continue;
    if (entry.startsWith('Task failed: ')) return entry.slice('Task failed: '.length);
    if (entry !== 'Task failed') return entry;
    const before = entries[at - 1];
    return before !== undefined && KNOWN_REASON.test(before) ? before : 'Task failed';
  }
  return null;
}
