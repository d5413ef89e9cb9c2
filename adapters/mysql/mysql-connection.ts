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
  closeOnEndedSession(connection as MysqlConnection);
  const query = (connection as { query(sql: string, cb: (error: Error | null) => void): void }).query.bind(connection);
  query("SET time_zone = '+00:00'", (zoneError) => {
    if (zoneError) return done(zoneError, connection);
    query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (isolationError) => done(isolationError, connection));
  });
};

interface MysqlConnection {
  query(...args: unknown[]): unknown;
  destroy(): void;
}

/**
 * Errors after which the server has closed the session although mysql2 does not call them
 * fatal: 1153, a packet over max_allowed_packet. The server drops the connection while the
 * rest of the packet may still be on its way, so the next statement on it would fail with
 * `write ECONNRESET`. (Fatal errors mysql2 handles itself: it closes the connection.)
 */
const SESSION_ENDING_ERRNOS = new Set([1153]);

/**
 * Closes the connection when a query on it fails in a way that ended the session, so knex's
 * pool (which checks every connection before lending it) destroys it instead of lending it
 * to the next, unrelated call. It happens in the query's own callback, before knex releases
 * the connection.
 */
function closeOnEndedSession(connection: MysqlConnection): void {
  const query = connection.query.bind(connection);
  connection.query = (...args: unknown[]) => {
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      args[args.length - 1] = (error: { errno?: unknown } | null, ...rest: unknown[]) => {
        if (error && SESSION_ENDING_ERRNOS.has(Number(error.errno))) connection.destroy();
        return (callback as (...values: unknown[]) => unknown)(error, ...rest);
      };
    }
    return query(...args);
  };
}
