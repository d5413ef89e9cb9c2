/**
 * What counts as worth another try: the errors the drivers really raise when a connection
 * breaks, a server restarts or a statement's deadline passes (node-postgres says so in a
 * message with no code; mysql2 and Node in codes), besides deadlocks and busy databases.
 * Before, none of the lost-connection shapes matched, so every finishing write hit by a cut
 * failed and its task waited for the sweep.
 */
import { expect } from 'chai';
import { isConnectionLost } from '../../adapters/adapter.js';
import { mysqlAdapter } from '../../adapters/mysql/mysql-adapter.js';
import { postgresAdapter } from '../../adapters/postgres/postgres-adapter.js';
import { sqliteAdapter } from '../../adapters/sqlite/sqlite-adapter.js';
import { STATEMENT_DEADLINE_CODE } from '../../adapters/statement-deadline.js';

const withCode = (code: string | number, message = 'x') =>
  Object.assign(new Error(message), typeof code === 'number' ? { errno: code } : { code });

const LOST = [
  new Error('Connection terminated unexpectedly'),
  new Error('Connection terminated due to connection timeout'),
  new Error('Client has encountered a connection error and is not queryable'),
  new Error('Knex: Timeout acquiring a connection. The pool is probably full.'),
  withCode('ECONNRESET'),
  withCode('ECONNREFUSED'),
  withCode('EPIPE'),
  withCode('ETIMEDOUT'),
  withCode('PROTOCOL_CONNECTION_LOST'),
  withCode(STATEMENT_DEADLINE_CODE),
];

describe('transient errors', () => {
  it('recognises a lost connection in every shape the drivers raise', () => {
    for (const error of LOST) expect(isConnectionLost(error), error.message + String((error as { code?: string }).code)).to.equal(true);
  });

  it('does not take other errors for a lost connection', () => {
    for (const error of [new Error('syntax error at or near "x"'), withCode('23505'), withCode(1062), null, 'ECONNRESET', {}]) {
      expect(isConnectionLost(error), String(error)).to.equal(false);
    }
  });

  it('PostgreSQL: lost connections, restarts (57P01-57P03), connection failures (08xxx) and deadlocks are transient', () => {
    for (const error of [...LOST, withCode('57P01'), withCode('57P02'), withCode('57P03'), withCode('08006'), withCode('40P01')]) {
      expect(postgresAdapter.isTransient(error), error.message).to.equal(true);
    }
    for (const error of [withCode('23505'), withCode('42601'), withCode('22P02')])
      expect(postgresAdapter.isTransient(error)).to.equal(false);
  });

  it('MySQL: lost connections, server shutdown (1053), gone (2006, 2013), lock waits and deadlocks are transient', () => {
    for (const error of [...LOST, withCode(1053), withCode(2006), withCode(2013), withCode(1205), withCode(1213)]) {
      expect(mysqlAdapter.isTransient(error), error.message).to.equal(true);
    }
    for (const error of [withCode(1062), withCode(1064), withCode(1406)]) expect(mysqlAdapter.isTransient(error)).to.equal(false);
  });

  it('SQLite: only a busy or locked database is transient (there is no connection to lose)', () => {
    expect(sqliteAdapter.isTransient(withCode('SQLITE_BUSY'))).to.equal(true);
    expect(sqliteAdapter.isTransient(withCode('SQLITE_CONSTRAINT_UNIQUE'))).to.equal(false);
  });
});
