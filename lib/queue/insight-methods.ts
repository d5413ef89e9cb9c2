/**
 * The grouped reads of the TaskStore facade (see lib/store/store-facade.ts for the chain):
 * counts by queue and by definition, throughput and wait/run times over a period. One
 * statement each; what dashboards are built on (docs/dashboard.md, "Reads for dashboards").
 */
import type {
  CountsByDefinitionOptions,
  CountsByQueueOptions,
  DefinitionCounts,
  QueueCounts,
  QueueTimings,
  Throughput,
  ThroughputQuery,
  TimingsQuery,
} from '../foundation/insight-types.js';
import { QueueSettingsMethods } from './queue-settings-methods.js';

export abstract class InsightMethods extends QueueSettingsMethods {
  /** Every queue with live tasks, with its counts by status, in name order; each exact up to `options.cap`, when given. */
  taskQueueCountsByQueue(options?: CountsByQueueOptions): Promise<QueueCounts[]> {
    return this.run('taskQueueCountsByQueue', () => this.parts.insights.countsByQueue(options));
  }

  /**
   * Every task definition with live tasks (of one queue, of the given definitions), with its
   * counts by status; each exact up to `options.cap`, when given.
   */
  taskQueueCountsByDefinition(options?: CountsByDefinitionOptions): Promise<DefinitionCounts[]> {
    return this.run('taskQueueCountsByDefinition', () => this.parts.insights.countsByDefinition(options));
  }

  /** Attempts ended per bucket (default a minute) over a period, by outcome, from the recorded metrics. */
  taskQueueThroughput(query: ThroughputQuery): Promise<Throughput> {
    return this.run('taskQueueThroughput', () => this.parts.insights.throughput(query));
  }

  /** Per queue over a period: attempts ended, and percentiles of their wait and run times. */
  taskQueueTimings(query: TimingsQuery): Promise<QueueTimings[]> {
    return this.run('taskQueueTimings', () => this.parts.insights.timings(query));
  }

  /** Per queue with due queued tasks, the availableAt of the one that has waited longest: how far behind the queue is. */
  taskQueueOldestDueByQueue(): Promise<{ queueName: string; availableAt: Date }[]> {
    return this.run('taskQueueOldestDueByQueue', () => this.parts.insights.oldestDue());
  }

  /** Attempts this store (this process) ended since it opened, by queue and outcome: counters that only grow. */
  taskQueueEndedHere(): { queueName: string; outcome: 'success' | 'failed' | 'canceled' | 'retried'; count: number }[] {
    return this.parts.metrics.endedHere();
  }

  /** Writes the metrics this store recorded and has not written yet (they are written every metricsIntervalMs anyway). */
  taskQueueMetricsFlush(): Promise<void> {
    return this.run('taskQueueMetricsFlush', () => this.parts.metrics.flush());
  }
}
