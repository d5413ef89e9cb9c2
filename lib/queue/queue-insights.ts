/**
 * Grouped reads for dashboards, one statement each on every dialect: live tasks by queue and
 * status, by definition and status (exact, or capped: capped-counts.ts), and throughput and
 * wait/run-time percentiles over a period from the metrics workers record (queue-metrics.ts).
 */
import { invalidArgument } from '../foundation/errors.js';
import type { Knex } from 'knex';
import { TASK_STATUSES, emptyTaskStats, type TaskQueueStats, type TaskStatus } from '../foundation/types.js';
import type {
  DefinitionCounts,
  Percentiles,
  QueueCounts,
  QueueTimings,
  Throughput,
  ThroughputBucket,
  ThroughputCounts,
  ThroughputQuery,
  TimingsQuery,
} from '../foundation/insight-types.js';
import { assertInteger, assertKnownKeys, assertPlainObject, assertStoredDate, assertStringArray } from '../foundation/validate.js';
import type { StoreContext } from '../store/store-context.js';
import { toDate } from '../store/rows.js';
import { definitionCountsStatement, queueCountsStatement, resolveCap, type CappedCountsStatement } from './capped-counts.js';
import { HISTOGRAM_BOUNDS_MS, OUTCOME_METRICS, type QueueMetrics } from './queue-metrics.js';
import { resolveQueueName, type TaskQueue } from './task-queue.js';

const MINUTE_MS = 60_000;
/** The most buckets one throughput read returns (a day of minutes). */
const MAX_BUCKETS = 1440;
/** The most task ids one countsByDefinition may name. */
const MAX_TASK_IDS = 1000;

/** The rows of a grouped count: a group's key, a status, and its count (cap + 1 when capped). */
type CountRow = { group_key: string; status: TaskStatus; count: unknown };

export class QueueInsights {
  readonly #ctx: StoreContext;
  readonly #queue: TaskQueue;
  readonly #metrics: QueueMetrics;

  constructor(context: StoreContext, queue: TaskQueue, metrics: QueueMetrics) {
    this.#ctx = context;
    this.#queue = queue;
    this.#metrics = metrics;
  }

  /** Every queue with live tasks, by status, in name order; each count exact up to `cap`, when given. */
  async countsByQueue(options: { cap?: number } = {}): Promise<QueueCounts[]> {
    const action = 'taskQueueCountsByQueue';
    assertPlainObject(options, `${action}: options`);
    assertKnownKeys(options, ['cap'], `${action}: options`);
    const cap = resolveCap(options.cap, `${action}: options.cap`);
    const rows =
      cap === undefined
        ? ((await this.#queue
            .table()
            .select({ group_key: 'queue_name' }, 'status')
            .count({ count: '*' })
            .whereNull('soft_deleted_at')
            // In the order of the (status, queue_name) index, which MySQL then reads alone.
            .groupBy('status', 'queue_name')) as CountRow[])
        : await this.#probe(queueCountsStatement(this.#ctx.tables.taskQueue, cap, this.#ctx.adapter.capabilities));
    return grouped(rows, cap).map(([queueName, counts]) => ({ queueName, ...counts }));
  }

  /**
   * Every definition with live tasks (of one queue, of the given definitions), by status; each
   * count exact up to `cap`, when given.
   */
  async countsByDefinition(options: { queueName?: string; taskIds?: readonly string[]; cap?: number } = {}): Promise<DefinitionCounts[]> {
    const action = 'taskQueueCountsByDefinition';
    assertPlainObject(options, `${action}: options`);
    assertKnownKeys(options, ['queueName', 'taskIds', 'cap'], `${action}: options`);
    const cap = resolveCap(options.cap, `${action}: options.cap`);
    const queueName = options.queueName === undefined ? undefined : resolveQueueName(options.queueName, `${action}: options.queueName`);
    if (options.taskIds !== undefined) {
      if (!Array.isArray(options.taskIds)) throw invalidArgument(`${action}: options.taskIds must be an array of definition ids`);
      if (options.taskIds.length > 0) assertStringArray(options.taskIds, `${action}: options.taskIds`);
    }
    const taskIds = options.taskIds === undefined ? undefined : [...new Set(options.taskIds)];
    if (taskIds !== undefined) {
      if (taskIds.length > MAX_TASK_IDS)
        throw invalidArgument(`${action}: options.taskIds names ${taskIds.length} definitions; at most ${MAX_TASK_IDS}`);
      if (taskIds.length === 0) return [];
    }
    let rows: CountRow[];
    if (cap === undefined) {
      const builder = this.#queue
        .table()
        .select({ group_key: 'task_id' }, 'status')
        .count({ count: '*' })
        .whereNull('soft_deleted_at')
        .groupBy('task_id', 'status');
      if (queueName !== undefined) builder.where('queue_name', queueName);
      if (taskIds !== undefined) builder.whereIn('task_id', taskIds);
      rows = (await builder) as CountRow[];
    } else {
      const statement = definitionCountsStatement(this.#ctx.tables.taskQueue, cap, this.#ctx.adapter.capabilities, { queueName, taskIds });
      rows = await this.#probe(statement);
    }
    return grouped(rows, cap).map(([taskId, counts]) => ({ taskId, ...counts }));
  }

  /** Runs a capped count: many small index probes, run as the adapter says such reads run best. */
  async #probe(statement: CappedCountsStatement): Promise<CountRow[]> {
    const { knex, adapter } = this.#ctx;
    const read = async (db: Knex) => adapter.rawRows(await db.raw(statement.sql, [...statement.bindings])) as CountRow[];
    return adapter.probeRead ? adapter.probeRead(knex, read) : read(knex);
  }

  /** Per queue with due queued tasks: the availableAt of the one due longest (in name order). */
  async oldestDue(): Promise<{ queueName: string; availableAt: Date }[]> {
    const rows = (await this.#queue
      .table()
      .select('queue_name')
      .min({ at: 'available_at' })
      .where('status', 'queued')
      .whereNull('soft_deleted_at')
      .where('available_at', '<=', this.#ctx.now())
      .groupBy('queue_name')
      .orderBy('queue_name')) as { queue_name: string; at: unknown }[];
    return rows.map((row) => ({ queueName: row.queue_name, availableAt: toDate(row.at) }));
  }

  /** Attempts ended per bucket over the period, from the recorded metrics. */
  async throughput(query: ThroughputQuery): Promise<Throughput> {
    const action = 'taskQueueThroughput';
    assertPlainObject(query, `${action}: query`);
    assertKnownKeys(query, ['since', 'until', 'bucketMs', 'queueName'], `${action}: query`);
    const bucketMs = query.bucketMs ?? MINUTE_MS;
    assertInteger(bucketMs, `${action}: bucketMs`, MINUTE_MS, MAX_BUCKETS * MINUTE_MS);
    if (bucketMs % MINUTE_MS !== 0) throw invalidArgument(`${action}: bucketMs must be a whole number of minutes (got ${bucketMs})`);
    const { since, until } = period(query, action);
    const count = Math.ceil((until.getTime() - since.getTime()) / bucketMs);
    if (count > MAX_BUCKETS) throw invalidArgument(`${action}: the period holds ${count} buckets; at most ${MAX_BUCKETS}`);
    const builder = this.#periodRows(since, until, query.queueName, action)
      .select('minute_start', 'metric')
      .sum({ count: 'count' })
      .whereIn('metric', [...OUTCOME_METRICS])
      .groupBy('minute_start', 'metric');
    const buckets: ThroughputBucket[] = Array.from({ length: count }, (_, i) => ({
      start: new Date(since.getTime() + i * bucketMs),
      success: 0,
      failed: 0,
      canceled: 0,
      retried: 0,
    }));
    for (const row of (await builder) as { minute_start: unknown; metric: (typeof OUTCOME_METRICS)[number]; count: unknown }[]) {
      const bucket = buckets[Math.floor((toDate(row.minute_start).getTime() - since.getTime()) / bucketMs)];
      if (bucket) bucket[row.metric] += Number(row.count);
    }
    const totals = { success: 0, failed: 0, canceled: 0, retried: 0 };
    for (const bucket of buckets) for (const metric of OUTCOME_METRICS) totals[metric] += bucket[metric];
    return { since, until, bucketMs, buckets, totals };
  }

  /** Per queue over the period: attempts ended and the percentiles of their wait and run times. */
  async timings(query: TimingsQuery): Promise<QueueTimings[]> {
    const action = 'taskQueueTimings';
    assertPlainObject(query, `${action}: query`);
    assertKnownKeys(query, ['since', 'until', 'queueName'], `${action}: query`);
    const { since, until } = period(query, action);
    const rows = (await this.#periodRows(since, until, query.queueName, action)
      .select('queue_name', 'metric', 'le_ms')
      .sum({ count: 'count' })
      .groupBy('queue_name', 'metric', 'le_ms')) as { queue_name: string; metric: string; le_ms: unknown; count: unknown }[];
    const byQueue = new Map<string, { wait: Map<number, number>; run: Map<number, number>; outcomes: ThroughputCounts }>();
    for (const row of rows) {
      let entry = byQueue.get(row.queue_name);
      if (!entry)
        byQueue.set(
          row.queue_name,
          (entry = { wait: new Map(), run: new Map(), outcomes: { success: 0, failed: 0, canceled: 0, retried: 0 } }),
        );
      if (row.metric === 'wait' || row.metric === 'run') entry[row.metric].set(Number(row.le_ms), Number(row.count));
      else if ((OUTCOME_METRICS as readonly string[]).includes(row.metric))
        entry.outcomes[row.metric as keyof ThroughputCounts] += Number(row.count);
    }
    return [...byQueue]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([queueName, { wait, run, outcomes }]) => ({
        queueName,
        count: OUTCOME_METRICS.reduce((sum, metric) => sum + outcomes[metric], 0),
        outcomes,
        waitMs: percentiles(wait),
        runMs: percentiles(run),
      }));
  }

  #periodRows(since: Date, until: Date, queueName: string | undefined, action: string) {
    const builder = this.#ctx.knex(this.#metrics.table).where('minute_start', '>=', since).where('minute_start', '<', until);
    if (queueName !== undefined) builder.where('queue_name', resolveQueueName(queueName, `${action}: queueName`));
    return builder;
  }
}

/** The period of a read, widened to whole minutes. */
function period(query: { since: Date; until?: Date }, action: string): { since: Date; until: Date } {
  assertStoredDate(query.since, `${action}: since`);
  if (query.until !== undefined) assertStoredDate(query.until, `${action}: until`);
  const since = new Date(Math.floor(query.since.getTime() / MINUTE_MS) * MINUTE_MS);
  const until = new Date(Math.ceil((query.until ?? new Date()).getTime() / MINUTE_MS) * MINUTE_MS);
  if (until.getTime() <= since.getTime()) throw invalidArgument(`${action}: until must be after since`);
  return { since, until };
}

/** Counts by key, in key order; a count of cap + 1 becomes cap, its status listed in `capped`. */
function grouped(
  rows: readonly CountRow[],
  cap: number | undefined,
): [string, { stats: TaskQueueStats; total: number; capped: TaskStatus[] }][] {
  const map = new Map<string, { stats: TaskQueueStats; total: number; capped: TaskStatus[] }>();
  for (const row of rows) {
    const count = Number(row.count);
    if (count === 0 || !(TASK_STATUSES as readonly string[]).includes(row.status)) continue;
    const key = String(row.group_key);
    let entry = map.get(key);
    if (!entry) map.set(key, (entry = { stats: emptyTaskStats(), total: 0, capped: [] }));
    const over = cap !== undefined && count > cap;
    entry.stats[row.status] += over ? cap : count;
    if (over) entry.capped.push(row.status);
  }
  for (const entry of map.values()) {
    entry.total = TASK_STATUSES.reduce((sum, status) => sum + entry.stats[status], 0);
    entry.capped.sort((a, b) => TASK_STATUSES.indexOf(a) - TASK_STATUSES.indexOf(b));
  }
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Percentiles from a histogram of bucket upper bound → count. */
function percentiles(histogram: ReadonlyMap<number, number>): Percentiles {
  const total = [...histogram.values()].reduce((sum, n) => sum + n, 0);
  const at = (quantile: number): number | null => {
    if (total === 0) return null;
    const rank = Math.ceil(quantile * total);
    let seen = 0;
    for (const bound of HISTOGRAM_BOUNDS_MS) {
      seen += histogram.get(bound) ?? 0;
      if (seen >= rank) return bound === HISTOGRAM_BOUNDS_MS[HISTOGRAM_BOUNDS_MS.length - 1] ? Infinity : bound;
    }
    return Infinity;
  };
  return { p50: at(0.5), p90: at(0.9), p95: at(0.95), p99: at(0.99) };
}
