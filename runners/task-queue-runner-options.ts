/** The options of a TaskQueueRunner: what may be given, the defaults, and the resolved form. */
import { resolveQueueName } from '../lib/queue/task-queue.js';
import type { Logger } from '../lib/foundation/types.js';
import { withDefaults, type KnownKeys } from '../lib/foundation/options.js';
import { assertBoolean, assertInteger, assertTimerDuration } from '../lib/foundation/validate.js';

export interface TaskQueueRunnerOptions {
  /**
   * The queue to work ('' means the default queue).
   * @defaultValue 'default'
   */
  queueName?: string;
  /**
   * Poll interval when idle, in seconds; fractions allowed. Enqueues through the same store
   * (and hints from other processes) wake it sooner.
   * @defaultValue 10
   */
  intervalSeconds?: number;
  /**
   * A running item whose heartbeat is older than this many minutes is reclaimed by the
   * sweep; fractions allowed.
   * @defaultValue 1
   */
  unstuckMinutes?: number;
  /**
   * 1 = serial, in claim order; n = at most n handlers at once (up to 10,000).
   * @defaultValue 1
   */
  maxConcurrency?: number;
  /**
   * Extra items to claim beyond the free slots, held locally until a slot frees (their
   * claims heartbeat meanwhile, and a stop gives them back). Faster draining of many
   * short tasks at the cost of claiming work before it can start. Up to 10,000.
   * @defaultValue 0
   */
  prefetch?: number;
  /**
   * A task that succeeds under this runner has its row deleted by the finishing write instead
   * of kept with status 'success' (failures, retries, snoozes and cancels keep theirs; flow
   * steps always keep theirs). Its output and details go with the row. See docs/runners.md.
   * @defaultValue false
   */
  removeOnSuccess?: boolean;
  /**
   * Where background failures go when no 'error' listener is attached.
   * @defaultValue the store's logger
   */
  logger?: Logger;
}

export interface ResolvedTaskQueueRunnerOptions {
  readonly queueName: string;
  readonly pollIntervalMs: number;
  readonly unstuckMinutes: number;
  readonly maxConcurrency: number;
  readonly prefetch: number;
  readonly removeOnSuccess: boolean;
  readonly heartbeatIntervalMs: number;
  readonly logger: Logger;
}

const DEFAULTS = Object.freeze({
  queueName: '',
  intervalSeconds: 10,
  unstuckMinutes: 1,
  maxConcurrency: 1,
  prefetch: 0,
  removeOnSuccess: false,
});
const KNOWN = {
  queueName: true,
  intervalSeconds: true,
  unstuckMinutes: true,
  maxConcurrency: true,
  prefetch: true,
  removeOnSuccess: true,
  logger: true,
} as const satisfies KnownKeys<TaskQueueRunnerOptions>;

export function resolveRunnerOptions(options: TaskQueueRunnerOptions, fallbackLogger: Logger): ResolvedTaskQueueRunnerOptions {
  const merged = withDefaults(options, KNOWN, DEFAULTS, 'TaskQueueRunner options');
  assertTimerDuration(merged.intervalSeconds, 'intervalSeconds', 1000);
  assertTimerDuration(merged.unstuckMinutes, 'unstuckMinutes', 60_000);
  assertInteger(merged.maxConcurrency, 'maxConcurrency', 1, 10_000);
  assertInteger(merged.prefetch, 'prefetch', 0, 10_000);
  assertBoolean(merged.removeOnSuccess, 'removeOnSuccess');
  const unstuckMs = merged.unstuckMinutes * 60_000;
  return Object.freeze({
    queueName: resolveQueueName(merged.queueName),
    pollIntervalMs: merged.intervalSeconds * 1000,
    unstuckMinutes: merged.unstuckMinutes,
    maxConcurrency: merged.maxConcurrency,
    prefetch: merged.prefetch,
    removeOnSuccess: merged.removeOnSuccess,
    // Four heartbeats per unstuck window: a live task is never mistaken for a dead one.
    heartbeatIntervalMs: Math.min(30_000, Math.max(25, unstuckMs / 4)),
    logger: merged.logger ?? fallbackLogger,
  });
}
