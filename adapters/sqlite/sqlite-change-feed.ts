/**
 * The change feed of a SQLite file: its `data_version`, which moves whenever another
 * connection commits, read every few milliseconds on a connection of its own.
 *
 * Reading it is a look at the WAL index in shared memory: no table, no lock wait, no I/O,
 * a few microseconds in-process. So the probe can run every 4 ms (a task enqueued by another
 * process is seen within that) for about the idle cost the old 25 ms probe through the
 * Knex pool had, and without waiting behind a busy pool. The connection is the feed's own
 * because data_version ignores the reader's own commits; this one sees the store's too,
 * which only makes its runners look once more. An in-memory database is this process's
 * alone: there is nothing to watch, and no feed is opened. When data_version moves, the sum of
 * the settings rows' versions is read too (a table of one row per configured queue), and a
 * change there tells the runners to read their queue's settings again.
 */
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import type { ChangeFeed, ChangeListener } from '../adapter.js';

/** How often the feed reads data_version. */
export const SQLITE_PROBE_MS = 4;

export function sqliteChangeFeed(knex: Knex, settingsTable: string, listener: ChangeListener, intervalMs = SQLITE_PROBE_MS): ChangeFeed {
  const filename = (knex.client as { config: { connection?: { filename?: string } } }).config.connection?.filename ?? '';
  if (isInMemory(filename)) return { close: async () => {} };
  let db: Database.Database | null = null;
  let read: Database.Statement | null = null;
  let readSettings: Database.Statement | null = null;
  let lastSettings: unknown;
  let last: unknown;
  let closed = false;
  let failures = 0;
  let quietUntil = 0;
  const tick = () => {
    if (closed || Date.now() < quietUntil) return;
    try {
      if (!db || !read) {
        db = new Database(filename, { fileMustExist: true, timeout: 100 });
        read = db.prepare('PRAGMA data_version').pluck(); // prepared once: db.pragma() prepares on every call
        readSettings = db.prepare(`SELECT COALESCE(SUM(version), 0) FROM "${settingsTable}"`).pluck();
      }
      const value: unknown = read.get();
      if (last !== undefined && value !== last) {
        // Something committed: the settings too? Their table has a row per configured queue.
        const settings: unknown = readSettings?.get();
        if (lastSettings !== undefined && settings !== lastSettings) listener.onSettingsChange('*');
        lastSettings = settings;
        listener.onChange('*');
      } else if (lastSettings === undefined) {
        // The first read is the baseline: whatever committed before it (after a runner's own
        // read at its start) is heard once, as a look again.
        lastSettings = readSettings?.get();
        listener.onSettingsChange('*');
        listener.onChange('*');
      }
      last = value;
      failures = 0;
    } catch (error) {
      // A file being replaced, a full disk: report, and open afresh after a pause that
      // doubles up to a second, so a lasting fault is not logged every few milliseconds.
      db?.close();
      db = null;
      read = null;
      readSettings = null;
      failures += 1;
      quietUntil = Date.now() + Math.min(1000, intervalMs * 2 ** failures);
      listener.onError(error);
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async close() {
      closed = true;
      clearInterval(timer);
      db?.close();
      db = null;
      read = null;
      readSettings = null;
    },
  };
}

function isInMemory(filename: string): boolean {
  return filename === '' || filename === ':memory:' || filename.startsWith('file::memory:') || /[?&]mode=memory\b/.test(filename);
}
