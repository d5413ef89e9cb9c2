/** TaskStore options: defaults, validation, and the resolved (frozen) form. */
import type { Knex } from 'knex';
import { DEFAULT_CONNECTION_SETTINGS, connectionSettings, defaultDatabaseUrl } from '../../adapters/index.js';
import type { ConnectionSettings, TableNames } from '../../adapters/adapter.js';
import { invalidArgument } from '../foundation/errors.js';
import { SILENT_LOGGER } from './store-context.js';
import type { Logger, TaskStoreOptions } from '../foundation/types.js';
import { withDefaults, type KnownKeys } from '../foundation/options.js';
import { DEFAULT_PAYLOAD_LIMITS, PAYLOAD_LIMIT_RANGE, type PayloadLimits } from '../foundation/limits.js';
import { DEFAULT_TABLE_NAMES, resolveTableNames } from '../foundation/table-names.js';
import { assertBoolean, assertInteger, assertTimerDuration } from '../foundation/validate.js';
import { HOOK_CALLBACKS, type TaskStoreHooks } from '../foundation/hook-types.js';

export interface ResolvedTaskStoreOptions {
  readonly database: string | Knex.Config | Knex;
  readonly tables: TableNames;
  readonly automigrate: boolean;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  readonly synchronousStateWrites: boolean;
  /** Network settings for the connections taskstore opens. */
  readonly connection: ConnectionSettings;
  readonly limits: PayloadLimits;
  /** How often recorded task metrics are written; 0 records none. */
  readonly metricsIntervalMs: number;
  /** The hooks, in order (outermost first); empty for none. */
  readonly hooks: readonly TaskStoreHooks[];
  /** How often a started runner writes its row in the runners registry. */
  readonly runnerHeartbeatIntervalMs: number;
}

const DEFAULTS = Object.freeze({
  ...DEFAULT_TABLE_NAMES,
  automigrate: true,
  logger: SILENT_LOGGER,
  heartbeatIntervalMs: 30_000,
  synchronousStateWrites: false,
  metricsIntervalMs: 10_000,
  runnerHeartbeatIntervalMs: 10_000,
  statementTimeoutMs: DEFAULT_CONNECTION_SETTINGS.statementTimeoutMs,
  idleTransactionTimeoutMs: DEFAULT_CONNECTION_SETTINGS.idleTransactionTimeoutMs,
  ...DEFAULT_PAYLOAD_LIMITS,
  hooks: [] as readonly TaskStoreHooks[],
});

const KNOWN = {
  database: true,
  taskDefinitionTableName: true,
  taskQueueTableName: true,
  scheduleTableName: true,
  automigrate: true,
  logger: true,
  heartbeatIntervalMs: true,
  synchronousStateWrites: true,
  metricsIntervalMs: true,
  runnerHeartbeatIntervalMs: true,
  statementTimeoutMs: true,
  idleTransactionTimeoutMs: true,
  maxParametersBytes: true,
  maxOutputBytes: true,
  maxDetailsBytes: true,
  hooks: true,
} as const satisfies KnownKeys<TaskStoreOptions>;

const LIMIT_OPTIONS = ['maxParametersBytes', 'maxOutputBytes', 'maxDetailsBytes'] as const;

export function resolveStoreOptions(options?: TaskStoreOptions, env: NodeJS.ProcessEnv = process.env): ResolvedTaskStoreOptions {
  const merged = withDefaults(options, KNOWN, DEFAULTS, 'TaskStore.open: options');
  const tables = resolveTableNames(merged);
  assertBoolean(merged.automigrate, 'automigrate');
  assertTimerDuration(merged.heartbeatIntervalMs, 'heartbeatIntervalMs', 1);
  assertBoolean(merged.synchronousStateWrites, 'synchronousStateWrites');
  assertTimerDuration(merged.metricsIntervalMs, 'metricsIntervalMs', 1, { allowZero: true });
  assertTimerDuration(merged.runnerHeartbeatIntervalMs, 'runnerHeartbeatIntervalMs', 1);
  assertTimerDuration(merged.statementTimeoutMs, 'statementTimeoutMs', 1, { allowZero: true });
  assertTimerDuration(merged.idleTransactionTimeoutMs, 'idleTransactionTimeoutMs', 1);
  if (merged.idleTransactionTimeoutMs < 1000)
    throw invalidArgument(`idleTransactionTimeoutMs must be at least 1000 (got ${merged.idleTransactionTimeoutMs})`);
  for (const name of LIMIT_OPTIONS) assertInteger(merged[name], name, PAYLOAD_LIMIT_RANGE.min, PAYLOAD_LIMIT_RANGE.max);
  const logger: unknown = merged.logger;
  if (logger === null || typeof logger !== 'object')
    throw invalidArgument('logger must be an object with debug, info, warn and error methods');
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof (logger as Record<string, unknown>)[method] !== 'function') throw invalidArgument(`logger.${method} must be a function`);
  }
  return Object.freeze({
    database: merged.database ?? defaultDatabaseUrl(env),
    tables,
    automigrate: merged.automigrate,
    logger: merged.logger,
    heartbeatIntervalMs: merged.heartbeatIntervalMs,
    synchronousStateWrites: merged.synchronousStateWrites,
    metricsIntervalMs: merged.metricsIntervalMs,
    hooks: resolveHooks(merged.hooks),
    runnerHeartbeatIntervalMs: merged.runnerHeartbeatIntervalMs,
    connection: connectionSettings({
      statementTimeoutMs: merged.statementTimeoutMs,
      idleTransactionTimeoutMs: merged.idleTransactionTimeoutMs,
    }),
    limits: Object.freeze({
      maxParametersBytes: merged.maxParametersBytes,
      maxOutputBytes: merged.maxOutputBytes,
      maxDetailsBytes: merged.maxDetailsBytes,
    }),
  });
}

/** An array of objects, each with at least one of the hook callbacks, and only functions under their names. */
function resolveHooks(hooks: unknown): readonly TaskStoreHooks[] {
  if (!Array.isArray(hooks)) throw invalidArgument('hooks must be an array of hook objects (such as openTelemetry() from taskstore/otel)');
  return Object.freeze(
    Array.from(hooks, (hook: unknown, index) => {
      if (hook === null || typeof hook !== 'object') throw invalidArgument(`hooks[${index}] must be an object (got ${describe(hook)})`);
      const callbacks = HOOK_CALLBACKS.filter((name) => (hook as Record<string, unknown>)[name] !== undefined);
      for (const name of callbacks) {
        if (typeof (hook as Record<string, unknown>)[name] !== 'function')
          throw invalidArgument(`hooks[${index}].${name} must be a function`);
      }
      if (callbacks.length === 0) throw invalidArgument(`hooks[${index}] has none of ${HOOK_CALLBACKS.join(', ')}`);
      return hook as TaskStoreHooks;
    }),
  );
}

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);
