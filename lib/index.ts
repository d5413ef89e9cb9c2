/** The public API of taskstore. */
export { TaskStore } from './task-store.js';
export type { ExecuteItemOptions, ProcessOptions } from './queue/task-processor.js';
export {
  TaskStoreError,
  PermanentError,
  ClaimLostError,
  isTaskStoreError,
  ERROR_CODES,
  type TaskStoreErrorCode,
} from './foundation/errors.js';
export type { ClaimLostListener, EnqueuedListener, LostClaim } from './store/store-events.js';
export { PROGRESS_INTERVAL_MS, MAX_PROGRESS_DATA_BYTES } from './queue/progress-writer.js';
export {
  defineTask,
  backoffDelayMs,
  normalizeAlias,
  type BackoffOptions,
  type BackoffType,
  type TaskContext,
  type TaskHandler,
  type TaskHandlerDefinition,
  type TaskParams,
  type TaskResult,
  type TaskSnooze,
} from './definitions/handler.js';
export {
  TaskQueueRunner,
  type TaskQueueRunnerOptions,
  type ResolvedTaskQueueRunnerOptions,
  type TaskQueueRunnerEvents,
  type StopOptions,
} from '../runners/task-queue-runner.js';
export type { ExecutionOutcome, ExecutionResult } from './queue/task-executor.js';
export {
  ScheduleRunner,
  type ScheduleRunnerOptions,
  type ResolvedScheduleRunnerOptions,
  type ScheduleRunnerEvents,
  type ScheduleRunResult,
} from '../runners/schedule-runner.js';
export type { DueCursor } from './schedules/schedule-firing.js';
export type { AdapterCapabilities } from '../adapters/adapter.js';
export { DEFAULT_QUEUE } from './queue/task-queue.js';
export { MAX_QUEUE_LIMIT } from './queue/queue-settings.js';
export * from './foundation/types.js';
export type * from './foundation/insight-types.js';
export { MAX_TRACE_CONTEXT_LENGTH } from './foundation/hook-types.js';
export type * from './foundation/hook-types.js';
export {
  RUNNER_KINDS,
  type RunnerKind,
  type RunnerInfo,
  type RunnerListOptions,
  type RunnerHeartbeatInput,
} from './foundation/runner-types.js';
export type * from './foundation/bulk-types.js';
export { BULK_BATCH_SIZE, MAX_BULK_BATCH_SIZE } from './queue/task-bulk.js';
export { lastError } from './foundation/details.js';
export * from './foundation/flow-types.js';
export {
  nextRunAt,
  nextScheduleRunAt,
  validateRecurrenceRule,
  validateCron,
  validateTimezone,
  validateScheduleTiming,
  FREQUENCIES,
  WEEKDAYS,
  MONTHS,
} from './schedules/recurrence.js';
export type * from './schedules/recurrence.js';
