/**
 * Turns the `database` option (a URL, a Knex.Config or a Knex instance) into a Knex instance
 * and the adapter for its dialect.
 */
import knexFactory, { type Knex } from 'knex';
import { invalidArgument } from '../lib/foundation/errors.js';
import type { Dialect } from '../lib/foundation/types.js';
import type { Adapter } from './adapter.js';
import { mysqlAdapter } from './mysql/mysql-adapter.js';
import { postgresAdapter } from './postgres/postgres-adapter.js';
import { prepareSqliteConnection, sqliteAdapter } from './sqlite/sqlite-adapter.js';

export type { Adapter, AdapterCapabilities, TableNames } from './adapter.js';

export const DEFAULT_DATABASE_URL = 'sqlite:./taskstore.db';

const ADAPTERS: Record<Dialect, Adapter> = { sqlite: sqliteAdapter, postgres: postgresAdapter, mysql: mysqlAdapter };

export interface ResolvedDatabase {
  readonly knex: Knex;
  readonly adapter: Adapter;
  /** True when taskstore created the Knex instance and so must destroy it on close. */
  readonly owned: boolean;
}

export function resolveDatabase(database: string | Knex.Config | Knex): ResolvedDatabase {
  if (typeof database === 'function') {
    const knex = database as Knex;
    return { knex, adapter: adapterForKnex(knex), owned: false };
  }
  const config = typeof database === 'string' ? configFromUrl(database) : withSafeDefaults(database);
  const dialect = dialectOfClient(config.client);
  return { knex: knexFactory(config), adapter: ADAPTERS[dialect], owned: true };
}

/** The adapter for a Knex instance (migrations run by the knex CLI use this). */
export function adapterForKnex(knex: Knex): Adapter {
  const client = (knex as unknown as { client?: { config?: Knex.Config; dialect?: string } }).client;
  if (!client) throw invalidArgument('database: not a Knex instance');
  return ADAPTERS[dialectOfClient(client.config?.client ?? client.dialect)];
}

function dialectOfClient(client: Knex.Config['client']): Dialect {
  const name = typeof client === 'string' ? client : (client as { prototype?: { dialect?: string } } | undefined)?.prototype?.dialect;
  switch (name) {
    case 'pg':
    case 'postgres':
    case 'postgresql':
      return 'postgres';
    case 'mysql':
    case 'mysql2':
      return 'mysql';
    case 'better-sqlite3':
      return 'sqlite';
    default:
      throw invalidArgument(`database: unsupported knex client '${String(name)}' (use better-sqlite3, pg or mysql2)`);
  }
}

/** Builds a Knex.Config from 'sqlite:…', 'postgres://…' or 'mysql://…'. */
export function configFromUrl(url: string): Knex.Config {
  if (typeof url !== 'string' || url.trim() === '')
    throw invalidArgument('database must be a non-empty URL, a Knex.Config or a Knex instance');
  if (url.startsWith('sqlite:')) return sqliteConfig(url.slice('sqlite:'.length).replace(/^\/\/(?=[^/])/, ''));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(`database: '${redact(url)}' is not a URL (expected sqlite:…, postgres://… or mysql://…)`);
  }
  switch (parsed.protocol) {
    case 'postgres:':
    case 'postgresql:':
      return { client: 'pg', connection: { connectionString: url }, pool: { min: 0, max: 10 } };
    case 'mysql:':
    case 'mariadb:':
      return mysqlConfig(parsed);
    default:
      throw invalidArgument(`database: unknown URL scheme '${parsed.protocol}' (expected sqlite:, postgres:// or mysql://)`);
  }
}

function sqliteConfig(filename: string): Knex.Config {
  if (filename === '') throw invalidArgument("database: 'sqlite:' needs a file name, e.g. sqlite:./taskstore.db or sqlite::memory:");
  const inMemory = filename === ':memory:';
  return {
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    // better-sqlite3 is synchronous: one connection per process is the fastest arrangement,
    // and the only correct one for ':memory:' (each connection would be its own database).
    pool: { min: 1, max: 1, afterCreate: sqliteAfterCreate(inMemory) },
  };
}

type AfterCreate = (connection: unknown, done: (error: Error | null, connection: unknown) => void) => void;

function sqliteAfterCreate(inMemory: boolean, next?: AfterCreate): AfterCreate {
  return (connection, done) => {
    try {
      prepareSqliteConnection(connection as { pragma(source: string): unknown }, inMemory);
    } catch (error) {
      done(error as Error, connection);
      return;
    }
    if (next) next(connection, done);
    else done(null, connection);
  };
}

function mysqlConfig(url: URL): Knex.Config {
  return withSafeDefaults({ client: 'mysql2', connection: mysqlConnection(url), pool: { min: 0, max: 10 } });
}

function mysqlConnection(url: URL): Knex.MySql2ConnectionConfig {
  return {
    ...Object.fromEntries(url.searchParams.entries()),
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
  };
}

/**
 * Settings without which values drift: mysql2 must read and write DATETIME as UTC, and every
 * SQLite connection needs its pragmas. Applied to configs taskstore turns into instances.
 */
function withSafeDefaults(config: Knex.Config): Knex.Config {
  if (config === null || typeof config !== 'object' || !config.client) {
    throw invalidArgument('database: a Knex.Config needs a client (better-sqlite3, pg or mysql2)');
  }
  const dialect = dialectOfClient(config.client);
  if (dialect === 'mysql' && typeof config.connection === 'string') {
    return withSafeDefaults({ ...config, connection: mysqlConnection(new URL(config.connection)) });
  }
  if (dialect === 'mysql' && config.connection && typeof config.connection === 'object') {
    const connection = { timezone: 'Z', dateStrings: false, supportBigNumbers: true, charset: 'utf8mb4', ...config.connection };
    const userAfterCreate = config.pool?.afterCreate as AfterCreate | undefined;
    const afterCreate: AfterCreate = (conn, done) => {
      // UTC for NOW() and DATETIME; READ COMMITTED so guarded updates lock the rows they
      // change and not the gaps between them (fewer deadlocks between claimers and sweeps).
      const query = (conn as { query(sql: string, cb: (error: Error | null) => void): void }).query.bind(conn);
      query("SET time_zone = '+00:00'", (zoneError) => {
        if (zoneError) return done(zoneError, conn);
        query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (isolationError) => {
          if (isolationError || !userAfterCreate) done(isolationError, conn);
          else userAfterCreate(conn, done);
        });
      });
    };
    return { ...config, connection, pool: { ...config.pool, afterCreate } };
  }
  if (dialect === 'sqlite' && !config.pool?.afterCreate) {
    const filename = (config.connection as { filename?: string } | undefined)?.filename ?? '';
    return {
      useNullAsDefault: true,
      ...config,
      pool: { min: 1, max: 1, ...config.pool, afterCreate: sqliteAfterCreate(filename === ':memory:') },
    };
  }
  return config;
}

/** A URL with its password hidden, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
