/**
 * What a claim returns, shared by the dialects whose claim has RETURNING (PostgreSQL,
 * SQLite): the columns the claim does not set itself, and the completion of those rows with
 * what it did set.
 */
import { compareClaimOrder, type ClaimRequest, type QueueRow } from './adapter.js';

/**
 * The columns a claim returns: only what it does not already know. The columns it sets
 * (status, claim token, start and update times) are filled in from the request by
 * `claimedRows`, so fewer values cross the wire (or leave SQLite) and get parsed. The four
 * timestamps come last, so a dialect can read them in a cheaper form (PostgreSQL: epoch ms).
 */
export const CLAIM_COLUMNS = Object.freeze([
  'id',
  'task_id',
  'parameters',
  'output',
  'details',
  'attempts',
  'max_attempts',
  'priority',
  'unique_key',
  'group_key',
  'progress_percent',
  'progress_data',
  'flow_id',
  'flow_key',
  'trace_context',
]);
export const CLAIM_TIMESTAMP_COLUMNS = Object.freeze(['available_at', 'created_at', 'heartbeat_at', 'progress_updated_at']);

/**
 * Claimed rows as RETURNING gave them (CLAIM_COLUMNS and CLAIM_TIMESTAMP_COLUMNS), completed
 * with what the claim set itself, in claim order.
 */
export function claimedRows(rows: QueueRow[], request: ClaimRequest): QueueRow[] {
  const { queueName, now, token } = request;
  const known = {
    queue_name: queueName,
    status: 'running',
    started_at: now,
    updated_at: now,
    completed_at: null,
    claim_token: token,
    soft_deleted_at: null,
  };
  for (const row of rows) Object.assign(row, known);
  return rows.sort(compareClaimOrder);
}
