/**
 * Which claim a queue gets. A queue without settings takes the fast claim (one statement,
 * adapters/<dialect>), whose guard takes nothing from a paused or limited queue; a queue with
 * settings takes the limited claim (adapters/limited-claim.ts). A caller that does not know
 * the queue's settings tries the fast claim first and reads the settings only when it comes
 * back empty, so a queue without settings pays nothing more while it has work.
 */
import { formatDetailsLine } from '../foundation/details.js';
import { newId } from '../foundation/ids.js';
import { invalidArgument } from '../foundation/errors.js';
import type { QueueClaim, TaskQueueItem } from '../foundation/types.js';
import { assertInteger } from '../foundation/validate.js';
import { toTaskQueueItem } from '../store/rows.js';
import type { StoreContext } from '../store/store-context.js';
import { MAX_CLAIM_BATCH, type QueueLeases } from './queue-leases.js';
import { isGated, toQueueSettings, type QueueSettingsStore } from './queue-settings.js';
import { resolveQueueName } from './task-queue.js';

/** The most settled items one claim takes (see QueueClaimOptions.settled). */
export const MAX_SETTLED = 1000;

function assertSettled(settled: unknown): asserts settled is readonly Pick<TaskQueueItem, 'id' | 'claimToken'>[] {
  const fits = (item: unknown) =>
    typeof item === 'object' &&
    item !== null &&
    typeof (item as TaskQueueItem).id === 'string' &&
    (typeof (item as TaskQueueItem).claimToken === 'string' || (item as TaskQueueItem).claimToken === null);
  if (!Array.isArray(settled) || settled.length > MAX_SETTLED || !settled.every(fits))
    throw invalidArgument(`settled must be an array of at most ${MAX_SETTLED} items, each with an id and a claimToken`);
}

export class QueueClaims {
  readonly #ctx: StoreContext;
  readonly #leases: QueueLeases;
  readonly #settings: QueueSettingsStore;

  constructor(context: StoreContext, leases: QueueLeases, settings: QueueSettingsStore) {
    this.#ctx = context;
    this.#leases = leases;
    this.#settings = settings;
  }

  /**
   * Claims up to `limit` due items in claim order, within the queue's settings. `limited`:
   * the caller believes the queue has settings, so the fast claim is not tried first.
   * `settled`: the caller's items whose handlers returned, not counted against a concurrency
   * limit (see QueueClaimOptions).
   */
  async claim(
    queueName: string,
    limit: number,
    limited = false,
    settled: readonly Pick<TaskQueueItem, 'id' | 'claimToken'>[] = [],
  ): Promise<QueueClaim> {
    const queue = resolveQueueName(queueName);
    assertInteger(limit, 'limit', 1, MAX_CLAIM_BATCH);
    assertSettled(settled);
    if (!limited) {
      const items = await this.#leases.claim(queue, limit);
      if (items.length > 0) return { items, waitMs: null, full: false };
      const settings = await this.#settings.find(queue);
      if (!isGated(settings)) return { items, settings, waitMs: null, full: false };
    }
    const now = this.#ctx.now();
    const result = await this.#ctx.adapter.claimLimited(this.#ctx.knex, this.#ctx.tables.taskQueue, {
      queueName: queue,
      limit,
      now,
      token: newId(),
      startedLine: formatDetailsLine('Task started', now),
      // Where the dialect can, a claim within a concurrency limit alone commits as the fast
      // claim does; a claim that writes the rate ledger always waits for the flush.
      asyncCommit: this.#ctx.asyncStateCommits,
      preparedSession: this.#ctx.preparedSessions,
      settled: settled.flatMap((item) => (item.claimToken === null ? [] : [{ id: item.id, token: item.claimToken }])),
    });
    return {
      items: result.rows.map(toTaskQueueItem),
      settings: toQueueSettings(queue, result.settings),
      waitMs: result.waitMs,
      full: result.full,
    };
  }
}
