/**
 * The details log of a task: one line per event, `YYYY-MM-DD HH:MM:SS : message` in UTC,
 * lines joined with '\n'.
 */
export function formatDetailsLine(message: string, at: Date = new Date()): string {
  const stamp = at.toISOString().slice(0, 19).replace('T', ' ');
  return `${stamp} : ${message}`;
}

export function appendDetailsLine(details: string, line: string): string {
  return details === '' ? line : `${details}\n${line}`;
}
