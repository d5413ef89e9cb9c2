/**
 * SQLite's change feed: data_version read every few milliseconds on a connection of its own,
 * so a runner hears of another process's commit within that, not within a 25 ms poll through
 * the (possibly busy) pool. SQLite only by nature; the cross-dialect wake-up through another
 * store is in spec/runners/wake-ups.spec.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { SQLITE_PROBE_MS, sqliteChangeFeed } from '../../adapters/sqlite/sqlite-change-feed.js';
import { waitFor } from '../support/index.js';

describe('SQLite change feed', () => {
  let dir: string;
  let knex: Knex;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'taskstore-feed-'));
    file = join(dir, 'feed.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x INTEGER)');
    db.exec('CREATE TABLE settings (version INTEGER)');
    db.close();
    knex = knexFactory({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true });
  });

  afterEach(async () => {
    await knex.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hears another connection's commit within a few probes, and nothing while nothing commits", async () => {
    const changes: string[] = [];
    const settingsChanges: string[] = [];
    const errors: unknown[] = [];
    const feed = sqliteChangeFeed(knex, 'settings', {
      onChange: (queue) => changes.push(queue),
      onSettingsChange: () => settingsChanges.push('*'),
      onError: (error) => errors.push(error),
    });
    const writer = new Database(file);
    try {
      await new Promise((resolve) => setTimeout(resolve, SQLITE_PROBE_MS * 5));
      // The first read announces itself once (a look again for whatever committed before it);
      // after that, no commit, no change.
      expect(changes, 'the first read, then no commit, no change').to.deep.equal(['*']);
      expect(settingsChanges, 'the first read').to.deep.equal(['*']);
      changes.length = 0;
      settingsChanges.length = 0;
      writer.prepare('INSERT INTO t VALUES (1)').run();
      await waitFor(() => changes.length > 0, { timeoutMs: 2000, message: 'the commit was heard' });
      expect(changes[0]).to.equal('*');
      expect(settingsChanges, 'the settings did not change').to.deep.equal([]);
      writer.prepare('INSERT INTO settings VALUES (1)').run();
      await waitFor(() => settingsChanges.length > 0, { timeoutMs: 2000, message: 'the settings change was heard' });
      expect(errors).to.deep.equal([]);
    } finally {
      writer.close();
      await feed.close();
    }
  });

  it('stops reading once closed', async () => {
    const changes: string[] = [];
    const feed = sqliteChangeFeed(knex, 'settings', {
      onChange: (queue) => changes.push(queue),
      onSettingsChange: () => {},
      onError: () => {},
    });
    await feed.close();
    // At most the first read's announcement, made before the close.
    const announced = changes.length;
    expect(announced).to.be.at.most(1);
    const writer = new Database(file);
    writer.prepare('INSERT INTO t VALUES (1)').run();
    writer.close();
    await new Promise((resolve) => setTimeout(resolve, SQLITE_PROBE_MS * 5));
    expect(changes).to.have.length(announced);
  });

  it('opens nothing for an in-memory database, which no other process can write', async () => {
    const memory = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
    const errors: unknown[] = [];
    const feed = sqliteChangeFeed(memory, 'settings', {
      onChange: () => {},
      onSettingsChange: () => {},
      onError: (error) => errors.push(error),
    });
    await new Promise((resolve) => setTimeout(resolve, SQLITE_PROBE_MS * 5));
    await feed.close();
    await memory.destroy();
    expect(errors).to.deep.equal([]);
  });

  it('reports a file it cannot open, and keeps trying, less often each time', async () => {
    const missing = knexFactory({ client: 'better-sqlite3', connection: { filename: join(dir, 'missing.db') }, useNullAsDefault: true });
    const errors: unknown[] = [];
    const feed = sqliteChangeFeed(missing, 'settings', {
      onChange: () => {},
      onSettingsChange: () => {},
      onError: (error) => errors.push(error),
    });
    try {
      await waitFor(() => errors.length >= 2, { timeoutMs: 2000, message: 'the missing file was reported again' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Every 4 ms for 300 ms would be 75 reports; doubling pauses make it a handful.
      expect(errors.length).to.be.within(2, 12);
    } finally {
      await feed.close();
      await missing.destroy();
    }
  });
});
