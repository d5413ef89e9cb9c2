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
