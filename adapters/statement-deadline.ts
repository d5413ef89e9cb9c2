/**
 * A deadline for every statement on a connection taskstore opened (PostgreSQL, MySQL). When
 * the server has not answered within the deadline, the connection's socket is destroyed: the
 * statement fails with a connection error (retried where that is safe), and the pool never
 * hands that connection out again. Without it a half-open connection (a network that stopped
 * forwarding without closing anything) hangs the statement, and all that waits on it, until
 * TCP gives up many minutes later.
 */
import type { Socket } from 'node:net';

/** The code of the error a statement fails with when its deadline passed. */
export const STATEMENT_DEADLINE_CODE = 'TASKSTORE_STATEMENT_DEADLINE';

/**
 * Turns the deadlines of one Knex instance's connections off while long work runs on them
 * (migrations: a table rebuild may take minutes). Statements started meanwhile get no timer.
 */
export class DeadlineSwitch {
  #suspended = 0;

  get active(): boolean {
    return this.#suspended === 0;
  }

  async suspendedDuring<T>(work: () => Promise<T>): Promise<T> {
    this.#suspended += 1;
    try {
      return await work();
    } finally {
      this.#suspended -= 1;
    }
  }
}

type Callback = (...results: unknown[]) => unknown;
interface Queryable {
  query(...args: unknown[]): unknown;
}

/**
 * Wraps `connection.query` (pg's Client and mysql2's Connection, in their callback and
 * promise forms) so that each statement arms a timer that destroys `socketOf(connection)`
 * when no answer came within `deadlineMs`. Other statement shapes (streams) pass unarmed.
 */
export function armStatementDeadlines(
  connection: unknown,
  deadlineMs: number,
  socketOf: (connection: unknown) => Socket | undefined,
  deadlines: DeadlineSwitch,
): void {
  if (!(deadlineMs > 0)) return;
  const target = connection as Queryable;
  const query = target.query.bind(target);
  target.query = (...args: unknown[]): unknown => {
    if (!deadlines.active) return query(...args);
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`no answer from the database within ${deadlineMs} ms: the connection was closed`), {
        code: STATEMENT_DEADLINE_CODE,
      });
      socketOf(connection)?.destroy(error);
    }, deadlineMs);
    timer.unref();
    const settle = () => clearTimeout(timer);
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as Callback;
      args[last] = (...results: unknown[]) => {
        settle();
        return callback(...results);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) result.then(settle, settle);
    else settle();
    return result;
  };
}
