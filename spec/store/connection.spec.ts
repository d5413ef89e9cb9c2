/**
 * What taskstore adds to a Knex.Config it turns into an instance: each dialect's settings on
 * every new connection (SQLite pragmas, MySQL session time zone and isolation), applied
 * before the user's own `pool.afterCreate`, which still runs; and the database URL used when
 * none is given.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { defaultDatabaseUrl } from '../../adapters/index.js';
import { resolveStoreOptions } from '../../lib/store/store-options.js';
import { TaskStore } from '../../lib/index.js';
import type { Dialect } from '../../lib/index.js';
import { forEachDialect, knexConfigFor } from '../support/index.js';

type Done = (error: Error | null, connection: unknown) => void;

/** Reads, on a raw driver connection, the setting taskstore's own afterCreate makes first. */
function probe(dialect: Dialect, connection: unknown, report: (error: Error | null, value: unknown) => void): void {
  if (dialect === 'sqlite') {
    report(null, (connection as { pragma(source: string, options: { simple: true }): unknown }).pragma('busy_timeout', { simple: true }));
  } else if (dialect === 'mysql') {
    (connection as { query(sql: string, cb: (error: Error | null, rows: { tz: string }[]) => void): void }).query(
      'SELECT @@session.time_zone AS tz',
      (error, rows) => report(error, rows?.[0]?.tz),
    );
  } else {
    report(null, 'nothing to probe');
  }
}

/** The settings of a connection of the store's pool, as taskstore means them to be. */
async function sessionSettings(store: TaskStore): Promise<Record<string, unknown>> {
  const rows = async (sql: string): Promise<Record<string, unknown>[]> => {
    const result: unknown = await store.knex.raw(sql);
    return store.dialect === 'mysql' ? (result as [Record<string, unknown>[]])[0] : (result as Record<string, unknown>[]);
  };
  if (store.dialect === 'sqlite') {
    return {
      journal_mode: (await rows('PRAGMA journal_mode'))[0]?.['journal_mode'],
      busy_timeout: (await rows('PRAGMA busy_timeout'))[0]?.['timeout'],
      synchronous: (await rows('PRAGMA synchronous'))[0]?.['synchronous'],
      foreign_keys: (await rows('PRAGMA foreign_keys'))[0]?.['foreign_keys'],
    };
  }
  if (store.dialect === 'mysql') return { time_zone: (await rows('SELECT @@session.time_zone AS tz'))[0]?.['tz'] };
  return {};
}

const EXPECTED: Record<Dialect, { probe: unknown; settings: Record<string, unknown> }> = {
  sqlite: { probe: 10000, settings: { journal_mode: 'wal', busy_timeout: 10000, synchronous: 1, foreign_keys: 1 } },
  mysql: { probe: '+00:00', settings: { time_zone: '+00:00' } },
  postgres: { probe: 'nothing to probe', settings: {} },
};

forEachDialect('A Knex.Config with its own pool.afterCreate', (t) => {
  it("gets taskstore's connection settings first, then runs the user's afterCreate", async function () {
    const seen: unknown[] = [];
    const config: Knex.Config = {
      ...knexConfigFor(t.dialect, t.url),
      pool: {
        afterCreate(connection: unknown, done: Done) {
          probe(t.dialect, connection, (error, value) => {
            seen.push(value);
            done(error, connection);
          });
        },
      },
    };
    const store = t.track(await TaskStore.open({ database: config, automigrate: false }));
    expect(await sessionSettings(store)).to.deep.equal(EXPECTED[t.dialect].settings);
    // Each new connection ran the user's afterCreate, and taskstore's had already run on it.
    expect(seen).to.have.length.greaterThan(0);
    expect([...new Set(seen)]).to.deep.equal([EXPECTED[t.dialect].probe]);
    await t.store.taskDefinitionCreate({ alias: 'SeenThroughHookedConfig' });
    expect(await store.taskDefinitionCount()).to.equal(1);
  });
});

describe('A SQLite Knex.Config with its own pool.afterCreate', function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'taskstore-connection-'));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the user's afterCreate last, so it can change a pragma taskstore sets", async function () {
    const store = await TaskStore.open({
      database: {
        client: 'better-sqlite3',
        connection: { filename: join(dir, 'full.db') },
        pool: {
          afterCreate(connection: { pragma(source: string): unknown }, done: Done) {
            connection.pragma('synchronous = FULL');
            done(null, connection);
          },
        },
      },
    });
    try {
      expect(await sessionSettings(store)).to.deep.equal({ journal_mode: 'wal', busy_timeout: 10000, synchronous: 2, foreign_keys: 1 });
    } finally {
      await store.close();
    }
  });
});

describe('The default database URL', function () {
  it('is TASKSTORE_DATABASE_URL, unless it is empty or blank, then sqlite:./taskstore.db (or the fallback given)', function () {
    expect(defaultDatabaseUrl({ TASKSTORE_DATABASE_URL: 'postgres://db/app' })).to.equal('postgres://db/app');
    for (const env of [{}, { TASKSTORE_DATABASE_URL: '' }, { TASKSTORE_DATABASE_URL: ' \t' }]) {
      expect(defaultDatabaseUrl(env)).to.equal('sqlite:./taskstore.db');
      expect(resolveStoreOptions({}, env).database).to.equal('sqlite:./taskstore.db');
      expect(defaultDatabaseUrl(env, 'sqlite:./taskstore-demo.db')).to.equal('sqlite:./taskstore-demo.db');
    }
  });
});
