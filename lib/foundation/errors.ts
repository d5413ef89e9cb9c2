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

export function isTaskStoreError(error: unknown, code?: TaskStoreErrorCode): error is TaskStoreError {
  return error instanceof TaskStoreError && (code === undefined || error.code === code);
}

const MAX_REASON = 500;

/** Wraps anything thrown by knex or a driver; TaskStoreErrors pass through untouched. */
export function wrapDatabaseError(error: unknown, action: string): TaskStoreError {
  if (error instanceof TaskStoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // Driver messages can quote a whole statement; the cause keeps every detail.
  const reason = message.length > MAX_REASON ? `${message.slice(0, MAX_REASON)}… (${message.length} characters; see cause)` : message;
  return new TaskStoreError('DATABASE', `${action} failed: ${reason}`, { cause: error });
}

export const invalidArgument = (message: string): TaskStoreError => new TaskStoreError('INVALID_ARGUMENT', message);
export const notFound = (message: string): TaskStoreError => new TaskStoreError('NOT_FOUND', message);
