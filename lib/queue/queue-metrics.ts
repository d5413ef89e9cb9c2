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

function bucketOf(ms: number): number {
  for (const bound of HISTOGRAM_BOUNDS_MS) if (ms <= bound) return bound;
  return HISTOGRAM_BOUNDS_MS[HISTOGRAM_BOUNDS_MS.length - 1] as number;
}

export class QueueMetrics {
  readonly #ctx: StoreContext;
  readonly #intervalMs: number;
  /** `minute|queue|metric|le` → count since the last flush. */
  #pending = new Map<string, number>();
  /** `queue|outcome` → attempts this store ended since it opened (for Prometheus counters). */
  readonly #ended = new Map<string, number>();
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

  /** Counts one attempt that ended (its final write recorded) at `endedAt`. */
  record(item: TaskQueueItem, outcome: OutcomeMetric, endedAt = Date.now()): void {
    if (this.#intervalMs === 0) return;
    const minute = Math.floor(endedAt / MINUTE_MS) * MINUTE_MS;
    const prefix = `${minute}|${item.queueName}|`;
    this.#add(`${prefix}${outcome}|0`);
    const ended = `${item.queueName}|${outcome}`;
    this.#ended.set(ended, (this.#ended.get(ended) ?? 0) + 1);
    const started = item.startedAt?.getTime();
    if (started !== undefined) {
      this.#add(`${prefix}wait|${bucketOf(Math.max(0, started - item.availableAt.getTime()))}`);
      this.#add(`${prefix}run|${bucketOf(Math.max(0, endedAt - started))}`);
    }
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.flush(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Attempts this store ended since it opened, by queue and outcome (not reset by flushes). */
  endedHere(): { queueName: string; outcome: OutcomeMetric; count: number }[] {
    return [...this.#ended].map(([key, count]) => {
      const at = key.lastIndexOf('|');
      return { queueName: key.slice(0, at), outcome: key.slice(at + 1) as OutcomeMetric, count };
    });
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

  #add(key: string): void {
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
  }

  async #flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    const rows = [...batch].map(([key, count]) => {
      const [minute, queueName, metric, le] = key.split('|');
      return { minute_start: new Date(Number(minute)), queue_name: queueName, metric, le_ms: Number(le), count };
    });
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
      for (const [key, count] of [...batch].slice(written)) {
        if (Number(key.slice(0, key.indexOf('|'))) >= oldest) this.#pending.set(key, (this.#pending.get(key) ?? 0) + count);
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
