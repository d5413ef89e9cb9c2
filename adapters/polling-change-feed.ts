/**
 * A change feed for databases without notifications: a cheap probe (SQLite's data_version,
 * an indexed high-water mark) polled on a short interval; a new value means "look again".
 * The probe answers two marks at once: one that moves with new queue rows, and one that moves
 * with every settings write (the sum of the settings rows' versions).
 */
import type { ChangeFeed, ChangeListener } from './adapter.js';

export type ChangeMarks = readonly [queue: unknown, settings: unknown];

export function pollingChangeFeed(probe: () => Promise<ChangeMarks>, intervalMs: number, listener: ChangeListener): ChangeFeed {
  let last: ChangeMarks | undefined;
  let closed = false;
  let running = false;
  const tick = async () => {
    if (running || closed) return;
    running = true;
    try {
      const marks = await probe();
      // The first read is the baseline: whatever committed before it (after a runner's own
      // read at its start) is heard once, as a look again.
      if (last === undefined || marks[1] !== last[1]) listener.onSettingsChange('*');
      if (last === undefined || marks[0] !== last[0]) listener.onChange('*');
      last = marks;
    } catch (error) {
      listener.onError(error);
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return {
    async close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
