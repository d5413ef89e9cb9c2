/**
 * What the PostgreSQL claims share: the columns a claim returns, and the one-round-trip claim
 * of a queue whose only limit is its concurrency.
 */
import type { Knex } from 'knex';
import { CLAIM_ORDER_BY, type ClaimRequest, type LimitedClaimResult, type QueueRow, type SettingsRow } from '../adapter.js';
import { CLAIM_COLUMNS, CLAIM_TIMESTAMP_COLUMNS, claimedRows } from '../claimed-rows.js';
import { queueSettingsTable } from '../../lib/foundation/table-names.js';
import { codeOf, type PgConnection, type PooledClient } from './postgres-pooled.js';

/** Timestamps come back as epoch milliseconds: far cheaper to read than pg's date text. */
const epochMs = (column: string) => `(extract(epoch from ${column}) * 1000)::float8 AS ${column}`;
/** The claim's RETURNING list (see CLAIM_COLUMNS). */
export const CLAIM_RETURNING = [...CLAIM_COLUMNS, ...CLAIM_TIMESTAMP_COLUMNS.map(epochMs)].join(', ');

/**
 * The limited claim of a queue whose only limit is its concurrency (the common case), in one
 * round trip: a PL/pgSQL function, created in the session's own temporary schema the first
 * time a connection claims (nothing is added to the database's schema), that locks the
 * queue's settings row, then, in a statement of its own and so with a snapshot taken after the
 * lock (READ COMMITTED gives each statement of a volatile function a new one), counts the
 * queue's running rows (less the caller's settled ones), takes at most the room that leaves in claim order, and returns the
 * settings row, the count and the claimed rows as one JSON value. The call commits on its own,
 * so the lock is held only while the function runs; without waiting for the log flush when the
 * request says so, as the fast claim (it writes no rate ledger, which must survive a crash). A queue that turns out to be paused gets
 * nothing; one with group or rate limits (its runner's view of its settings was old) takes
 * the shared path, as do all limited claims where the role may not create temporary objects.
 * The claimed ids go to the UPDATE as an array: the planner cannot size a
 * LIMIT it computes, and joined them to a scan of the whole table.
 */
function claimWithinConcurrencyFunction(table: string): { call: string; create: string } {
  const settings = queueSettingsTable(table);
  const name = `pg_temp."taskstore_limited_${table}"`;
  const create = `CREATE OR REPLACE FUNCTION ${name}(p_queue text, p_at timestamptz, p_limit int, p_token text, p_line text, p_nline text,
    p_settled_ids text[], p_settled_tokens text[], p_async boolean)
  RETURNS json LANGUAGE plpgsql VOLATILE AS $taskstore$
DECLARE result json;
BEGIN
  IF p_async THEN PERFORM set_config('synchronous_commit', 'off', true); END IF;
  PERFORM 1 FROM "${settings}" WHERE queue_name = p_queue FOR UPDATE;
  WITH s AS (SELECT * FROM "${settings}" WHERE queue_name = p_queue),
    kind AS (SELECT COALESCE((SELECT CASE WHEN paused THEN 'paused'
        WHEN group_concurrency IS NULL AND rate_count IS NULL AND group_rate_count IS NULL THEN 'concurrency' ELSE 'other' END FROM s),
      'concurrency') AS k),
    r AS (SELECT count(*)::int AS n FROM "${table}" WHERE queue_name = p_queue AND status = 'running'
        AND NOT EXISTS (SELECT 1 FROM unnest(p_settled_ids, p_settled_tokens) AS settled(id, token)
          WHERE settled.id = "${table}".id AND settled.token = "${table}".claim_token)),
    picked AS (SELECT id FROM "${table}" WHERE queue_name = p_queue AND status = 'queued' AND available_at <= p_at
        AND soft_deleted_at IS NULL AND (SELECT k FROM kind) = 'concurrency'
      ORDER BY ${CLAIM_ORDER_BY}
      LIMIT GREATEST(0, LEAST(p_limit, COALESCE((SELECT concurrency FROM s) - (SELECT n FROM r), p_limit)))
      FOR UPDATE SKIP LOCKED),
    claimed AS (UPDATE "${table}" SET status = 'running', attempts = attempts + 1, started_at = p_at, heartbeat_at = now(),
        updated_at = p_at, completed_at = NULL, claim_token = p_token,
        details = CASE WHEN details = '' THEN p_line ELSE details || p_nline END
      WHERE id = ANY(ARRAY(SELECT id FROM picked)) RETURNING ${CLAIM_RETURNING})
  SELECT json_build_object('kind', (SELECT k FROM kind), 'running', (SELECT n FROM r), 'settings', (SELECT row_to_json(s) FROM s),
      'rows', COALESCE((SELECT json_agg(c) FROM claimed c), '[]'::json))
    INTO result;
  RETURN result;
END
$taskstore$`;
  return { call: `SELECT ${name}($1, $2, $3, $4, $5, $6, $7, $8, $9) AS claim`, create };
}

interface ConcurrencyClaim {
  kind: 'paused' | 'concurrency' | 'other';
  running: number;
  settings: SettingsRow | null;
  rows: QueueRow[];
}

/** undefined_function: the session lost its temporary schema (a DISCARD ALL by a pooler, say). */
const UNDEFINED_FUNCTION = '42883';
/** insufficient_privilege: the role may not create temporary objects (TEMP revoked on the database). */
const INSUFFICIENT_PRIVILEGE = '42501';

/** Per queue table: the function's statements, built once, and where it exists or may not be made. */
interface LimitedClaimFunction {
  readonly call: string;
  readonly create: string;
  /** Connections whose session has the function. */
  readonly ready: WeakSet<PgConnection>;
  /** Stores' pools whose role was refused the function: their limited claims take the shared path. */
  readonly refused: WeakSet<PooledClient>;
}

const limitedClaimFunctions = new Map<string, LimitedClaimFunction>();

function limitedClaimFunction(table: string): LimitedClaimFunction {
  let found = limitedClaimFunctions.get(table);
  if (!found) {
    found = { ...claimWithinConcurrencyFunction(table), ready: new WeakSet(), refused: new WeakSet() };
    limitedClaimFunctions.set(table, found);
  }
  return found;
}

export async function claimWithinConcurrency(knex: Knex, table: string, request: ClaimRequest): Promise<LimitedClaimResult | null> {
  const { queueName, limit, now, token, startedLine, settled = [], asyncCommit } = request;
  const client = (knex as unknown as { client: PooledClient }).client;
  const { call: text, create, ready, refused } = limitedClaimFunction(table);
  if (refused.has(client)) return null;
  const connection = await client.acquireConnection();
  let claim: ConcurrencyClaim;
  try {
    const call = () =>
      connection.query({
        name: `taskstore_claim_limited_${table}`,
        text,
        values: [
          queueName,
          now,
          limit,
          token,
          startedLine,
          `\n${startedLine}`,
          settled.map((item) => item.id),
          settled.map((item) => item.token),
          asyncCommit,
        ],
      });
    const made = async (): Promise<boolean> => {
      try {
        await connection.query(create);
      } catch (error) {
        if (codeOf(error) !== INSUFFICIENT_PRIVILEGE) throw error;
        refused.add(client);
        return false;
      }
      ready.add(connection);
      return true;
    };
    if (!ready.has(connection) && !(await made())) return null;
    let result;
    try {
      result = await call();
    } catch (error) {
      if (codeOf(error) !== UNDEFINED_FUNCTION) throw error;
      if (!(await made())) return null;
      result = await call();
    }
    claim = (result.rows[0] as { claim: ConcurrencyClaim }).claim;
  } finally {
    await client.releaseConnection(connection);
  }
  if (claim.kind === 'other') return null;
  const rows = claimedRows(claim.rows, request);
  const concurrency = claim.settings?.['concurrency'];
  const room = concurrency === null || concurrency === undefined ? Infinity : Number(concurrency) - claim.running;
  return { rows, settings: claim.settings, waitMs: null, full: claim.kind === 'concurrency' && rows.length >= room };
}
