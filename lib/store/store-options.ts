/** TaskStore options: defaults, validation, and the resolved (frozen) form. */
import type { Knex } from 'knex';
import { defaultDatabaseUrl } from '../../adapters/index.js';
import type { TableNames } from '../../adapters/adapter.js';
import { invalidArgument } from '../foundation/errors.js';
import { SILENT_LOGGER } from './store-context.js';
import type { Logger, TaskStoreOptions } from '../foundation/types.js';
import { assertBoolean, assertKnownKeys, assertPlainObject, assertPositiveNumber } from '../foundation/validate.js';

export interface ResolvedTaskStoreOptions {
  readonly database: string | Knex.Config | Knex;
  readonly tables: TableNames;
  readonly automigrate: boolean;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  readonly synchronousStateWrites: boolean;
}

const DEFAULTS = Object.freeze({
  taskDefinitionTableName: 'task_definition',
  taskQueueTableName: 'task_queue',
  scheduleTableName: 'task_schedule',
  automigrate: true,
  heartbeatIntervalMs: 30_000,
  synchronousStateWrites: false,
});

const KNOWN = [
  'database',
  'taskDefinitionTableName',
  'taskQueueTableName',
  'scheduleTableName',
  'automigrate',
  'logger',
  'heartbeatIntervalMs',
  'synchronousStateWrites',
];

/** A plain SQL identifier short enough that every index name derived from it fits in 63 characters. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

export function resolveStoreOptions(options: TaskStoreOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedTaskStoreOptions {
  assertPlainObject(options, 'TaskStore.open: options');
  assertKnownKeys(options, KNOWN, 'TaskStore.open: options');
  const merged: typeof DEFAULTS & TaskStoreOptions = { ...DEFAULTS, ...stripUndefined(options) };
  const names = ['taskDefinitionTableName', 'taskQueueTableName', 'scheduleTableName'] as const;
  for (const name of names) {
    const value: unknown = merged[name];
    if (typeof value !== 'string' || !TABLE_NAME.test(value)) {
      throw invalidArgument(
        `${name} must be a plain SQL identifier of 1 to 40 letters, digits and underscores (got ${JSON.stringify(value)})`,
      );
    }
  }
  if (new Set(names.map((name) => merged[name])).size !== names.length) {
    throw invalidArgument('taskDefinitionTableName, taskQueueTableName and scheduleTableName must differ');
  }
  assertBoolean(merged.automigrate, 'automigrate');
  assertPositiveNumber(merged.heartbeatIntervalMs, 'heartbeatIntervalMs');
  assertBoolean(merged.synchronousStateWrites, 'synchronousStateWrites');
  const logger: Logger = (options.logger as Logger | undefined) ?? SILENT_LOGGER;
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof (logger as unknown as Record<string, unknown>)[method] !== 'function')
      throw invalidArgument(`logger.${method} must be a function`);
  }
  const database: string | Knex.Config | Knex = options.database ?? defaultDatabaseUrl(env);
  return Object.freeze({
    database,
    tables: Object.freeze({
      taskDefinition: merged.taskDefinitionTableName as string,
      taskQueue: merged.taskQueueTableName as string,
      schedule: merged.scheduleTableName as string,
    }),
    automigrate: merged.automigrate as boolean,
    logger,
    heartbeatIntervalMs: merged.heartbeatIntervalMs as number,
    synchronousStateWrites: merged.synchronousStateWrites as boolean,
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
