/**
 * The three table names: their defaults and the one check, shared by TaskStore.open and the
 * migration source of `taskstore/migrations`, so both accept and refuse the same names.
 */
import { invalidArgument } from './errors.js';
import type { TableNameOptions } from './types.js';

export const DEFAULT_TABLE_NAMES = Object.freeze({
  taskDefinitionTableName: 'task_definition',
  taskQueueTableName: 'task_queue',
  scheduleTableName: 'task_schedule',
} as const satisfies Required<TableNameOptions>);

const TABLE_OPTIONS = ['taskDefinitionTableName', 'taskQueueTableName', 'scheduleTableName'] as const;

/** A plain SQL identifier short enough that every index name derived from it fits in 63 characters. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

/** The names as the schema code uses them. */
export interface ResolvedTableNames {
  readonly taskDefinition: string;
  readonly taskQueue: string;
  readonly schedule: string;
}

/** Checks the three names (already merged over the defaults): plain identifiers, all different. `prefix` starts each message. */
export function resolveTableNames(names: Readonly<Record<keyof TableNameOptions, unknown>>, prefix = ''): ResolvedTableNames {
  for (const name of TABLE_OPTIONS) {
    const value = names[name];
    if (typeof value !== 'string' || !TABLE_NAME.test(value)) {
      throw invalidArgument(
        `${prefix}${name} must be a plain SQL identifier of 1 to 40 letters, digits and underscores (got ${JSON.stringify(value)})`,
      );
    }
  }
  if (new Set(TABLE_OPTIONS.map((name) => names[name])).size !== TABLE_OPTIONS.length) {
    throw invalidArgument(`${prefix}taskDefinitionTableName, taskQueueTableName and scheduleTableName must differ`);
  }
  return Object.freeze({
    taskDefinition: names.taskDefinitionTableName as string,
    taskQueue: names.taskQueueTableName as string,
    schedule: names.scheduleTableName as string,
  });
}

/**
 * The queue settings table (pause, limits) and the starts ledger of rate-limited queues are
 * named after the task queue table, so two stores on different task queue tables never share them.
 */
export const queueSettingsTable = (taskQueue: string): string => `${taskQueue}_settings`;
export const queueStartsTable = (taskQueue: string): string => `${taskQueue}_starts`;
/** The runners registry (migration 010): one row per started runner, named like the tables above. */
export const runnersTable = (taskQueue: string): string => `${taskQueue}_runners`;
