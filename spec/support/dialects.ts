/**
 * The dialect matrix. `forEachDialect(title, fn)` declares one mocha `describe` per selected
 * dialect, each with its own fresh database (temp SQLite file, or a `ts_<random>` database on
 * the PostgreSQL / MySQL server), a shared store `t.store` whose tables are emptied before
 * every test, and `t.openStore()` for extra instances (closed after the test that opened them,
 * or after the suite when opened in a `before` hook).
 *
 * Selection: `DB=sqlite,postgres,mysql` picks dialects explicitly (a picked server dialect
 * without its URL throws); otherwise SQLite always runs, plus PostgreSQL when
 * TASKSTORE_TEST_PG_URL is set and MySQL when TASKSTORE_TEST_MYSQL_URL is set. An unreachable
 * server fails the `before` hook; nothing is ever skipped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Knex } from 'knex';
import { TaskStore } from '../../lib/index.js';
import type { Dialect, TaskStoreOptions } from '../../lib/index.js';

export const ALL_DIALECTS: readonly Dialect[] = ['sqlite', 'postgres', 'mysql'];

const URL_ENV: Record<Exclude<Dialect, 'sqlite'>, string> = {
  postgres: 'TASKSTORE_TEST_PG_URL',
  mysql: 'TASKSTORE_TEST_MYSQL_URL',
};

/** Default table names, for the few tests that read rows with knex directly. */
export const TABLES = {
  definition: 'task_definition',
  queue: 'task_queue',
  schedule: 'task_schedule',
  metrics: 'task_queue_metrics',
  queueSettings: 'task_queue_settings',
  queueStarts: 'task_queue_starts',
  flow: 'task_queue_flow',
  dependency: 'task_queue_dependency',
  runners: 'task_queue_runners',
} as const;

export function selectedDialects(env: NodeJS.ProcessEnv = process.env): Dialect[] {
  const explicit = env['DB']?.trim();
  if (!explicit) {
    const picked: Dialect[] = ['sqlite'];
    if (env[URL_ENV.postgres]) picked.push('postgres');
    if (env[URL_ENV.mysql]) picked.push('mysql');
    return picked;
  }
  const names = explicit
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!ALL_DIALECTS.includes(name as Dialect)) {
      throw new Error(`DB=${explicit}: unknown dialect '${name}' (known: ${ALL_DIALECTS.join(', ')})`);
    }
    if (name !== 'sqlite' && !env[URL_ENV[name as Exclude<Dialect, 'sqlite'>]]) {
      throw new Error(`DB selects ${name} but ${URL_ENV[name as Exclude<Dialect, 'sqlite'>]} is not set`);
    }
  }
  return [...new Set(names)] as Dialect[];
}

/** A throwaway database: its URL and how to get rid of it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const name = randomName('ts');
  if (dialect === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'taskstore-spec-'));
    return { url: `sqlite:${join(dir, `${name}.db`)}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const adminUrl = process.env[URL_ENV[dialect]];
  if (!adminUrl) throw new Error(`${URL_ENV[dialect]} is not set`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  if (dialect === 'postgres') {
    await withPg(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
    return {
      url: url.toString(),
      drop: () => withPg(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
    };
  }
  await withMysql(adminUrl, (connection) => connection.query(`CREATE DATABASE \`${name}\``));
  return {
    url: url.toString(),
    drop: () => withMysql(adminUrl, (connection) => connection.query(`DROP DATABASE IF EXISTS \`${name}\``)).then(() => undefined),
  };
}

async function withPg<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function withMysql<T>(url: string, use: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 5000 });
  try {
    return await use(connection);
  } finally {
    await connection.end();
  }
}

/** A knex config reaching `url` directly, for tests that hand the store a Knex instance or config. */
export function knexConfigFor(dialect: Dialect, url: string): Knex.Config {
  if (dialect === 'sqlite')
    return { client: 'better-sqlite3', connection: { filename: url.slice('sqlite:'.length) }, useNullAsDefault: true };
  if (dialect === 'postgres') return { client: 'pg', connection: url };
  return { client: 'mysql2', connection: url };
}

export interface DialectContext {
  readonly dialect: Dialect;
  /** The fresh database of this describe block (valid from the first `before` on). */
  readonly url: string;
  /** A store on `url` with the default tables, emptied before every test. */
  readonly store: TaskStore;
  /** Opens another store on `url` (automigrate off unless asked); closed for you. */
  openStore(options?: TaskStoreOptions): Promise<TaskStore>;
  /** Registers a store opened some other way, to be closed like `openStore` ones. */
  track(store: TaskStore): TaskStore;
}

export function forEachDialect(title: string, body: (t: DialectContext) => void): void {
  for (const dialect of selectedDialects()) {
    describe(`${title} [${dialect}]`, function () {
      let database: TestDatabase | undefined;
      let shared: TaskStore | undefined;
      let inTest = false;
      const suiteStores: TaskStore[] = [];
      const testStores: TaskStore[] = [];

      const track = (store: TaskStore): TaskStore => {
        (inTest ? testStores : suiteStores).push(store);
        return store;
      };
      const closeAll = async (stores: TaskStore[]): Promise<void> => {
        const closing = stores.splice(0).map((store) => store.close());
        const results = await Promise.allSettled(closing);
        const failed = results.find((result) => result.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
      };

      const t: DialectContext = {
        dialect,
        get url() {
          if (!database) throw new Error('t.url is only available once the before hook has run');
          return database.url;
        },
        get store() {
          if (!shared) throw new Error('t.store is only available once the before hook has run');
          return shared;
        },
        async openStore(options = {}) {
          return track(await TaskStore.open({ database: t.url, automigrate: false, ...options }));
        },
        track,
      };

      before(async function () {
        this.timeout(60_000);
        database = await createTestDatabase(dialect);
        shared = await TaskStore.open({ database: database.url });
      });

      beforeEach(async function () {
        inTest = true;
        const knex = t.store.knex;
        for (const table of [
          TABLES.dependency,
          TABLES.flow,
          TABLES.schedule,
          TABLES.queue,
          TABLES.definition,
          TABLES.metrics,
          TABLES.queueSettings,
          TABLES.queueStarts,
          TABLES.runners,
        ]) {
          if (await knex.schema.hasTable(table)) await knex(table).del();
        }
      });

      afterEach(async function () {
        inTest = false;
        await closeAll(testStores);
      });

      after(async function () {
        this.timeout(60_000);
        try {
          await closeAll(suiteStores);
          await shared?.close();
        } finally {
          await database?.drop();
        }
      });

      body(t);
    });
  }
}
