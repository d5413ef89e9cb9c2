/**
 * A change feed announces itself once it is in place (PostgreSQL's first LISTEN, the first
 * read on SQLite and MySQL): one '*' change and one '*' settings change, with nothing written
 * (here the settings one is watched).
 * A runner reads its queue's settings when it starts; whatever commits between that read and
 * the feed's first read would otherwise go unheard until the runner's next poll (a pause, so
 * the runner kept its prefetch: seen once in CI). After the announcement, writes are heard as
 * before.
 */
import { expect } from 'chai';
import { forEachDialect, uniqueQueue, waitFor } from '../support/index.js';

forEachDialect('a change feed once in place', (t) => {
  it("announces itself once: a look again for whatever committed before it; then hears another store's writes", async function () {
    this.timeout(30_000);
    const queue = uniqueQueue();
    const watcher = await t.openStore();
    const settings: string[] = [];
    // The first subscription opens the feed (SQLite's first read runs at once, inside it).
    const offSettings = watcher.onQueueSettingsChanged((name) => settings.push(name));
    try {
      await waitFor(() => settings.length > 0, { timeoutMs: 10_000, message: 'the first announcement' });
      expect(settings).to.deep.equal(['*']);
      settings.length = 0;
      await t.store.queuePause(queue);
      await waitFor(() => settings.length > 0, { timeoutMs: 10_000, message: "another store's pause heard" });
      expect(settings.every((name) => name === queue || name === '*')).to.equal(true);
    } finally {
      offSettings();
    }
  });
});
