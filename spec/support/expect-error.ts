import { expect } from 'chai';
import { TaskStoreError } from '../../lib/index.js';
import type { TaskStoreErrorCode } from '../../lib/foundation/errors.js';

/** Asserts that `action` throws (synchronously) a TaskStoreError of `code` whose message includes `message`. */
export function expectThrows(action: () => unknown, code: TaskStoreErrorCode, message: string): TaskStoreError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) expect.fail(`expected a synchronous ${code} naming ${message}, but nothing was thrown`);
  expect(caught, String(caught)).to.be.instanceOf(TaskStoreError);
  expect((caught as TaskStoreError).code, (caught as Error).message).to.equal(code);
  expect((caught as Error).message).to.include(message);
  return caught as TaskStoreError;
}

/**
 * Calls `action` and asserts that it returns a promise rejecting with a TaskStoreError of
 * `code` (and, when given, a message matching `message`). A synchronous throw is a failure:
 * the contract is that public async methods reject.
 */
export async function expectError(action: () => unknown, code: TaskStoreErrorCode, message?: string | RegExp): Promise<TaskStoreError> {
  let pending: unknown;
  try {
    pending = action();
  } catch (error) {
    expect.fail(`expected a rejection with ${code}, but it threw synchronously: ${String(error)}`);
  }
  let caught: unknown;
  try {
    await pending;
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) expect.fail(`expected a rejection with ${code}, but it resolved`);
  if (!(caught instanceof TaskStoreError)) {
    expect.fail(`expected a TaskStoreError ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  }
  expect(caught.code, `error code (message: ${caught.message})`).to.equal(code);
  if (typeof message === 'string') expect(caught.message).to.include(message);
  else if (message) expect(caught.message).to.match(message);
  return caught;
}
