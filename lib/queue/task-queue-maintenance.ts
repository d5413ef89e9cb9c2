/**
 * Operations on queue items outside the claim path: the unstuck sweep, stats and purge. The
 * status transitions by hand (requeue, cancel, run now) are in task-transitions.ts.
 */
import type { Knex } from 'knex';
import { retryTransient } from '../../adapters/adapter.js';
import { formatDetailsLine } from '../foundation/details.js';
import { invalidArgument } from '../foundation/errors.js';
import type { StoreContext } from '../store/store-context.js';
import { stateWrite } from './queue-leases.js';
import { resolveQueueName, type TaskQueue } from './task-queue.js';
import { TASK_STATUSES, emptyTaskStats, type TaskQueuePurgeOptions, type TaskQueueStats, type TaskStatus } from '../foundation/types.js';
import {
  MAX_DELAY_MS,
  assertInteger,
  assertKnownKeys,
  assertOneOf,
  assertPlainObject,
  assertPositiveNumber,
  assertStoredDate,
} from '../foundation/validate.js';

const FINISHED_STATUSES: TaskStatus[] = ['success', 'failed', 'canceled'];
/** Rows a purge deletes per statement, unless told otherwise. */
export const PURGE_BATCH_SIZE = 1000;
export const MAX_PURGE_BATCH_SIZE = 10_000;
/** The longest silence `taskQueueUnstuck` may wait for: 3,650 days, so the cutoff stays a storable instant. */
const MAX_UNSTUCK_MINUTES = MAX_DELAY_MS / 60_000;

/** A running flow step the sweep found stale with no attempt left. */
export interface StaleStep {
  readonly id: string;
  readonly claimToken: string;
  readonly output: string;
}

/** What flows add to maintenance (lib/flows/flow-steps.ts): a step that ends releases its dependents in the same transaction. */
export interface FlowStepHooks {
  /** In `trx`, right after these flow steps ended canceled: their dependents move on. Resolves the queues that got due steps. */
  stepsEnded(trx: Knex.Transaction, ids: readonly string[]): Promise<Set<string>>;
  /** Fails these stale flow steps, each fenced by its claim token, releasing their dependents; resolves how many it failed. */
  failStale(steps: readonly StaleStep[], line: string): Promise<number>;
}

export class TaskQueueMaintenance {
  readonly #ctx: StoreContext;
  readonly #queue: TaskQueue;
  readonly #announce: (queueName: string) => void;
  readonly #flows: FlowStepHooks | null;

  /** `announce` tells runners that a queue ('*': some queue) has items due again; `flows` handles flow steps that end here. */
  constructor(
    context: StoreContext,
    queue: TaskQueue,
    announce: (queueName: string) => void = () => {},
    flows: FlowStepHooks | null = null,
  ) {
    this.#ctx = context;
    this.#queue = queue;
    this.#announce = announce;
    this.#flows = flows;
  }

  /**
   * Running items whose heartbeat (or start) is older than `minutes`: back to queued while
   * attempts remain, else failed. `queueName` null means every queue, '' the default queue.
   */
  async unstuck(queue: string | null, minutes: number): Promise<number> {
    const queueName = queue === null ? null : resolveQueueName(queue);
    assertPositiveNumber(minutes, 'minutes', MAX_UNSTUCK_MINUTES);
    const now = this.#ctx.now();
    const cutoff = new Date(now.getTime() - minutes * 60_000);
    const { knex, adapter } = this.#ctx;
    const stale = () => {
      const builder = stateWrite(this.#ctx, this.#queue.table())
        .where('status', 'running')
        .whereNull('soft_deleted_at')
        .where((where) =>
          where
            .where(adapter.olderThan(knex, 'heartbeat_at', minutes * 60_000, cutoff))
            .orWhere((noBeat) => noBeat.whereNull('heartbeat_at').where('started_at', '<', cutoff)),
        );
      return queueName === null ? builder : builder.where('queue_name', queueName);
    };
    // A flow step out of attempts must release its dependents as it fails: done one by one below.
    const plain = () => (this.#flows ? stale().where((w) => w.whereNull('flow_id').orWhereRaw('attempts < max_attempts')) : stale());
    const shown = Number.isInteger(minutes) ? String(minutes) : String(Math.round(minutes * 1000) / 1000);
    // One statement for both outcomes: back to queued while attempts remain, else failed.
    const retries = 'attempts < max_attempts';
    const either = (requeued: Knex.Value, failed: Knex.Value) => knex.raw(`CASE WHEN ${retries} THEN ? ELSE ? END`, [requeued, failed]);
    let reclaimed = await retryTransient(this.#ctx.adapter, () =>
      plain().update({
        status: either('queued', 'failed'),
        claim_token: null,
        available_at: either(now, knex.ref('available_at')),
        completed_at: either(knex.ref('completed_at'), now),
        updated_at: now,
        unique_key_active: either(knex.ref('unique_key_active'), null),
        details: either(
          adapter.appendLine(knex, 'details', formatDetailsLine(`Task reclaimed: no heartbeat for ${shown} minutes`, now)),
          adapter.appendLine(knex, 'details', formatDetailsLine(`Failed forcefully after ${shown} minutes timeout`, now)),
        ),
      }),
    );
    if (this.#flows) {
      const steps = (await stale().whereNotNull('flow_id').whereRaw('attempts >= max_attempts').select('id', 'claim_token', 'output')) as {
        id: string;
        claim_token: string;
        output: string | null;
      }[];
      const line = `Failed forcefully after ${shown} minutes timeout`;
      const stuck = steps.map((row) => ({ id: row.id, claimToken: row.claim_token, output: row.output ?? '' }));
      if (stuck.length > 0) reclaimed += await this.#flows.failStale(stuck, line);
    }
    if (reclaimed > 0) this.#announce(queueName ?? '*');
    return reclaimed;
  }

  async stats(options: { queueName?: string } = {}): Promise<TaskQueueStats> {
    assertPlainObject(options, 'taskQueueStats: options');
    assertKnownKeys(options, ['queueName'], 'taskQueueStats: options');
    const builder = this.#queue.table().select('status').count({ count: '*' }).whereNull('soft_deleted_at').groupBy('status');
    if (options.queueName !== undefined)
      builder.where('queue_name', resolveQueueName(options.queueName, 'taskQueueStats: options.queueName'));
    const stats = emptyTaskStats();
    for (const row of (await builder) as { status: TaskStatus; count: unknown }[]) {
      if (row.status in stats) stats[row.status] = Number(row.count);
    }
    return stats;
  }

  /**
   * Hard-deletes items last changed before `olderThan` (default: the finished ones), in
   * batches of `batchSize` rows, each its own statement in id order, so a purge of millions
   * holds no long transaction and no lock on rows it has not reached yet; a row written
   * meanwhile is checked again by the DELETE itself.
   */
  async purge(options: TaskQueuePurgeOptions): Promise<number> {
    const name = 'taskQueuePurge: options';
    assertPlainObject(options, name);
    assertKnownKeys(options, ['olderThan', 'statuses', 'queueName', 'batchSize'], name);
    assertStoredDate(options.olderThan, `${name}.olderThan`);
    const statuses = options.statuses ?? FINISHED_STATUSES;
    if (!Array.isArray(statuses) || statuses.length === 0) throw invalidArgument(`${name}.statuses must be a non-empty array`);
    statuses.forEach((status, index) => assertOneOf(status, TASK_STATUSES, `${name}.statuses[${index}]`));
    const batchSize = options.batchSize ?? PURGE_BATCH_SIZE;
    assertInteger(batchSize, `${name}.batchSize`, 1, MAX_PURGE_BATCH_SIZE);
    const queueName = options.queueName === undefined ? undefined : resolveQueueName(options.queueName, `${name}.queueName`);
    const matching = () => {
      const builder = this.#queue.table().where('updated_at', '<', options.olderThan).whereIn('status', statuses);
      return queueName === undefined ? builder : builder.where('queue_name', queueName);
    };
    let purged = 0;
    let after = '';
    for (;;) {
      const ids = ((await matching().where('id', '>', after).orderBy('id').limit(batchSize).select('id')) as { id: string }[]).map((row) =>
        String(row.id),
      );
      if (ids.length === 0) return purged;
      purged += Number(await matching().whereIn('id', ids).delete());
      if (ids.length < batchSize) return purged;
      after = ids[ids.length - 1] as string;
    }
  }
}
