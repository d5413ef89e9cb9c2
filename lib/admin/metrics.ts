/**
 * `<basePath>/metrics`: the queue's figures in the Prometheus text format (version 0.0.4),
 * read through the store's grouped reads on every scrape:
 *
 * - taskstore_queue_depth{queue,status} (gauge): live tasks by queue and status;
 * - taskstore_tasks_running{queue} (gauge);
 * - taskstore_queue_oldest_due_age_seconds{queue} (gauge): how long the queue's longest-due
 *   queued task has been due (queues with nothing due are left out);
 * - taskstore_tasks_ended_last_hour{queue,outcome} (gauge): attempts ended by any process
 *   over the last hour, from the recorded metrics;
 * - taskstore_tasks_ended_total{queue,outcome} (counter): attempts this process's store ended
 *   since it opened, the usual per-process counter for rate().
 */
import { TASK_STATUSES } from '../foundation/types.js';
import type { TaskStore } from '../task-store.js';

const HOUR_MS = 3_600_000;

/** A label value with backslash, double quote and newline escaped, as the format asks. */
const label = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function family(name: string, type: 'gauge' | 'counter', help: string, samples: readonly string[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples];
}

/** `cap`: the dashboard's countCap; a depth above it is the cap, flagged by taskstore_queue_depth_capped. */
export async function prometheusText(store: TaskStore, cap: number, now = new Date()): Promise<string> {
  const counts = await store.taskQueueCountsByQueue({ cap });
  const oldest = await store.taskQueueOldestDueByQueue();
  const lastHour = await store.taskQueueTimings({ since: new Date(now.getTime() - HOUR_MS), until: now });
  const lines = [
    ...family(
      'taskstore_queue_depth',
      'gauge',
      'Live tasks by queue and status, counted up to the dashboard countCap (see taskstore_queue_depth_capped).',
      counts.flatMap(({ queueName, stats }) =>
        TASK_STATUSES.map((status) => `taskstore_queue_depth{queue="${label(queueName)}",status="${status}"} ${stats[status]}`),
      ),
    ),
    ...family(
      'taskstore_queue_depth_capped',
      'gauge',
      'By queue and status: 1 when taskstore_queue_depth stopped at the countCap (there are more), else 0.',
      counts.flatMap(({ queueName, capped }) =>
        TASK_STATUSES.map(
          (status) => `taskstore_queue_depth_capped{queue="${label(queueName)}",status="${status}"} ${capped.includes(status) ? 1 : 0}`,
        ),
      ),
    ),
    ...family(
      'taskstore_tasks_running',
      'gauge',
      'Running tasks by queue.',
      counts.map(({ queueName, stats }) => `taskstore_tasks_running{queue="${label(queueName)}"} ${stats.running}`),
    ),
    ...family(
      'taskstore_queue_oldest_due_age_seconds',
      'gauge',
      'How long the longest-due queued task of the queue has been due.',
      oldest.map(
        ({ queueName, availableAt }) =>
          `taskstore_queue_oldest_due_age_seconds{queue="${label(queueName)}"} ${Math.max(0, (now.getTime() - availableAt.getTime()) / 1000)}`,
      ),
    ),
    ...family(
      'taskstore_tasks_ended_last_hour',
      'gauge',
      'Attempts ended by any process over the last hour, by queue and outcome (recorded metrics).',
      lastHour.flatMap(({ queueName, outcomes }) =>
        Object.entries(outcomes).map(
          ([outcome, count]) => `taskstore_tasks_ended_last_hour{queue="${label(queueName)}",outcome="${outcome}"} ${count}`,
        ),
      ),
    ),
    ...family(
      'taskstore_tasks_ended_total',
      'counter',
      "Attempts this process's store ended since it opened, by queue and outcome.",
      store
        .taskQueueEndedHere()
        .map(({ queueName, outcome, count }) => `taskstore_tasks_ended_total{queue="${label(queueName)}",outcome="${outcome}"} ${count}`),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
