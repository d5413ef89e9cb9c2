/** New queue rows: every column written, so no dialect's defaults matter, and the item each stands for. */
import { newId } from '../foundation/ids.js';
import type { JsonObject, TaskQueueItem, TaskStatus } from '../foundation/types.js';

/** Statuses that hold a unique key: the item is still pending or in flight. */
export const PENDING_STATUSES: readonly TaskStatus[] = ['queued', 'running', 'paused'];

/** The row written for a new item: every column, so no dialect's defaults matter. */
export interface NewQueueRow {
  id: string;
  task_id: string;
  queue_name: string;
  status: TaskStatus;
  parameters: string;
  output: string;
  details: string;
  attempts: number;
  max_attempts: number;
  priority: number;
  unique_key: string | null;
  unique_key_active: string | null;
  group_key: string | null;
  available_at: Date;
  started_at: null;
  completed_at: null;
  heartbeat_at: null;
  claim_token: null;
  created_at: Date;
  updated_at: Date;
  soft_deleted_at: null;
  /** The enqueuer's W3C trace context, as the store's hooks gave it (migration 009). */
  trace_context: string | null;
}

export function newQueueRow(fields: {
  taskId: string;
  queueName: string;
  status?: TaskStatus;
  parameters: string;
  maxAttempts: number;
  priority: number;
  availableAt: Date;
  uniqueKey: string | null;
  group?: string | null;
  now: Date;
  output?: string;
  details?: string;
}): NewQueueRow {
  const status = fields.status ?? 'queued';
  return {
    id: newId(),
    task_id: fields.taskId,
    queue_name: fields.queueName,
    status,
    parameters: fields.parameters,
    output: fields.output ?? '',
    details: fields.details ?? '',
    attempts: 0,
    max_attempts: fields.maxAttempts,
    priority: fields.priority,
    unique_key: fields.uniqueKey,
    unique_key_active: fields.uniqueKey !== null && PENDING_STATUSES.includes(status) ? fields.uniqueKey : null,
    group_key: fields.group ?? null,
    available_at: fields.availableAt,
    started_at: null,
    completed_at: null,
    heartbeat_at: null,
    claim_token: null,
    created_at: fields.now,
    updated_at: fields.now,
    soft_deleted_at: null,
    trace_context: null,
  };
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
    group: row.group_key,
    availableAt: row.available_at,
    startedAt: null,
    completedAt: null,
    heartbeatAt: null,
    claimToken: null,
    flowId: null,
    flowKey: null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    softDeletedAt: null,
    progress: null,
    traceContext: row.trace_context,
  };
}
