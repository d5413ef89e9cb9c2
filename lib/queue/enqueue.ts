/** Enqueue options: validated once, then turned into the rows that will be inserted. */
import { invalidArgument } from '../foundation/errors.js';
import { encodeParameters } from '../foundation/params.js';
import { PRIORITY_LIMIT, newQueueRow, type NewQueueRow } from './task-queue.js';
import type { EnqueueOptions, JsonObject, TaskDefinition, TaskQueueItem } from '../foundation/types.js';
import {
  MAX_ATTEMPTS_LIMIT,
  assertDate,
  assertInteger,
  assertKnownKeys,
  assertNonEmptyString,
  assertNonNegativeNumber,
  assertPlainObject,
} from '../foundation/validate.js';

const KNOWN = ['delayMs', 'runAt', 'priority', 'maxAttempts', 'uniqueKey', 'transaction'];

export function validateEnqueueOptions(options: EnqueueOptions | undefined, name: string): EnqueueOptions {
  if (options === undefined) return {};
  assertPlainObject(options, name);
  assertKnownKeys(options, KNOWN, name);
  if (options.delayMs !== undefined) assertNonNegativeNumber(options.delayMs, `${name}.delayMs`);
  if (options.runAt !== undefined) assertDate(options.runAt, `${name}.runAt`);
  if (options.delayMs !== undefined && options.runAt !== undefined) throw invalidArgument(`${name}: give delayMs or runAt, not both`);
  if (options.priority !== undefined) assertInteger(options.priority, `${name}.priority`, -PRIORITY_LIMIT, PRIORITY_LIMIT);
  if (options.maxAttempts !== undefined) assertInteger(options.maxAttempts, `${name}.maxAttempts`, 1, MAX_ATTEMPTS_LIMIT);
  if (options.uniqueKey !== undefined) assertNonEmptyString(options.uniqueKey, `${name}.uniqueKey`, 255);
  const trx = options.transaction as unknown;
  if (trx !== undefined && (typeof trx !== 'function' || typeof (trx as { commit?: unknown }).commit !== 'function')) {
    throw invalidArgument(`${name}.transaction must be a knex transaction`);
  }
  return options;
}

/** One row per parameters object; the stored parameters carry `task_alias`. */
export function buildEnqueueRows(
  definition: TaskDefinition,
  queueName: string,
  paramsList: unknown[],
  options: EnqueueOptions,
  now: Date,
  name: string,
): NewQueueRow[] {
  const availableAt = options.runAt ?? new Date(now.getTime() + (options.delayMs ?? 0));
  return paramsList.map((params, index) => {
    const where = paramsList.length === 1 ? `${name}: params` : `${name}: paramsList[${index}]`;
    assertPlainObject(params, where);
    const parameters = encodeParameters({ ...params, task_alias: definition.alias }, where);
    return newQueueRow({
      taskId: definition.id,
      queueName,
      parameters,
      maxAttempts: options.maxAttempts ?? definition.maxAttempts,
      priority: options.priority ?? 0,
      availableAt,
      uniqueKey: options.uniqueKey ?? null,
      now,
    });
  });
}

/** The item an inserted row stands for, without reading it back. */
export function queueItemFromRow(row: NewQueueRow): TaskQueueItem {
  return {
    id: row.id,
    taskId: row.task_id,
    queueName: row.queue_name,
    status: row.status,
    parameters: JSON.parse(row.parameters) as JsonObject,
    output: row.output,
    details: row.details,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    uniqueKey: row.unique_key,
    availableAt: row.available_at,
    startedAt: null,
    completedAt: null,
    heartbeatAt: null,
    claimToken: null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    softDeletedAt: null,
  };
}
