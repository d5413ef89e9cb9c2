/**
 * Queues as cluster-wide settings (docs/flow-control.md): pause and resume, concurrency and
 * rate limits, per queue and per group. One row per configured queue; every write bumps the
 * row's version (which the polled change probes watch) and, where the database has a
 * notification channel, announces the queue inside its transaction. Claims read the row in
 * adapters/limited-claim.ts.
 */
import type { Knex } from 'knex';
import { retryTransient, type SettingsRow } from '../../adapters/adapter.js';
import { queueSettingsTable, queueStartsTable } from '../foundation/table-names.js';
import { laterThan } from '../foundation/time.js';
import type { CountsByQueueOptions, QueueCounts } from '../foundation/insight-types.js';
import { emptyTaskStats, type QueueConfigureInput, type QueueListEntry, type QueueSettings, type RateLimit } from '../foundation/types.js';
import { MAX_TIMER_MS, assertInteger, assertKnownKeys, assertPlainObject } from '../foundation/validate.js';
import { toDate } from '../store/rows.js';
import type { StoreContext } from '../store/store-context.js';
import { resolveQueueName } from './task-queue.js';

/** The largest concurrency limit or rate count (a bound, so a typo cannot mean a billion). */
export const MAX_QUEUE_LIMIT = 1_000_000;

const CONFIGURE_KEYS = ['concurrency', 'groupConcurrency', 'rateLimit', 'groupRateLimit'] as const;

/** Paused, or any limit set: such a queue is claimed through the limited claim. */
export const isGated = (settings: QueueSettings): boolean =>
  settings.paused ||
  settings.concurrency !== null ||
  settings.groupConcurrency !== null ||
  settings.rateLimit !== null ||
  settings.groupRateLimit !== null;

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const rate = (count: unknown, periodMs: unknown): RateLimit | null =>
  num(count) === null || num(periodMs) === null ? null : { count: Number(count), periodMs: Number(periodMs) };

/** The settings a row stands for; the defaults (nothing limited) when there is no row. */
export function toQueueSettings(queueName: string, row: SettingsRow | null | undefined): QueueSettings {
  return {
    queueName,
    paused: row ? Boolean(Number(row['paused'])) : false,
    concurrency: num(row?.['concurrency']),
    groupConcurrency: num(row?.['group_concurrency']),
    rateLimit: rate(row?.['rate_count'], row?.['rate_period_ms']),
    groupRateLimit: rate(row?.['group_rate_count'], row?.['group_rate_period_ms']),
    updatedAt: row ? toDate(row['updated_at']) : null,
  };
}

function validateLimit(value: unknown, name: string): void {
  if (value !== null) assertInteger(value, name, 1, MAX_QUEUE_LIMIT);
}

function validateRate(value: unknown, name: string): void {
  if (value === null) return;
  assertPlainObject(value, name);
  assertKnownKeys(value, ['count', 'periodMs'], name);
  assertInteger(value['count'], `${name}.count`, 1, MAX_QUEUE_LIMIT);
  assertInteger(value['periodMs'], `${name}.periodMs`, 1, MAX_TIMER_MS);
}

/** Checks `queueConfigure`'s input: known keys; a limit is a positive integer or null; a rate is { count, periodMs } or null. */
export function validateConfigureInput(input: unknown, name: string): QueueConfigureInput {
  assertPlainObject(input, name);
  assertKnownKeys(input, CONFIGURE_KEYS, name);
  if (input['concurrency'] !== undefined) validateLimit(input['concurrency'], `${name}.concurrency`);
  if (input['groupConcurrency'] !== undefined) validateLimit(input['groupConcurrency'], `${name}.groupConcurrency`);
  if (input['rateLimit'] !== undefined) validateRate(input['rateLimit'], `${name}.rateLimit`);
  if (input['groupRateLimit'] !== undefined) validateRate(input['groupRateLimit'], `${name}.groupRateLimit`);
  return input as QueueConfigureInput;
}

export class QueueSettingsStore {
  readonly #ctx: StoreContext;
  readonly #announce: (queueName: string) => void;
  readonly #counts: (options?: CountsByQueueOptions) => Promise<QueueCounts[]>;

  /**
   * `announce` tells this process's runners that a queue's settings changed; `counts` reads the
   * live tasks by queue and status (QueueInsights.countsByQueue), for queueList.
   */
  constructor(
    context: StoreContext,
    counts: (options?: CountsByQueueOptions) => Promise<QueueCounts[]>,
    announce: (queueName: string) => void = () => {},
  ) {
    this.#ctx = context;
    this.#counts = counts;
    this.#announce = announce;
  }

  get table(): string {
    return queueSettingsTable(this.#ctx.tables.taskQueue);
  }

  async find(queueName: string, name = 'queueSettings: queueName'): Promise<QueueSettings> {
    const queue = resolveQueueName(queueName, name);
    return toQueueSettings(queue, await this.#ctx.knex(this.table).where('queue_name', queue).first());
  }

  pause(queueName: string): Promise<QueueSettings> {
    return this.#write(resolveQueueName(queueName, 'queuePause: queueName'), { paused: true });
  }

  resume(queueName: string): Promise<QueueSettings> {
    return this.#write(resolveQueueName(queueName, 'queueResume: queueName'), { paused: false });
  }

  configure(queueName: string, input: QueueConfigureInput): Promise<QueueSettings> {
    const queue = resolveQueueName(queueName, 'queueConfigure: queueName');
    const changes = validateConfigureInput(input, 'queueConfigure: options');
    return this.#write(queue, changes);
  }

  /** Every queue that has settings or live tasks, by name, with its settings and its tasks by status (capped: see countsByQueue). */
  async list(options?: CountsByQueueOptions): Promise<QueueListEntry[]> {
    const [settingsRows, counts] = await Promise.all([
      this.#ctx.knex(this.table).select('*') as Promise<SettingsRow[]>,
      this.#counts(options),
    ]);
    const entries = new Map<string, QueueListEntry>();
    for (const row of settingsRows) {
      const queue = String(row['queue_name']);
      entries.set(queue, { ...toQueueSettings(queue, row), stats: emptyTaskStats(), capped: [] });
    }
    for (const { queueName, stats, capped } of counts) {
      entries.set(queueName, { ...(entries.get(queueName) ?? toQueueSettings(queueName, undefined)), stats, capped });
    }
    return [...entries.values()].sort((a, b) => (a.queueName < b.queueName ? -1 : a.queueName > b.queueName ? 1 : 0));
  }

  /** One settings write: the row locked (or created), changed, announced at commit. */
  async #write(queue: string, changes: Partial<Omit<QueueSettings, 'queueName' | 'updatedAt'>>): Promise<QueueSettings> {
    const { knex, adapter } = this.#ctx;
    const write = () =>
      knex.transaction(async (trx) => {
        const row = (await trx(this.table).where('queue_name', queue).forUpdate().first()) as SettingsRow | undefined;
        const current = toQueueSettings(queue, row);
        const next: QueueSettings = { ...current, ...changes };
        next.updatedAt = current.updatedAt ? laterThan(current.updatedAt, this.#ctx.now()) : this.#ctx.now();
        const values = {
          paused: next.paused,
          concurrency: next.concurrency,
          group_concurrency: next.groupConcurrency,
          rate_count: next.rateLimit?.count ?? null,
          rate_period_ms: next.rateLimit?.periodMs ?? null,
          group_rate_count: next.groupRateLimit?.count ?? null,
          group_rate_period_ms: next.groupRateLimit?.periodMs ?? null,
          gated: isGated(next),
          updated_at: next.updatedAt,
        };
        if (row)
          await trx(this.table)
            .where('queue_name', queue)
            .update({ ...values, version: trx.raw('version + 1') });
        else await trx(this.table).insert({ queue_name: queue, ...values, version: 1 });
        await this.#pruneStarts(trx, queue, next);
        if (adapter.notify) await adapter.notify(trx, this.#ctx.tables, 'settings', queue);
        return next;
      });
    const settings = await retryTransient(adapter, async () => {
      try {
        return await write();
      } catch (error) {
        // Two first writes of one queue raced to insert its row: the second one updates it.
        if (adapter.isUniqueViolation(error)) return write();
        throw error;
      }
    });
    this.#announce(queue);
    return settings;
  }

  /**
   * A queue left without a rate limit has its starts removed from the ledger, so a rate limit
   * set later counts from then on. (While one holds, the claims prune the ledger.)
   */
  async #pruneStarts(trx: Knex.Transaction, queue: string, settings: QueueSettings): Promise<void> {
    if (settings.rateLimit || settings.groupRateLimit) return;
    await trx(queueStartsTable(this.#ctx.tables.taskQueue)).where('queue_name', queue).delete();
  }
}
