/**
 * The statements of the capped grouped counts (QueueInsights, `cap` option): each group
 * (queue and status, or definition and status) is counted by seeking its range of an index of
 * 008-dashboard-counts and reading at most `cap + 1` of its entries, so a count costs the same
 * with a thousand live tasks or a million. One statement each:
 *
 * 1. the groups: the distinct (status, queue_name) or task_id values of live tasks, found by
 *    skipping through the index (a DISTINCT where the database skips on its own, a recursive
 *    walk of one MIN per value elsewhere), or the task ids given;
 * 2. per group, a probe for its (cap + 1)-th entry: when there is none, the group's exact
 *    count (at most `cap` entries), else `cap + 1`, which stands for "more than cap".
 *
 * Status names are inlined from TASK_STATUSES (a fixed list, never input); every other value
 * is bound.
 */
import type { Knex } from 'knex';
import { TASK_STATUSES } from '../foundation/types.js';
import { assertInteger } from '../foundation/validate.js';
import { statusQueueIndex, taskIdStatusIndex } from '../../migrations/008-dashboard-counts.js';

/** The largest `cap` of a count (a bound, so a typo cannot ask for a scan of a billion). */
export const MAX_COUNT_CAP = 1_000_000;
/** taskQueueCountCapped's cap when none is given, and the dashboard's. */
export const DEFAULT_COUNT_CAP = 10_000;

/** A `cap` option: undefined stays undefined (exact counts), else a whole number from 1 to MAX_COUNT_CAP. */
export function resolveCap(cap: unknown, name: string): number | undefined {
  if (cap === undefined) return undefined;
  assertInteger(cap, name, 1, MAX_COUNT_CAP);
  return cap as number;
}

export interface CappedCountsStatement {
  readonly sql: string;
  readonly bindings: readonly Knex.RawBinding[];
}

/** What the statements are written for: AdapterCapabilities.skipScanDistinct and .forceIndex. */
export interface CountDialect {
  readonly skipScanDistinct: boolean;
  readonly forceIndex: boolean;
}

/** A one-column table `s(status)` of every status. */
const STATUS_TABLE = `(${TASK_STATUSES.map((status, i) => `SELECT '${status}'${i === 0 ? ' AS status' : ''}`).join(' UNION ALL ')}) s`;

/** `<table> t`, read through `index` where the dialect takes a hint. */
function probed(table: string, index: string, dialect: CountDialect): CappedCountsStatement {
  return dialect.forceIndex ? { sql: '?? t FORCE INDEX (??)', bindings: [table, index] } : { sql: '?? t', bindings: [table] };
}

/**
 * `cap + 1` when more than `cap` rows of `t` match `where` (correlated to the outer group),
 * else their count.
 */
function cappedCount(
  from: CappedCountsStatement,
  where: string,
  whereBindings: readonly Knex.RawBinding[],
  cap: number,
): CappedCountsStatement {
  return {
    sql: `CASE WHEN (SELECT 1 FROM ${from.sql} WHERE ${where} LIMIT 1 OFFSET ?) IS NULL THEN (SELECT COUNT(*) FROM ${from.sql} WHERE ${where}) ELSE ? END`,
    bindings: [...from.bindings, ...whereBindings, cap, ...from.bindings, ...whereBindings, cap + 1],
  };
}

/** Live tasks by (queue, status): rows `{ group_key, status, count }`. */
export function queueCountsStatement(table: string, cap: number, dialect: CountDialect): CappedCountsStatement {
  const pairs = dialect.skipScanDistinct
    ? { sql: 'pairs AS (SELECT DISTINCT status, queue_name FROM ?? WHERE soft_deleted_at IS NULL)', bindings: [table] }
    : {
        sql:
          'RECURSIVE pairs (status, queue_name) AS (' +
          `SELECT s.status, (SELECT MIN(t.queue_name) FROM ?? t WHERE t.status = s.status AND t.soft_deleted_at IS NULL) FROM ${STATUS_TABLE}` +
          ' UNION ALL SELECT p.status, (SELECT MIN(t.queue_name) FROM ?? t WHERE t.status = p.status AND t.queue_name > p.queue_name' +
          ' AND t.soft_deleted_at IS NULL) FROM pairs p WHERE p.queue_name IS NOT NULL)',
        bindings: [table, table],
      };
  const from = probed(table, statusQueueIndex(table), dialect);
  const count = cappedCount(from, 't.status = p.status AND t.queue_name = p.queue_name AND t.soft_deleted_at IS NULL', [], cap);
  return {
    sql: `WITH ${pairs.sql} SELECT p.queue_name AS group_key, p.status AS status, ${count.sql} AS count FROM pairs p WHERE p.queue_name IS NOT NULL`,
    bindings: [...pairs.bindings, ...count.bindings],
  };
}

/**
 * Live tasks by (definition, status), of one queue when `queueName` is given, of the given
 * definitions when `taskIds` is: rows `{ group_key, status, count }`.
 */
export function definitionCountsStatement(
  table: string,
  cap: number,
  dialect: CountDialect,
  filter: { queueName?: string | undefined; taskIds?: readonly string[] | undefined },
): CappedCountsStatement {
  const inQueue = filter.queueName === undefined ? '' : ' AND t.queue_name = ?';
  const queueBindings = filter.queueName === undefined ? [] : [filter.queueName];
  let keys: CappedCountsStatement;
  if (filter.taskIds !== undefined) {
    const ids = filter.taskIds.map((_, i) => `SELECT ?${i === 0 ? ' AS task_id' : ''}`).join(' UNION ALL ');
    keys = { sql: `keys_ AS (${ids})`, bindings: filter.taskIds };
  } else if (dialect.skipScanDistinct) {
    keys = {
      sql: `keys_ AS (SELECT DISTINCT t.task_id FROM ?? t WHERE t.soft_deleted_at IS NULL${inQueue})`,
      bindings: [table, ...queueBindings],
    };
  } else {
    keys = {
      sql:
        `RECURSIVE keys_ (task_id) AS (SELECT (SELECT MIN(t.task_id) FROM ?? t WHERE t.soft_deleted_at IS NULL${inQueue})` +
        ` UNION ALL SELECT (SELECT MIN(t.task_id) FROM ?? t WHERE t.task_id > k.task_id AND t.soft_deleted_at IS NULL${inQueue})` +
        ' FROM keys_ k WHERE k.task_id IS NOT NULL)',
      bindings: [table, ...queueBindings, table, ...queueBindings],
    };
  }
  const from = probed(table, taskIdStatusIndex(table), dialect);
  const where = `t.task_id = k.task_id AND t.status = s.status AND t.soft_deleted_at IS NULL${inQueue}`;
  const count = cappedCount(from, where, queueBindings, cap);
  return {
    sql: `WITH ${keys.sql} SELECT k.task_id AS group_key, s.status AS status, ${count.sql} AS count FROM keys_ k CROSS JOIN ${STATUS_TABLE} WHERE k.task_id IS NOT NULL`,
    bindings: [...keys.bindings, ...count.bindings],
  };
}
