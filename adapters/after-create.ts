/** knex's `pool.afterCreate` hook, and how taskstore's own hook runs before a user's. */

/** Prepares a new driver connection, then calls `done` (with an error to discard the connection). */
export type AfterCreate = (connection: unknown, done: (error: Error | null, connection: unknown) => void) => void;

/**
 * Runs taskstore's hook on every new connection, then the user's own `pool.afterCreate`, if
 * any: the user's sees a prepared connection and may change what taskstore set.
 */
export function afterCreateThen(ours: AfterCreate, user: unknown): AfterCreate {
  if (typeof user !== 'function') return ours;
  const theirs = user as AfterCreate;
  return (connection, done) => ours(connection, (error) => (error ? done(error, connection) : theirs(connection, done)));
}
