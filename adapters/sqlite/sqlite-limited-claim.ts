/**
 * SQLite's limited claim of a queue whose only limit is its concurrency (the common case), as
 * PostgreSQL's claimWithinConcurrency does it in one call: three statements prepared once per
 * connection, run back to back with nothing awaited between them, in one IMMEDIATE
 * transaction. BEGIN IMMEDIATE takes the database's write lock (waiting out the connection's
 * busy timeout, as the shared path's first write does) before the settings are read, so no
 * other connection's or process's claim or finish lands between the count and the update:
 * the limit holds exactly, as on the shared path (adapters/limited-claim.ts), which knex would
 * otherwise build and prepare statement by statement on every claim.
 *
 * The transaction reads the queue's settings row; a paused queue gets nothing, and one with
 * group or rate limits (its runner's view of its settings was old) gets null: the caller
 * takes the shared path. Otherwise it counts the queue's running rows, less the caller's
 * settled ones (id, claim token pairs as one JSON array, so the statement text is fixed),
 * and moves at most the room that leaves, in claim order, to running as the fast claim does.
 * A queue without a settings row (or without a concurrency limit) is claimed as the request
 * asks, and its claim is never full.
 */
import type { Knex } from 'knex';
import { queueSettingsTable } from '../../lib/foundation/table-names.js';
import {
  CLAIMABLE_WHERE,
  CLAIM_ORDER_BY,
  type ClaimRequest,
  type LimitedClaimResult,
  type QueueRow,
  type SettingsRow,
} from '../adapter.js';
import { claimedRows } from '../claimed-rows.js';
import { CLAIMED_PAIRS, CLAIM_RETURNING, CLAIM_SET, sqliteValues, withPrepared } from './sqlite-prepared.js';

interface Statements {
  /** The queue's settings row; binding: the queue. */
  readonly settings: string;
  /** The queue's running rows less the settled ones; bindings: the queue, the settled pairs (twice), the queue. */
  readonly running: string;
  /** The claim of at most n due rows in claim order; bindings: CLAIM_SET's, the queue, the time, n. */
  readonly claim: string;
}

const statementsByTable = new Map<string, Statements>();

function statementsOf(table: string): Statements {
  let found = statementsByTable.get(table);
  if (!found) {
    found = {
      settings: `SELECT * FROM "${queueSettingsTable(table)}" WHERE queue_name = ?`,
      running: `SELECT (SELECT count(*) FROM "${table}" WHERE queue_name = ? AND status = 'running')
        - (SELECT count(*) FROM "${table}" WHERE ${CLAIMED_PAIRS} AND queue_name = ? AND status = 'running') AS n`,
      claim: `UPDATE "${table}" SET ${CLAIM_SET}
        WHERE id IN (SELECT id FROM "${table}" WHERE ${CLAIMABLE_WHERE} ORDER BY ${CLAIM_ORDER_BY} LIMIT ?)
          AND status = 'queued'
        RETURNING ${CLAIM_RETURNING}`,
    };
    statementsByTable.set(table, found);
  }
  return found;
}

const isSet = (value: unknown): boolean => value !== null && value !== undefined;

/** What the settings allow this path: as the PostgreSQL function decides (no row: a concurrency claim without a limit). */
function kindOf(settings: SettingsRow | null): 'paused' | 'concurrency' | 'other' {
  if (settings === null) return 'concurrency';
  if (Number(settings['paused'])) return 'paused';
  return isSet(settings['group_concurrency']) || isSet(settings['rate_count']) || isSet(settings['group_rate_count'])
    ? 'other'
    : 'concurrency';
}

/** The limited claim of a queue whose only limit is its concurrency; null when its settings have others. */
export function claimWithinConcurrency(knex: Knex, table: string, request: ClaimRequest): Promise<LimitedClaimResult | null> {
  const { queueName, limit, now, token, startedLine, settled = [] } = request;
  const sql = statementsOf(table);
  const pairs = JSON.stringify(settled.map((item) => [item.id, item.token]));
  return withPrepared(knex, (prepare, connection) =>
    connection
      .transaction((): LimitedClaimResult | null => {
        const settings = (prepare(sql.settings).get(queueName) as SettingsRow | undefined) ?? null;
        const kind = kindOf(settings);
        if (kind === 'other') return null;
        if (kind === 'paused') return { rows: [], settings, waitMs: null, full: false };
        const concurrency = settings?.['concurrency'];
        let room = Infinity;
        if (isSet(concurrency)) {
          const { n } = prepare(sql.running).get(queueName, pairs, pairs, queueName) as { n: number };
          room = Number(concurrency) - n;
          if (room <= 0) return { rows: [], settings, waitMs: null, full: true };
        }
        const rows = prepare(sql.claim).all(
          sqliteValues([now, now, now, token, startedLine, `\n${startedLine}`, queueName, now, Math.min(limit, room)]),
        ) as QueueRow[];
        return { rows: claimedRows(rows, request), settings, waitMs: null, full: rows.length >= room };
      })
      .immediate(),
  );
}
