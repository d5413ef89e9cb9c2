/** Database rows (snake_case, driver-typed) to entities (camelCase, Date, numbers). */
import { decodeParameters } from '../foundation/params.js';
import type { JsonValue, TaskDefinition, TaskDefinitionStatus, TaskProgress, TaskQueueItem, TaskStatus } from '../foundation/types.js';

type Row = Record<string, unknown>;

/** Dates arrive as Date (pg, mysql2 with timezone 'Z') or epoch milliseconds (better-sqlite3). */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  if (typeof value === 'string') return new Date(/^\d+$/.test(value) ? Number(value) : value);
  throw new TypeError(`not a date: ${String(value)}`);
}

export const toDateOrNull = (value: unknown): Date | null => (value === null || value === undefined ? null : toDate(value));

/** A text column as a string ('' for NULL), or as a string or null. */
export const str = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
export const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

export function toTaskDefinition(row: Row): TaskDefinition {
  return {
    id: str(row['id']),
    alias: str(row['alias']),
    title: str(row['title']),
    description: str(row['description']),
    memo: str(row['memo']),
    status: str(row['status']) as TaskDefinitionStatus,
    maxAttempts: Number(row['max_attempts']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
    softDeletedAt: toDateOrNull(row['soft_deleted_at']),
  };
}

/** The progress columns (migration 005) as one value; null when never reported, or not selected. */
function toProgress(row: Row): TaskProgress | null {
  const at = row['progress_updated_at'];
  if (at === null || at === undefined) return null;
  let data: JsonValue | null = null;
  const text = row['progress_data'];
  if (typeof text === 'string' && text !== '') {
    try {
      data = JSON.parse(text) as JsonValue;
    } catch {
      data = null;
    }
  }
  return { percent: Number(row['progress_percent']), data, updatedAt: toDate(at) };
}

export function toTaskQueueItem(row: Row): TaskQueueItem {
  return {
    id: str(row['id']),
    taskId: str(row['task_id']),
    queueName: str(row['queue_name']),
    status: str(row['status']) as TaskStatus,
    parameters: decodeParameters(row['parameters']),
    output: str(row['output']),
    details: str(row['details']),
    attempts: Number(row['attempts']),
    maxAttempts: Number(row['max_attempts']),
    priority: Number(row['priority']),
    uniqueKey: strOrNull(row['unique_key']),
    group: strOrNull(row['group_key']),
    availableAt: toDate(row['available_at']),
    startedAt: toDateOrNull(row['started_at']),
    completedAt: toDateOrNull(row['completed_at']),
    heartbeatAt: toDateOrNull(row['heartbeat_at']),
    claimToken: strOrNull(row['claim_token']),
    flowId: strOrNull(row['flow_id']),
    flowKey: strOrNull(row['flow_key']),
    createdAt: toDate(row['created_at']),
    updatedAt: toDate(row['updated_at']),
    softDeletedAt: toDateOrNull(row['soft_deleted_at']),
    progress: toProgress(row),
    traceContext: strOrNull(row['trace_context']),
  };
}
