/**
 * What every MySQL/MariaDB connection needs, or values drift: mysql2 reads and writes DATETIME
 * as UTC, and each new session runs in UTC at READ COMMITTED, before any `pool.afterCreate`
 * of the user's. For broken networks: TCP keepalives, short lock waits, a server-side limit on
 * sessions idle inside a transaction (MariaDB), and taskstore's statement deadline.
 */
import type { Socket } from 'node:net';
import type { Knex } from 'knex';
import { afterCreateThen, type AfterCreate } from '../after-create.js';
import type { ConnectionSettings } from '../adapter.js';
import { armStatementDeadlines } from '../statement-deadline.js';

/** The Knex.Config for 'mysql://…' or 'mariadb://…': its query parameters become mysql2 options. */
export function mysqlUrlConfig(url: URL, settings: ConnectionSettings): Knex.Config {
  return mysqlConnectionConfig({ client: 'mysql2', connection: connectionFromUrl(url), pool: { min: 0, max: 10 } }, settings);
}

/**
 * A mysql2 Knex.Config with taskstore's settings added. A connection string is read as a URL;
 * options the user set win; a connection given as a function is left alone.
 */
export function mysqlConnectionConfig(config: Knex.Config, settings: ConnectionSettings): Knex.Config {
  if (typeof config.connection === 'string') {
    return mysqlConnectionConfig({ ...config, connection: connectionFromUrl(new URL(config.connection)) }, settings);
  }
  if (!config.connection || typeof config.connection !== 'object') return config;
  const connection = {
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    charset: 'utf8mb4',
    enableKeepAlive: true,
    keepAliveInitialDelay: 10_000,
    connectTimeout: settings.connectTimeoutMs,
    ...config.connection,
  };
  const prepare: AfterCreate = (raw, done) => {
    closeOnEndedSession(raw as MysqlConnection);
    prepareMysqlSession(raw, settings, (error) => {
      if (!error) armStatementDeadlines(raw, settings.statementTimeoutMs, socketOf, settings.deadlines);
      done(error, raw);
    });
  };
  return { ...config, connection, pool: { ...config.pool, afterCreate: afterCreateThen(prepare, config.pool?.afterCreate) } };
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

type Query = (sql: string, cb: (error: (Error & { errno?: number }) | null) => void) => void;

/**
 * UTC for NOW() and DATETIME; READ COMMITTED so guarded updates lock the rows they change and
 * not the gaps between them (fewer deadlocks between claimers and sweeps); lock waits of a few
 * seconds (a claim skips locked rows; a sweep or a guarded write that waits longer is behind a
 * stuck session, and tries again later); MariaDB ends sessions idle inside a transaction.
 */
function prepareMysqlSession(connection: unknown, settings: ConnectionSettings, done: (error: Error | null) => void): void {
  const query = (connection as { query: Query }).query.bind(connection) as Query;
  const lockWaitSeconds = Math.max(1, Math.round(settings.lockWaitTimeoutMs / 1000));
  query(`SET time_zone = '+00:00', SESSION innodb_lock_wait_timeout = ${lockWaitSeconds}`, (settingsError) => {
    if (settingsError) return done(settingsError);
    query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (isolationError) => {
      if (isolationError) return done(isolationError);
      const idleSeconds = Math.max(1, Math.round(settings.idleTransactionTimeoutMs / 1000));
      // MariaDB only; MySQL answers 1193 (unknown system variable) and has no such limit.
      query(`SET SESSION idle_transaction_timeout = ${idleSeconds}`, (idleError) => done(idleError?.errno === 1193 ? null : idleError));
    });
  });
}

function socketOf(connection: unknown): Socket | undefined {
  return (connection as { stream?: Socket }).stream;
}

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
