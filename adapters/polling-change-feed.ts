/**
 * A change feed for databases without notifications: a cheap probe (SQLite's data_version,
 * an indexed high-water mark) polled on a short interval; a new value means "look again".
 */
import type { ChangeFeed, ChangeListener } from './adapter.js';

export function pollingChangeFeed(probe: () => Promise<unknown>, intervalMs: number, listener: ChangeListener): ChangeFeed {
  let last: unknown;
  let closed = false;
  let running = false;
  const tick = async () => {
    if (running || closed) return;
    running = true;
    try {
      const value = await probe();
      if (last !== undefined && value !== last) listener.onChange('*');
      last = value;
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
