/**
 * What workers record about the attempts they end: per minute and queue, how many ended how
 * (success, failed, canceled, retried), and histograms of how long each waited from due to
 * start and ran from start to its recorded end. Counted in memory (a few map updates per
 * task) and added to `<queue table>_metrics` every `metricsIntervalMs` in one upsert, so the
 * dashboard's throughput and timing charts read a few hundred rows however large the queue
 * table is. Counts of a process that dies before its next flush are lost: the charts are
 * close, not exact; the queue table stays the truth for counts by status.
 */
import { metricsTable } from '../../migrations/007-queue-metrics.js';
import type { StoreContext } from '../store/store-context.js';
import type { TaskQueueItem } from '../foundation/types.js';

/** Histogram upper bounds in milliseconds; the last bucket holds everything longer than the one before. */
export const HISTOGRAM_BOUNDS_MS = Object.freeze([
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 1_800_000, 2_147_483_647,
]);

export const OUTCOME_METRICS = ['success', 'failed', 'canceled', 'retried'] as const;
export type OutcomeMetric = (typeof OUTCOME_METRICS)[number];

const MINUTE_MS = 60_000;
/** Rows per upsert statement: well inside every dialect's parameter limit (5 values a row). */
const ROWS_PER_STATEMENT = 500;
/** Metrics older than this are deleted, at most once an hour per process. */
export const METRICS_RETENTION_MS = 7 * 24 * 60 * MINUTE_MS;
const PRUNE_EVERY_MS = 60 * MINUTE_MS;
/** Minutes of counts kept in memory while the database refuses them; older ones are dropped. */
const MAX_PENDING_MINUTES = 60;

function bucketIndex(ms: number): number {
  for (let i = 0; i < HISTOGRAM_BOUNDS_MS.length - 1; i++) if (ms <= (HISTOGRAM_BOUNDS_MS[i] as number)) return i;
  return HISTOGRAM_BOUNDS_MS.length - 1;
}

interface MetricRow {
  minute_start: Date;
  queue_name: string;
  metric: string;
  le_ms: number;
  count: number;
}

/** The table's rows for one minute of one queue: only the counts that are not 0. */
function rowsOf(entry: MinuteCounts): MetricRow[] {
  const base = { minute_start: new Date(entry.minute), queue_name: entry.queueName };
  const rows: MetricRow[] = [];
  for (const metric of OUTCOME_METRICS)
    if (entry.outcomes[metric] > 0) rows.push({ ...base, metric, le_ms: 0, count: entry.outcomes[metric] });
  for (const metric of ['wait', 'run'] as const) {
    entry[metric].forEach((count, i) => {
      if (count > 0) rows.push({ ...base, metric, le_ms: HISTOGRAM_BOUNDS_MS[i] as number, count });
    });
  }
  return rows;
}

/** One minute of one queue: counts by outcome, and the two histograms, by bucket index. */
interface MinuteCounts {
  readonly minute: number;
  readonly queueName: string;
  readonly outcomes: Record<OutcomeMetric, number>;
  readonly wait: Uint32Array;
  readonly run: Uint32Array;
}

const newMinute = (minute: number, queueName: string): MinuteCounts => ({
  minute,
  queueName,
  outcomes: { success: 0, failed: 0, canceled: 0, retried: 0 },
  wait: new Uint32Array(HISTOGRAM_BOUNDS_MS.length),
  run: new Uint32Array(HISTOGRAM_BOUNDS_MS.length),
});

export class QueueMetrics {
  readonly #ctx: StoreContext;
  readonly #intervalMs: number;
  /** `minute|queue` → what was counted since the last flush. */
  #pending = new Map<string, MinuteCounts>();
  /** The entry the last record went to: a burst of one queue's tasks finds it without a lookup. */
  #last: MinuteCounts | null = null;
  /** queue → attempts this store ended since it opened, by outcome (for Prometheus counters). */
  readonly #ended = new Map<string, Record<OutcomeMetric, number>>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #prunedAt = 0;

  /** `intervalMs` 0 records nothing. */
  constructor(context: StoreContext, intervalMs: number) {
    this.#ctx = context;
    this.#intervalMs = intervalMs;
  }

  get table(): string {
    return metricsTable(this.#ctx.tables.taskQueue);
  }

  /** Counts one attempt that ended (its final write recorded) at `endedAt`: no allocation for a burst of one queue. */
  record(item: TaskQueueItem, outcome: OutcomeMetric, endedAt = Date.now()): void {
    if (this.#intervalMs === 0) return;
    const minute = Math.floor(endedAt / MINUTE_MS) * MINUTE_MS;
    let entry = this.#last;
    if (!entry || entry.minute !== minute || entry.queueName !== item.queueName) {
      const key = `${minute}|${item.queueName}`;
      entry = this.#pending.get(key) ?? null;
      if (!entry) this.#pending.set(key, (entry = newMinute(minute, item.queueName)));
      this.#last = entry;
    }
    entry.outcomes[outcome] += 1;
    const started = item.startedAt?.getTime();
    if (started !== undefined) {
      (entry.wait[bucketIndex(Math.max(0, started - item.availableAt.getTime()))] as number) += 1;
      (entry.run[bucketIndex(Math.max(0, endedAt - started))] as number) += 1;
    }
    let ended = this.#ended.get(item.queueName);
    if (!ended) this.#ended.set(item.queueName, (ended = { success: 0, failed: 0, canceled: 0, retried: 0 }));
    ended[outcome] += 1;
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.flush(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Attempts this store ended since it opened, by queue and outcome (not reset by flushes). */
  endedHere(): { queueName: string; outcome: OutcomeMetric; count: number }[] {
    return [...this.#ended].flatMap(([queueName, counts]) =>
      OUTCOME_METRICS.filter((outcome) => counts[outcome] > 0).map((outcome) => ({ queueName, outcome, count: counts[outcome] })),
    );
  }

  /** Adds what was counted to the table; on failure the counts wait for the next flush. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  /** The last flush, then no timer. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  async #flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#last = null;
    const rows = [...batch.values()].flatMap(rowsOf);
    const { knex, adapter, logger } = this.#ctx;
    const table = this.table;
    let written = 0;
    try {
      for (; written < rows.length; written += ROWS_PER_STATEMENT) {
        await knex(table)
          .insert(rows.slice(written, written + ROWS_PER_STATEMENT))
          .onConflict(['minute_start', 'queue_name', 'metric', 'le_ms'])
          .merge({ count: adapter.addedOnConflict(knex, table, 'count') });
      }
      await this.#pruneNowAndThen();
    } catch (error) {
      // Keep the counts not yet written for the next flush (added to what came meanwhile),
      // but not for ever.
      const oldest = Date.now() - MAX_PENDING_MINUTES * MINUTE_MS;
      for (const row of rows.slice(written)) {
        const minute = row.minute_start.getTime();
        if (minute < oldest) continue;
        const key = `${minute}|${row.queue_name}`;
        let entry = this.#pending.get(key);
        if (!entry) this.#pending.set(key, (entry = newMinute(minute, row.queue_name)));
        if (row.metric === 'wait' || row.metric === 'run') {
          (entry[row.metric][HISTOGRAM_BOUNDS_MS.indexOf(row.le_ms)] as number) += row.count;
        } else entry.outcomes[row.metric as OutcomeMetric] += row.count;
      }
      logger.warn('recording task metrics failed; the counts not written are kept for the next try', error);
    }
  }

  async #pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = Date.now();
    await this.#ctx
      .knex(this.table)
      .where('minute_start', '<', new Date(Date.now() - METRICS_RETENTION_MS))
      .delete();
  }
}
