/**
 * One error class with a stable code. Driver errors are wrapped with code DATABASE and
 * the original as `cause`; messages name the offending argument or option.
 */
export const ERROR_CODES = ['INVALID_ARGUMENT', 'NOT_FOUND', 'ALREADY_EXISTS', 'INVALID_STATE', 'DATABASE'] as const;
export type TaskStoreErrorCode = (typeof ERROR_CODES)[number];

export class TaskStoreError extends Error {
  override readonly name = 'TaskStoreError';
  readonly code: TaskStoreErrorCode;

  constructor(code: TaskStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Thrown by a handler to fail its task at once, with no further attempts. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}

/**
 * The reason a running handler's ctx.signal aborts when its task's claim is gone: canceled
 * (taskQueueCancelById), or reclaimed by the sweep (its heartbeat was too old). The attempt's
 * result is not recorded either way: another write already decided the task's state.
 */
export class ClaimLostError extends Error {
  override readonly name = 'ClaimLostError';
  readonly reason: 'canceled' | 'reclaimed';

  constructor(taskId: string, reason: 'canceled' | 'reclaimed') {
    super(reason === 'canceled' ? `Task ${taskId} was canceled` : `Task ${taskId} was reclaimed: this worker's claim on it was lost`);
    this.reason = reason;
  }
}

export function isTaskStoreError(error: unknown, code?: TaskStoreErrorCode): error is TaskStoreError {
  return error instanceof TaskStoreError && (code === undefined || error.code === code);
}

const MAX_REASON = 500;

/** What knex puts in front of a failed statement's message: the statement itself, values inlined. */
const STATEMENT_PREFIX =
  /^\s*\(?\s*(?:select|insert|update|delete|with|create|alter|drop|pragma|set|begin|start|commit|rollback|savepoint|release|lock|show|truncate|replace|listen|unlisten|notify|do|call|explain|analyze|vacuum)\b/i;

/**
 * The driver's reason for a failure, never the statement or its values. knex rewrites a failed
 * query's message to `<statement with values inlined> - <reason>`; mysql2 keeps the bare reason
 * as `sqlMessage`, the other drivers only in that rewritten message, after the last ' - '.
 * PostgreSQL's `detail` ("Key (unique_key)=(…) already exists") quotes values and is left out.
 */
function driverReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const sqlMessage = (error as { sqlMessage?: unknown }).sqlMessage;
  if (typeof sqlMessage === 'string' && sqlMessage !== '') return sqlMessage;
  const { message } = error;
  const separator = message.lastIndexOf(' - ');
  return STATEMENT_PREFIX.test(message) && separator >= 0 ? message.slice(separator + 3) : message;
}

/**
 * Wraps anything thrown by knex or a driver; TaskStoreErrors pass through untouched. The
 * message keeps the driver's reason only (see driverReason): statements carry task parameters,
 * which must not end up in logs. The cause keeps every detail.
 */
export function wrapDatabaseError(error: unknown, action: string): TaskStoreError {
  if (error instanceof TaskStoreError) return error;
  const message = driverReason(error);
  const reason = message.length > MAX_REASON ? `${message.slice(0, MAX_REASON)}… (${message.length} characters; see cause)` : message;
  return new TaskStoreError('DATABASE', `${action} failed: ${reason}`, { cause: error });
}

export const invalidArgument = (message: string): TaskStoreError => new TaskStoreError('INVALID_ARGUMENT', message);
export const notFound = (message: string): TaskStoreError => new TaskStoreError('NOT_FOUND', message);
