/**
 * The PostgreSQL connection. pg needs no session settings for correctness (timestamptz needs
 * no session time zone); for broken networks every connection gets TCP keepalives, a connect
 * timeout, a server-side limit on sessions idle inside a transaction (so a frozen worker's
 * locks are released), and taskstore's statement deadline (statement-deadline.ts).
 */
import type { Socket } from 'node:net';
import type { Knex } from 'knex';
import { afterCreateThen, type AfterCreate } from '../after-create.js';
import type { ConnectionSettings } from '../adapter.js';
import { armStatementDeadlines } from '../statement-deadline.js';

/** The Knex.Config for 'postgres://…' or 'postgresql://…': pg's connection-string parameters apply. */
export function postgresUrlConfig(url: string, settings: ConnectionSettings): Knex.Config {
  return postgresConnectionConfig({ client: 'pg', connection: { connectionString: url }, pool: { min: 0, max: 10 } }, settings);
}

/** A pg Knex.Config with taskstore's network settings added under the user's own. */
export function postgresConnectionConfig(config: Knex.Config, settings: ConnectionSettings): Knex.Config {
  const deadline: AfterCreate = (connection, done) => {
    armStatementDeadlines(connection, settings.statementTimeoutMs, socketOf, settings.deadlines);
    done(null, connection);
  };
  const pool = { ...config.pool, afterCreate: afterCreateThen(deadline, config.pool?.afterCreate) };
  if (typeof config.connection === 'string')
    return { ...config, connection: { ...networkDefaults(settings), connectionString: config.connection }, pool };
  if (!config.connection || typeof config.connection !== 'object') return { ...config, pool };
  return { ...config, connection: { ...networkDefaults(settings), ...config.connection }, pool };
}

function networkDefaults(settings: ConnectionSettings): Record<string, unknown> {
  return {
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // A session left inside a transaction (a frozen worker) is ended by the server, and its row locks with it.
    idle_in_transaction_session_timeout: settings.idleTransactionTimeoutMs,
  };
}

function socketOf(connection: unknown): Socket | undefined {
  return (connection as { connection?: { stream?: Socket } }).connection?.stream;
}
