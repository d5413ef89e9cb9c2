/**
 * What every MySQL/MariaDB connection needs, or values drift: mysql2 reads and writes DATETIME
 * as UTC, and each new session runs in UTC at READ COMMITTED, before any `pool.afterCreate`
 * of the user's.
 */
import type { Knex } from 'knex';
import { afterCreateThen, type AfterCreate } from '../after-create.js';

/** The Knex.Config for 'mysql://…' or 'mariadb://…': its query parameters become mysql2 options. */
export function mysqlUrlConfig(url: URL): Knex.Config {
  return mysqlConnectionConfig({ client: 'mysql2', connection: connectionFromUrl(url), pool: { min: 0, max: 10 } });
}

/**
 * A mysql2 Knex.Config with taskstore's settings added. A connection string is read as a URL;
 * options the user set win; a connection given as a function is left alone.
 */
export function mysqlConnectionConfig(config: Knex.Config): Knex.Config {
  if (typeof config.connection === 'string') {
    return mysqlConnectionConfig({ ...config, connection: connectionFromUrl(new URL(config.connection)) });
  }
  if (!config.connection || typeof config.connection !== 'object') return config;
  const connection = { timezone: 'Z', dateStrings: false, supportBigNumbers: true, charset: 'utf8mb4', ...config.connection };
  return { ...config, connection, pool: { ...config.pool, afterCreate: afterCreateThen(prepareMysqlSession, config.pool?.afterCreate) } };
}

function connectionFromUrl(url: URL): Knex.MySql2ConnectionConfig {
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
 * UTC for NOW() and DATETIME; READ COMMITTED so guarded updates lock the rows they change and
 * not the gaps between them (fewer deadlocks between claimers and sweeps).
 */
const prepareMysqlSession: AfterCreate = (connection, done) => {
  const query = (connection as { query(sql: string, cb: (error: Error | null) => void): void }).query.bind(connection);
  query("SET time_zone = '+00:00'", (zoneError) => {
    if (zoneError) return done(zoneError, connection);
    query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (isolationError) => done(isolationError, connection));
  });
};
