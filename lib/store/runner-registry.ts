/**
 * The runners registry (docs/runners.md, "The runners registry"): every started
 * TaskQueueRunner and ScheduleRunner keeps one row in `<queue table>_runners` through
 * runners/runner-registration.ts. A heartbeat refreshes the row (recreating it when it was
 * aged out meanwhile) and then ages out stale rows, a bounded batch at a time; a stop deletes
 * the row. A row is stale once it has not been written for staleAfterMs (three registry
 * heartbeats by default), judged by the database's clock where it has one.
 */
import { runnersTable } from '../foundation/table-names.js';
import { RUNNER_KINDS, type RunnerHeartbeatInput, type RunnerInfo, type RunnerListOptions } from '../foundation/runner-types.js';
import { invalidArgument } from '../foundation/errors.js';
import {
  MAX_TIMER_MS,
  assertInteger,
  assertKnownKeys,
  assertNonEmptyString,
  assertOneOf,
  assertPlainObject,
  assertPositiveNumber,
  assertStoredDate,
} from '../foundation/validate.js';
import { resolveQueueName } from '../queue/task-queue.js';
import { str, strOrNull, toDate } from './rows.js';
import type { StoreContext } from './store-context.js';

/** A registry heartbeat is stale after this many missed heartbeats. */
export const STALE_AFTER_HEARTBEATS = 3;
/** The most stale rows one heartbeat deletes; the next heartbeats take the rest. */
const SWEEP_BATCH = 100;
/** The most runners runnerList answers (the oldest-started first within each queue). */
export const MAX_LISTED_RUNNERS = 1000;
/** Bounds of the numbers a row holds (the runners' own option bounds, and an INT column). */
const MAX_COUNT = 10_000;
const MAX_PID = 2 ** 31 - 1;

const HEARTBEAT_KEYS = [
  'id',
  'kind',
  'queueName',
  'host',
  'pid',
  'concurrency',
  'prefetch',
  'pollIntervalMs',
  'activeCount',
  'startedAt',
] as const satisfies readonly (keyof RunnerHeartbeatInput)[];
const LIST_KEYS = ['staleAfterMs', 'kind', 'queueName'] as const satisfies readonly (keyof RunnerListOptions)[];

const intOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

function toRunnerInfo(row: Record<string, unknown>): RunnerInfo {
  return {
    id: str(row['id']),
    kind: str(row['kind']) as RunnerInfo['kind'],
    queueName: strOrNull(row['queue_name']),
    host: str(row['host']),
    pid: Number(row['pid']),
    concurrency: intOrNull(row['concurrency']),
    prefetch: intOrNull(row['prefetch']),
    pollIntervalMs: Number(row['poll_interval_ms']),
    activeCount: Number(row['active_count']),
    startedAt: toDate(row['started_at']),
    lastSeenAt: toDate(row['last_seen_at']),
  };
}

/** Checks a heartbeat: a queue runner names its queue, a schedule runner none; counts within the runners' bounds. */
export function validateHeartbeat(input: unknown, name = 'runnerHeartbeat: runner'): RunnerHeartbeatInput {
  assertPlainObject(input, name);
  assertKnownKeys(input, HEARTBEAT_KEYS, name);
  assertNonEmptyString(input['id'], `${name}.id`, 36);
  assertOneOf(input['kind'], RUNNER_KINDS, `${name}.kind`);
  const queue = input['kind'] === 'queue';
  let queueName: string | null = null;
  if (queue) queueName = resolveQueueName(input['queueName'], `${name}.queueName`);
  else if (input['queueName'] !== null && input['queueName'] !== undefined)
    throw invalidArgument(`${name}.queueName must be null for a schedule runner`);
  assertNonEmptyString(input['host'], `${name}.host`, 255);
  assertInteger(input['pid'], `${name}.pid`, 0, MAX_PID);
  for (const [key, min] of [
    ['concurrency', 1],
    ['prefetch', 0],
  ] as const) {
    const value = input[key];
    if (queue) assertInteger(value, `${name}.${key}`, min, MAX_COUNT);
    else if (value !== null && value !== undefined) throw invalidArgument(`${name}.${key} must be null for a schedule runner`);
  }
  assertPositiveNumber(input['pollIntervalMs'], `${name}.pollIntervalMs`, MAX_TIMER_MS);
  assertInteger(input['activeCount'], `${name}.activeCount`, 0, MAX_COUNT);
  assertStoredDate(input['startedAt'], `${name}.startedAt`);
  return {
    id: input['id'],
    kind: input['kind'],
    queueName,
    host: input['host'],
    pid: input['pid'],
    concurrency: queue ? (input['concurrency'] as number) : null,
    prefetch: queue ? (input['prefetch'] as number) : null,
    pollIntervalMs: input['pollIntervalMs'],
    activeCount: input['activeCount'],
    startedAt: input['startedAt'],
  };
}

function validateListOptions(options: unknown): { staleAfterMs?: number; kind?: RunnerInfo['kind']; queueName?: string } {
  if (options === undefined) return {};
  const name = 'runnerList: options';
  assertPlainObject(options, name);
  assertKnownKeys(options, LIST_KEYS, name);
  const { staleAfterMs, kind, queueName } = options;
  if (staleAfterMs !== undefined) assertPositiveNumber(staleAfterMs, `${name}.staleAfterMs`, MAX_TIMER_MS);
  if (kind !== undefined) assertOneOf(kind, RUNNER_KINDS, `${name}.kind`);
  return {
    ...(staleAfterMs !== undefined && { staleAfterMs }),
    ...(kind !== undefined && { kind }),
    ...(queueName !== undefined && { queueName: resolveQueueName(queueName, `${name}.queueName`) }),
  };
}

export class RunnerRegistry {
  readonly #ctx: StoreContext;
  /** How often runners write their rows (the store's runnerHeartbeatIntervalMs). */
  readonly heartbeatIntervalMs: number;

  constructor(context: StoreContext, heartbeatIntervalMs: number) {
    this.#ctx = context;
    this.heartbeatIntervalMs = heartbeatIntervalMs;
  }

  get #table(): string {
    return runnersTable(this.#ctx.tables.taskQueue);
  }

  get #staleAfterMs(): number {
    return STALE_AFTER_HEARTBEATS * this.heartbeatIntervalMs;
  }

  /** `last_seen_at` is older than `windowMs` by the database's clock (the application's on SQLite). */
  #staleFor(windowMs: number) {
    const { knex, adapter } = this.#ctx;
    return adapter.olderThan(knex, 'last_seen_at', windowMs, new Date(this.#ctx.now().getTime() - windowMs));
  }

  /** Writes the runner's row (creating it when missing: the first heartbeat, or after it aged out), then ages out a batch of stale rows. */
  async heartbeat(input: unknown): Promise<void> {
    const runner = validateHeartbeat(input);
    const { knex, adapter } = this.#ctx;
    const seen = adapter.databaseNow(knex) ?? this.#ctx.now();
    const updated = await knex(this.#table).where('id', runner.id).update({ active_count: runner.activeCount, last_seen_at: seen });
    if (Number(updated) === 0) {
      try {
        await knex(this.#table).insert({
          id: runner.id,
          kind: runner.kind,
          queue_name: runner.queueName,
          host: runner.host,
          pid: runner.pid,
          concurrency: runner.concurrency,
          prefetch: runner.prefetch,
          poll_interval_ms: Math.max(1, Math.round(runner.pollIntervalMs)),
          active_count: runner.activeCount,
          started_at: runner.startedAt,
          last_seen_at: seen,
        });
      } catch (error) {
        // Written by an earlier heartbeat whose update matched no changed row (MySQL counts changed rows): it is there.
        if (!adapter.isUniqueViolation(error)) throw error;
      }
    }
    await this.#sweep();
  }

  /** Deletes the runner's row (a stop). Unknown ids are ignored: the row may have aged out. */
  async unregister(id: unknown): Promise<void> {
    assertNonEmptyString(id, 'runnerUnregister: id', 36);
    await this.#ctx.knex(this.#table).where('id', id).delete();
  }

  /** The live runners: seen within staleAfterMs, by kind, queue, host, pid and start; at most MAX_LISTED_RUNNERS. */
  async list(options?: RunnerListOptions): Promise<RunnerInfo[]> {
    const { staleAfterMs = this.#staleAfterMs, kind, queueName } = validateListOptions(options);
    const query = this.#ctx
      .knex(this.#table)
      .whereNot((stale) => stale.where(this.#staleFor(staleAfterMs)))
      .orderBy([
        { column: 'kind', order: 'asc' },
        { column: 'queue_name', order: 'asc' },
        { column: 'host', order: 'asc' },
        { column: 'pid', order: 'asc' },
        { column: 'started_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(MAX_LISTED_RUNNERS);
    if (kind !== undefined) query.where('kind', kind);
    if (queueName !== undefined) query.where('kind', 'queue').where('queue_name', queueName);
    return (await query).map(toRunnerInfo);
  }

  /** Deletes up to SWEEP_BATCH stale rows: ids read first, then deleted by key with the condition checked again. */
  async #sweep(): Promise<void> {
    const { knex } = this.#ctx;
    const rows = (await knex(this.#table).where(this.#staleFor(this.#staleAfterMs)).select('id').limit(SWEEP_BATCH)) as { id: unknown }[];
    if (rows.length === 0) return;
    await knex(this.#table)
      .whereIn(
        'id',
        rows.map((row) => str(row.id)),
      )
      .where(this.#staleFor(this.#staleAfterMs))
      .delete();
  }
}
