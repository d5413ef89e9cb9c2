/**
 * The metrics of `taskstore/otel`, made once per openTelemetry() on the first store that
 * opens with it:
 *
 * - taskstore.tasks.processed (counter): attempts processed, by queue and status;
 * - taskstore.task.duration (histogram, s): how long processing an attempt took, by queue and status;
 * - taskstore.task.wait (histogram, s): how long an attempt waited from due to claimed, by queue;
 * - taskstore.queue.depth (observable gauge): live tasks by queue and status, read with one
 *   grouped query per store and collection (taskQueueCountsByQueue).
 */
import {
  diag,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type ObservableGauge,
  type ObservableResult,
} from '@opentelemetry/api';
import type { HookedStore } from '../foundation/hook-types.js';
import { ATTR } from './attributes.js';

/** Bucket bounds in seconds, as the store's own timing histograms (5 ms to 30 min). */
const SECONDS_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

export class TaskMetrics {
  readonly #processed: Counter;
  readonly #duration: Histogram;
  readonly #wait: Histogram;
  readonly #depth: ObservableGauge;
  /** The open stores whose queues the gauge reports. */
  readonly #stores = new Set<HookedStore>();

  constructor(meter: Meter) {
    this.#processed = meter.createCounter('taskstore.tasks.processed', {
      description: 'Task attempts processed, by queue and status (how the attempt ended).',
      unit: '{task}',
    });
    this.#duration = meter.createHistogram('taskstore.task.duration', {
      description: 'How long processing a task attempt took: handler and final write.',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BOUNDS },
    });
    this.#wait = meter.createHistogram('taskstore.task.wait', {
      description: 'How long a task attempt waited from due to claimed.',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BOUNDS },
    });
    this.#depth = meter.createObservableGauge('taskstore.queue.depth', {
      description: 'Live tasks by queue and status.',
      unit: '{task}',
    });
    this.#depth.addCallback((result) => this.#observeDepth(result));
  }

  watch(store: HookedStore): void {
    this.#stores.add(store);
  }

  unwatch(store: HookedStore): void {
    this.#stores.delete(store);
  }

  /** An attempt was claimed: its wait, from due (availableAt) to claimed (startedAt). */
  waited(queueName: string, availableAt: Date, startedAt: Date | null): void {
    if (startedAt === null) return;
    this.#wait.record(Math.max(0, (startedAt.getTime() - availableAt.getTime()) / 1000), { [ATTR.destination]: queueName });
  }

  /** An attempt ended with `status` after `seconds`. */
  processed(queueName: string, status: string, seconds: number): void {
    const attributes: Attributes = { [ATTR.destination]: queueName, [ATTR.status]: status };
    this.#processed.add(1, attributes);
    this.#duration.record(seconds, attributes);
  }

  /** One grouped read per open store; a store that fails to answer is left out of this collection (and the failure goes to diag). */
  async #observeDepth(result: ObservableResult): Promise<void> {
    await Promise.all(
      [...this.#stores].map(async (store) => {
        if (store.isClosed()) return;
        let counts: Awaited<ReturnType<HookedStore['taskQueueCountsByQueue']>>;
        try {
          counts = await store.taskQueueCountsByQueue();
        } catch (error) {
          diag.warn('taskstore: could not read the queue depth', error);
          return;
        }
        for (const { queueName, stats } of counts) {
          for (const [status, count] of Object.entries(stats))
            result.observe(count, { [ATTR.destination]: queueName, [ATTR.status]: status });
        }
      }),
    );
  }
}
