/** The public API of taskstore. */
export { TaskStore } from './task-store.js';
export type { ProcessOptions } from './task-processor.js';
export { TaskStoreError, PermanentError, isTaskStoreError, ERROR_CODES, type TaskStoreErrorCode } from './errors.js';
export {
  defineTask,
  backoffDelayMs,
  normalizeAlias,
  type BackoffOptions,
  type BackoffType,
  type TaskContext,
  type TaskHandler,
  type TaskHandlerDefinition,
  type TaskResult,
} from './handler.js';
export {
  TaskQueueRunner,
  type TaskQueueRunnerOptions,
  type ResolvedTaskQueueRunnerOptions,
  type TaskQueueRunnerEvents,
  type StopOptions,
} from '../runners/task-queue-runner.js';
export type { ExecutionOutcome, ExecutionResult } from '../runners/task-executor.js';
export {
  ScheduleRunner,
  type ScheduleRunnerOptions,
  type ResolvedScheduleRunnerOptions,
  type ScheduleRunnerEvents,
  type ScheduleRunResult,
} from '../runners/schedule-runner.js';
export type { DueCursor } from './schedule-firing.js';
export type { AdapterCapabilities } from '../adapters/adapter.js';
export { DEFAULT_QUEUE } from './task-queue.js';
export * from './types.js';
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
} from './recurrence.js';
export type * from './recurrence.js';
