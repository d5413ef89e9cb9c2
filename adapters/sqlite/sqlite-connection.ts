/**
 * What every SQLite connection needs: better-sqlite3 with one connection per process, and
 * the pragmas on each new connection, before any `pool.afterCreate` of the user's.
 */
import type { Knex } from 'knex';
import { invalidArgument } from '../../lib/foundation/errors.js';
import { afterCreateThen, type AfterCreate } from '../after-create.js';

/** The Knex.Config for 'sqlite:./file.db', 'sqlite://./file.db' or 'sqlite::memory:'. */
export function sqliteUrlConfig(url: string): Knex.Config {
  const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=[^/])/, '');
  if (filename === '') throw invalidArgument("database: 'sqlite:' needs a file name, e.g. sqlite:./taskstore.db or sqlite::memory:");
  return sqliteConnectionConfig({ client: 'better-sqlite3', connection: { filename } });
}

/** A better-sqlite3 Knex.Config with taskstore's settings added (the user's pool sizes win). */
export function sqliteConnectionConfig(config: Knex.Config): Knex.Config {
  const filename = (config.connection as { filename?: string } | undefined)?.filename ?? '';
  const ours = sqliteAfterCreate(filename === ':memory:');
  return {
    useNullAsDefault: true,
    ...config,
    // better-sqlite3 is synchronous: one connection per process is the fastest arrangement,
    // and the only correct one for ':memory:' (each connection would be its own database).
    pool: { min: 1, max: 1, ...config.pool, afterCreate: afterCreateThen(ours, config.pool?.afterCreate) },
  };
}

function sqliteAfterCreate(inMemory: boolean): AfterCreate {
  return (connection, done) => {
    try {
      prepareSqliteConnection(connection as { pragma(source: string): unknown }, inMemory);
    } catch (error) {
      done(error as Error, connection);
      return;
    }
    done(null, connection);
  };
}

/** Pragmas every new connection gets: WAL for concurrent readers, a busy wait, fast fsync. */
function prepareSqliteConnection(connection: { pragma(source: string): unknown }, inMemory: boolean): void {
  if (!inMemory) connection.pragma('journal_mode = WAL');
  connection.pragma('busy_timeout = 10000');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
}
