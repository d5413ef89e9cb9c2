/**
 * Turns the `database` option (a URL, a Knex.Config or a Knex instance) into a Knex instance
 * and the adapter for its dialect.
 */
import knexFactory, { type Knex } from 'knex';
import { invalidArgument } from '../lib/foundation/errors.js';
import type { Dialect, Logger } from '../lib/foundation/types.js';
import type { Adapter, ConnectionSettings } from './adapter.js';
import { DeadlineSwitch } from './statement-deadline.js';
import { mysqlAdapter } from './mysql/mysql-adapter.js';
import { mysqlConnectionConfig, mysqlUrlConfig } from './mysql/mysql-connection.js';
import { postgresAdapter } from './postgres/postgres-adapter.js';
import { postgresConnectionConfig, postgresUrlConfig } from './postgres/postgres-connection.js';
import { sqliteAdapter } from './sqlite/sqlite-adapter.js';
import { sqliteConnectionConfig, sqliteUrlConfig } from './sqlite/sqlite-connection.js';

export type { Adapter, AdapterCapabilities, ConnectionSettings, TableNames } from './adapter.js';

/** The network settings of a store with default options (each store gets its own deadline switch). */
export const DEFAULT_CONNECTION_SETTINGS: Omit<ConnectionSettings, 'deadlines'> = Object.freeze({
  statementTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  idleTransactionTimeoutMs: 60_000,
  lockWaitTimeoutMs: 5_000,
});

/**
 * Connection settings with a deadline switch of their own. Opening a connection is on a
 * statement's path too, so it may not take longer than the statement deadline.
 */
export function connectionSettings(
  overrides: Partial<Pick<ConnectionSettings, 'statementTimeoutMs' | 'idleTransactionTimeoutMs'>> = {},
): ConnectionSettings {
  const settings = { ...DEFAULT_CONNECTION_SETTINGS, ...overrides };
  const { statementTimeoutMs, connectTimeoutMs } = settings;
  return Object.freeze({
    ...settings,
    connectTimeoutMs: statementTimeoutMs > 0 ? Math.min(connectTimeoutMs, statementTimeoutMs) : connectTimeoutMs,
    deadlines: new DeadlineSwitch(),
  });
}

const DEFAULT_DATABASE_URL = 'sqlite:./taskstore.db';

/** The database URL when none is given: TASKSTORE_DATABASE_URL unless empty or blank, else `fallback`. */
export function defaultDatabaseUrl(env: NodeJS.ProcessEnv, fallback: string = DEFAULT_DATABASE_URL): string {
  const fromEnv = env['TASKSTORE_DATABASE_URL'];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : fallback;
}

/** Each dialect's adapter, and what a Knex.Config needs on its every connection. */
const DIALECTS: Record<
  Dialect,
  { readonly adapter: Adapter; readonly connectionConfig: (config: Knex.Config, settings: ConnectionSettings) => Knex.Config }
> = {
  sqlite: { adapter: sqliteAdapter, connectionConfig: (config) => sqliteConnectionConfig(config) },
  postgres: { adapter: postgresAdapter, connectionConfig: postgresConnectionConfig },
  mysql: { adapter: mysqlAdapter, connectionConfig: mysqlConnectionConfig },
};

export interface ResolvedDatabase {
  readonly knex: Knex;
  readonly adapter: Adapter;
  /** True when taskstore created the Knex instance and so must destroy it on close. */
  readonly owned: boolean;
}

/**
 * A URL or Knex.Config becomes a Knex instance taskstore owns, with `settings` on every
 * connection; a Knex instance is used as it is (its owner configures its connections).
 */
export function resolveDatabase(
  database: string | Knex.Config | Knex,
  settings: ConnectionSettings = connectionSettings(),
  logger?: Logger,
): ResolvedDatabase {
  if (typeof database === 'function') {
    const knex = database as Knex;
    return { knex, adapter: adapterForKnex(knex), owned: false };
  }
  const config = typeof database === 'string' ? configFromUrl(database, settings) : connectionConfig(database, settings);
  // knex's own messages go to the store's logger, not the console: its warnings (an acquire
  // error, a discarded connection) repeat what the failing call reports, so they are debug lines.
  const log = config.log ?? (logger && knexLog(logger));
  return { knex: knexFactory(log ? { ...config, log } : config), adapter: DIALECTS[dialectOfClient(config.client)].adapter, owned: true };
}

function knexLog(logger: Logger): Knex.Config['log'] {
  return {
    warn: (message: unknown) => logger.debug(`knex: ${String(message)}`),
    error: (message: unknown) => logger.debug(`knex: ${String(message)}`),
    deprecate: (method: unknown, alternative: unknown) => logger.warn(`knex: ${String(method)} is deprecated, use ${String(alternative)}`),
    debug: (message: unknown) => logger.debug(`knex: ${typeof message === 'string' ? message : JSON.stringify(message)}`),
  };
}

/** The adapter for a Knex instance (migrations run by the knex CLI use this). */
export function adapterForKnex(knex: Knex): Adapter {
  const client = (knex as unknown as { client?: { config?: Knex.Config; dialect?: string } }).client;
  if (!client) throw invalidArgument('database: not a Knex instance');
  return DIALECTS[dialectOfClient(client.config?.client ?? client.dialect)].adapter;
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
export function configFromUrl(url: string, settings: ConnectionSettings = connectionSettings()): Knex.Config {
  if (typeof url !== 'string' || url.trim() === '')
    throw invalidArgument('database must be a non-empty URL, a Knex.Config or a Knex instance');
  if (url.startsWith('sqlite:')) return sqliteUrlConfig(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(`database: '${redact(url)}' is not a URL (expected sqlite:…, postgres://… or mysql://…)`);
  }
  switch (parsed.protocol) {
    case 'postgres:':
    case 'postgresql:':
      return postgresUrlConfig(url, settings);
    case 'mysql:':
    case 'mariadb:':
      return mysqlUrlConfig(parsed, settings);
    default:
      throw invalidArgument(`database: unknown URL scheme '${parsed.protocol}' (expected sqlite:, postgres:// or mysql://)`);
  }
}

/** A user's Knex.Config with the settings its dialect needs on every connection. */
function connectionConfig(config: Knex.Config, settings: ConnectionSettings): Knex.Config {
  if (config === null || typeof config !== 'object' || !config.client) {
    throw invalidArgument('database: a Knex.Config needs a client (better-sqlite3, pg or mysql2)');
  }
  return DIALECTS[dialectOfClient(config.client)].connectionConfig(config, settings);
}

/** A URL with its password hidden, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
