/**
 * The claim of a queue with settings (paused, or a concurrency or rate limit; see
 * docs/flow-control.md), shared by every dialect: one transaction that locks the queue's
 * settings row, so the limited claims of one queue run one after another, each seeing every
 * claim and finish committed before it; counts the queue's running rows and its starts in the
 * rate window; picks at most that many due rows, within each group's room, in claim order;
 * moves them to running; and writes their starts to the ledger when a rate limit counts them.
 * The fast claim never takes rows of such a queue (its guard), so no claim can overtake the
 * count: the limits hold at every moment, however many runners claim at once.
 *
 * Each dialect brings what differs: its transaction, the row lock, its clock and the update.
 */
import type { Knex } from 'knex';
import { queueSettingsTable, queueStartsTable } from '../lib/foundation/table-names.js';
import {
  CLAIM_ORDER_BY,
  retryTransient,
  type Adapter,
  type ClaimRequest,
  type LimitedClaimResult,
  type QueueRow,
  type SettingsRow,
} from './adapter.js';

export interface LimitedClaimDialect {
  /** Runs `work` in one transaction that sees every commit before each of its statements (READ COMMITTED or serial). */
  transaction<T>(knex: Knex, request: ClaimRequest, work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /** Locks the queue's settings row until the transaction ends (whether or not it exists, where it must) and reads it. */
  lockSettings(trx: Knex.Transaction, settingsTable: string, queueName: string): Promise<SettingsRow | undefined>;
  /**
   * The database's clock, read after the lock: the start every claimed row and ledger entry
   * of a rate-limited queue records. (Without a rate limit, the request's clock; heartbeat_at
   * takes the database's clock in `claimRows` either way.)
   */
  now(trx: Knex.Transaction): Promise<Date>;
  /** Moves these rows, if still queued, to running with the request's token; returns the rows moved. */
  claimRows(trx: Knex.Transaction, table: string, ids: readonly string[], request: ClaimRequest, startedAt: Date): Promise<QueueRow[]>;
}

/** The column that carries the queue's running count beside each candidate row. */
const RUNNING_COLUMN = 'taskstore_running';

/** The most candidate rows one grouped claim looks at. */
const MAX_CANDIDATES = 1000;

interface Limits {
  paused: boolean;
  concurrency: number | null;
  groupConcurrency: number | null;
  rate: { count: number; periodMs: number } | null;
  groupRate: { count: number; periodMs: number } | null;
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const rateOf = (count: unknown, periodMs: unknown) =>
  num(count) === null || num(periodMs) === null ? null : { count: Number(count), periodMs: Number(periodMs) };
export const millis = (value: unknown): number =>
  value instanceof Date ? value.getTime() : typeof value === 'string' && !/^\d+$/.test(value) ? Date.parse(value) : Number(value);

function limitsOf(row: SettingsRow | undefined): Limits {
  return {
    paused: row !== undefined && Boolean(Number(row['paused'])),
    concurrency: num(row?.['concurrency']),
    groupConcurrency: num(row?.['group_concurrency']),
    rate: rateOf(row?.['rate_count'], row?.['rate_period_ms']),
    groupRate: rateOf(row?.['group_rate_count'], row?.['group_rate_period_ms']),
  };
}

/** Rows of `table` whose group has reached `max` (running rows, or starts in the window). */
const saturated = (query: Knex.QueryBuilder, max: number) =>
  query.select('group_key').whereNotNull('group_key').groupBy('group_key').havingRaw('COUNT(*) >= ?', [max]);

/** Leaves out the rows of these (id, token) claims. */
const notSettled = (query: Knex.QueryBuilder, settled: readonly { id: string; token: string }[]) =>
  settled.length === 0
    ? query
    : query.whereNotIn(
        ['id', 'claim_token'],
        settled.map((item) => [item.id, item.token]),
      );

const countRows = async (query: Knex.QueryBuilder): Promise<number> =>
  Number(Object.values(((await query.count({ n: '*' })) as Record<string, unknown>[])[0] ?? {})[0] ?? 0);

export async function claimLimited(
  adapter: Adapter,
  dialect: LimitedClaimDialect,
  knex: Knex,
  table: string,
  request: ClaimRequest,
): Promise<LimitedClaimResult> {
  const settingsTable = queueSettingsTable(table);
  const starts = queueStartsTable(table);
  const { queueName, limit } = request;
  return retryTransient(adapter, () =>
    dialect.transaction(knex, request, async (trx) => {
      const settings = await dialect.lockSettings(trx, settingsTable, queueName);
      const limits = limitsOf(settings);
      const result = (rows: QueueRow[], waitMs: number | null, full: boolean): LimitedClaimResult => ({
        rows,
        settings: settings ?? null,
        waitMs,
        full,
      });
      if (limits.paused) return result([], null, false);
      // The database's clock after the lock orders the rate ledger's starts; without a rate
      // limit nothing compares starts, and the claim's own clock does, as in the fast claim.
      const now = limits.rate || limits.groupRate ? await dialect.now(trx) : request.now;
      const queueRows = () => trx(table).where('queue_name', queueName);
      // The queue's running rows, less the caller's own whose handlers have returned (settled).
      const running = () => notSettled(queueRows().where('status', 'running'), request.settled ?? []);
      const grouped = limits.groupConcurrency !== null || limits.groupRate !== null;
      // Without groups, the queue's running rows are counted in the statement that picks the
      // candidates (one statement fewer while the settings row is locked).
      const countWithCandidates = limits.concurrency !== null && !grouped;
      const window = (periodMs: number) =>
        trx(starts)
          .where('queue_name', queueName)
          .where('started_at', '>', new Date(now.getTime() - periodMs));

      let allowance = limit;
      let concurrencyRoom = Infinity;
      if (limits.concurrency !== null && !countWithCandidates) {
        concurrencyRoom = limits.concurrency - (await countRows(running()));
        if (concurrencyRoom <= 0) return result([], null, true);
        allowance = Math.min(allowance, concurrencyRoom);
      }
      let windowStarts = 0;
      if (limits.rate) {
        windowStarts = await countRows(window(limits.rate.periodMs));
        const room = limits.rate.count - windowStarts;
        if (room <= 0)
          return result(
            [],
            await nextStartMs(window(limits.rate.periodMs), windowStarts - limits.rate.count, limits.rate.periodMs, now),
            false,
          );
        allowance = Math.min(allowance, room);
      }

      const candidates = queueRows()
        .select('id', 'group_key')
        .where('status', 'queued')
        .where('available_at', '<=', request.now)
        .whereNull('soft_deleted_at')
        .orderByRaw(CLAIM_ORDER_BY)
        .limit(grouped ? Math.min(MAX_CANDIDATES, Math.max(100, allowance * 10)) : allowance);
      if (grouped) {
        // Groups already at their limit are left out here, so their queued rows cannot crowd out the others.
        candidates.where((where) =>
          where.whereNull('group_key').orWhere((open) => {
            if (limits.groupConcurrency !== null) open.whereNotIn('group_key', saturated(running(), limits.groupConcurrency));
            if (limits.groupRate) open.whereNotIn('group_key', saturated(window(limits.groupRate.periodMs), limits.groupRate.count));
          }),
        );
      }
      if (countWithCandidates) {
        candidates.select(running().count('*').as(RUNNING_COLUMN));
      }
      let found = (await candidates) as { id: string; group_key: string | null; [RUNNING_COLUMN]?: unknown }[];
      if (countWithCandidates && found.length > 0) {
        // No candidates, no count: nothing is due, so nothing is held back either.
        concurrencyRoom = (limits.concurrency as number) - Number(found[0]?.[RUNNING_COLUMN]);
        if (concurrencyRoom <= 0) return result([], null, true);
        found = found.slice(0, concurrencyRoom);
      }
      const ids = grouped ? await withinGroups(found, allowance, limits, running, window) : found.map((row) => String(row.id));
      const rows = ids.length === 0 ? [] : await dialect.claimRows(trx, table, ids, request, now);

      if (rows.length > 0 && (limits.rate || limits.groupRate)) {
        const entries = rows.map((row) => ({ queue_name: queueName, group_key: row['group_key'] ?? null, started_at: now }));
        for (let at = 0; at < entries.length; at += 200) await trx(starts).insert(entries.slice(at, at + 200));
        const longest = Math.max(limits.rate?.periodMs ?? 0, limits.groupRate?.periodMs ?? 0);
        await trx(starts)
          .where('queue_name', queueName)
          .where('started_at', '<=', new Date(now.getTime() - longest))
          .delete();
      }
      const short = rows.length < limit;
      let waitMs: number | null = null;
      if (limits.rate && windowStarts + rows.length >= limits.rate.count) {
        waitMs = await nextStartMs(window(limits.rate.periodMs), windowStarts + rows.length - limits.rate.count, limits.rate.periodMs, now);
      }
      const groupRate = limits.groupRate;
      if (groupRate && short) {
        const groupWait = await groupNextStartMs(() => window(groupRate.periodMs), groupRate, now);
        if (groupWait !== null) waitMs = waitMs === null ? groupWait : Math.min(waitMs, groupWait);
      }
      const full = rows.length >= concurrencyRoom || (limits.groupConcurrency !== null && short);
      return result(rows, waitMs, full);
    }),
  );
}

/**
 * The candidates (in claim order) each group has room for: below groupConcurrency with its
 * running rows, and below the group rate with its starts in the window; at most `allowance`.
 */
async function withinGroups(
  found: readonly { id: string; group_key: string | null }[],
  allowance: number,
  limits: Limits,
  running: () => Knex.QueryBuilder,
  window: (periodMs: number) => Knex.QueryBuilder,
): Promise<string[]> {
  const groups = [...new Set(found.map((row) => row.group_key).filter((group) => group !== null))];
  const room = new Map<string, number>(groups.map((group) => [group, Infinity]));
  const lower = async (query: Knex.QueryBuilder, max: number) => {
    const used = new Map<string, number>();
    if (groups.length > 0) {
      const counted = (await query.select('group_key').whereIn('group_key', groups).groupBy('group_key').count({ n: '*' })) as {
        group_key: string;
        n: unknown;
      }[];
      for (const row of counted) used.set(String(row.group_key), Number(row.n));
    }
    for (const group of groups) room.set(group, Math.min(room.get(group) as number, max - (used.get(group) ?? 0)));
  };
  if (limits.groupConcurrency !== null) await lower(running(), limits.groupConcurrency);
  if (limits.groupRate) await lower(window(limits.groupRate.periodMs), limits.groupRate.count);
  const picked: string[] = [];
  for (const row of found) {
    if (picked.length >= allowance) break;
    if (row.group_key !== null) {
      const left = room.get(row.group_key) as number;
      if (left <= 0) continue;
      room.set(row.group_key, left - 1);
    }
    picked.push(String(row.id));
  }
  return picked;
}

/** Milliseconds until the window holds one start fewer than now: when its (over + 1)-th oldest start leaves it. */
async function nextStartMs(window: Knex.QueryBuilder, over: number, periodMs: number, now: Date): Promise<number> {
  const [row] = (await window.select('started_at').orderBy('started_at').offset(Math.max(0, over)).limit(1)) as { started_at: unknown }[];
  return row ? Math.max(0, millis(row.started_at) + periodMs - now.getTime()) : 0;
}

/** Milliseconds until the first group at its rate limit may start again; null when none is at it. */
async function groupNextStartMs(
  window: () => Knex.QueryBuilder,
  rate: { count: number; periodMs: number },
  now: Date,
): Promise<number | null> {
  const [row] = (await window().whereIn('group_key', saturated(window(), rate.count)).min({ oldest: 'started_at' })) as {
    oldest: unknown;
  }[];
  return row?.oldest === null || row?.oldest === undefined ? null : Math.max(0, millis(row.oldest) + rate.periodMs - now.getTime());
}
