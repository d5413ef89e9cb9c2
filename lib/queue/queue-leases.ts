/**
 * The leases of claimed items: the claim itself and the guarded writes that keep or end it
 * (heartbeat, details lines, progress, finish, snooze, release). Every such write names the
 * item's id and claim token, so a worker whose task was reclaimed or canceled changes nothing.
 */
import type { Knex } from 'knex';
import { retryTransient } from '../../adapters/adapter.js';
import { formatDetailsLine } from '../foundation/details.js';
import { TaskStoreError } from '../foundation/errors.js';
import { newId } from '../foundation/ids.js';
import type { TaskQueueItem } from '../foundation/types.js';
import { toTaskQueueItem } from '../store/rows.js';
import type { StoreContext } from '../store/store-context.js';
import type { LostClaim } from '../store/store-events.js';
import { assertInteger } from '../foundation/validate.js';
import { resolveQueueName, type TaskQueue } from './task-queue.js';

/**
 * How a claimed item ends its attempt. A success with `remove` deletes the item's row instead
 * (a runner's `removeOnSuccess`): its output and lines are not kept anywhere.
 */
export type Finish =
  | { status: 'success'; lines: string[]; output: string; remove?: boolean }
  | { status: 'failed' | 'canceled'; lines: string[]; output: string }
  | { status: 'queued'; lines: string[]; output: string; availableAt: Date };

/** The most items one claim may take. */
export const MAX_CLAIM_BATCH = 1000;

export class QueueLeases {
  readonly #ctx: StoreContext;
  readonly #queue: TaskQueue;
  readonly #announce: (queueName: string) => void;
  readonly #lost: (lost: LostClaim) => void;

  /**
   * `announce` tells runners that released or snoozed items are due (again); `lost` hears of
   * the claims a heartbeat found gone, so their handlers stop.
   */
  constructor(
    context: StoreContext,
    queue: TaskQueue,
    announce: (queueName: string) => void = () => {},
    lost: (lost: LostClaim) => void = () => {},
  ) {
    this.#ctx = context;
    this.#queue = queue;
    this.#announce = announce;
    this.#lost = lost;
  }

  /** Claims up to `limit` due items of a queue in one statement, in claim order. */
  async claim(queueName: string, limit: number): Promise<TaskQueueItem[]> {
    const queue = resolveQueueName(queueName);
    assertInteger(limit, 'limit', 1, MAX_CLAIM_BATCH);
    const now = this.#ctx.now();
    const rows = await this.#ctx.adapter.claim(this.#ctx.knex, this.#ctx.tables.taskQueue, {
      queueName: queue,
      limit,
      now,
      token: newId(),
      startedLine: formatDetailsLine('Task started', now),
      asyncCommit: this.#ctx.asyncStateCommits,
      preparedSession: this.#ctx.preparedSessions,
    });
    return rows.map(toTaskQueueItem);
  }

  /** Claims one specific queued item (processing an item the caller picked). */
  async claimById(id: string): Promise<TaskQueueItem | null> {
    const now = this.#ctx.now();
    const token = newId();
    const changed = await stateWrite(this.#ctx, this.#queue.table())
      .where({ id, status: 'queued' })
      .whereNull('soft_deleted_at')
      .update({
        status: 'running',
        attempts: this.#ctx.knex.raw('attempts + 1'),
        started_at: now,
        heartbeat_at: this.#ctx.adapter.databaseNow(this.#ctx.knex) ?? now,
        updated_at: now,
        completed_at: null,
        claim_token: token,
        details: this.#ctx.adapter.appendLine(this.#ctx.knex, 'details', formatDetailsLine('Task started', now)),
      });
    return changed === 1 ? this.#queue.findById(id) : null;
  }

  /** Appends a details line to a running item while its claim holds. */
  async appendDetails(item: TaskQueueItem, line: string): Promise<boolean> {
    const changed = await this.#retry(() =>
      this.#leasedMany([item]).update({
        details: this.#ctx.adapter.appendLine(this.#ctx.knex, 'details', line),
        updated_at: this.#ctx.now(),
      }),
    );
    return changed === 1;
  }

  /**
   * Refreshes the heartbeat of running items; returns how many still hold their claim. When
   * some no longer do, one more read finds which and why (canceled, or reclaimed), and each is
   * reported as lost: their handlers' signals abort (docs/live-control.md).
   */
  async heartbeat(items: readonly TaskQueueItem[]): Promise<number> {
    const held = items.filter((item) => item.claimToken !== null);
    if (held.length === 0) return 0;
    const kept = await this.#retry(() =>
      this.#leasedMany(held).update({ heartbeat_at: this.#ctx.adapter.databaseNow(this.#ctx.knex) ?? this.#ctx.now() }),
    );
    if (kept < held.length) {
      await this.#reportLost(held).catch((error: unknown) => this.#ctx.logger.warn('could not tell which claims were lost', error));
    }
    return kept;
  }

  /** Which of these items no longer hold their claim, and why: one read, only when a heartbeat fell short. */
  async #reportLost(held: readonly TaskQueueItem[]): Promise<void> {
    const rows = (await this.#queue
      .table()
      .whereIn(
        'id',
        held.map((item) => item.id),
      )
      .select('id', 'status', 'claim_token')) as { id: string; status: string; claim_token: string | null }[];
    const current = new Map(rows.map((row) => [String(row.id), row]));
    for (const item of held) {
      const row = current.get(item.id);
      if (row && row.claim_token === item.claimToken) continue;
      this.#lost({ id: item.id, claimToken: item.claimToken as string, reason: row?.status === 'canceled' ? 'canceled' : 'reclaimed' });
    }
  }

  /** Writes a running item's progress while its claim holds; false when the claim is gone. */
  async setProgress(item: TaskQueueItem, percent: number, data: string | null): Promise<boolean> {
    const changed = await this.#retry(() =>
      this.#leasedMany([item]).update({ progress_percent: percent, progress_data: data, progress_updated_at: this.#ctx.now() }),
    );
    return changed === 1;
  }

  /**
   * Ends an attempt by putting the item back to queued until `availableAt` without using an
   * attempt (ctx.snooze): one guarded write, false when the claim was lost meanwhile.
   */
  async snooze(item: TaskQueueItem, snooze: { availableAt: Date; output: string; lines: readonly string[] }): Promise<boolean> {
    const { knex, adapter } = this.#ctx;
    const changed = await this.#retry(() =>
      this.#leasedMany([item]).update({
        status: 'queued',
        attempts: knex.raw('attempts - 1'),
        claim_token: null,
        available_at: snooze.availableAt,
        output: snooze.output,
        updated_at: this.#ctx.now(),
        details: adapter.appendLine(knex, 'details', snooze.lines.join('\n')),
      }),
    );
    if (changed === 1) this.#announce(item.queueName);
    return changed === 1;
  }

  /** The guarded final write of an attempt; false when the claim was lost meanwhile. */
  async finish(item: TaskQueueItem, finish: Finish): Promise<boolean> {
    return (await this.finishMany([item], finish)).has(item.id);
  }

  /**
   * One guarded write ending the attempts of many items alike (a runner's batch of
   * successes). Each row is matched on its own (id, claim token) pair; returns the ids of
   * the rows that still held their claim. A success with `remove` deletes those rows instead.
   */
  async finishMany(items: readonly TaskQueueItem[], finish: Finish): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const claimed = items.map((item) => {
      if (!item.claimToken) throw new TaskStoreError('INVALID_STATE', `task queue item '${item.id}' holds no claim`);
      return { id: item.id, token: item.claimToken };
    });
    const now = this.#ctx.now();
    const remove = finish.status === 'success' && finish.remove === true;
    const write = (output: string, lines: readonly string[]) =>
      this.#retry(() =>
        this.#ctx.adapter.finish(this.#ctx.knex, this.#ctx.tables.taskQueue, {
          items: claimed,
          status: finish.status,
          remove,
          output,
          details: lines.join('\n'),
          availableAt: finish.status === 'queued' ? finish.availableAt : null,
          now,
          asyncCommit: this.#ctx.asyncStateCommits,
        }),
      );
    try {
      return await write(finish.output, finish.lines);
    } catch (error) {
      // Refused for what it carried (an encoding the database cannot hold, a packet too
      // large): the task must still end, so once more with content any database takes.
      if (!this.#ctx.adapter.isValueRejected(error)) throw error;
      this.#ctx.logger.warn(`the final write of ${claimed.length} task(s) was refused for its content; writing it again cut down`, error);
      const reason = plainText(error instanceof Error ? error.message : String(error), 200);
      const note = formatDetailsLine(
        `Task result refused by the database (${reason}); stored with output and lines cut to ${FALLBACK_CHARACTERS} ASCII characters`,
        now,
      );
      return write(
        plainText(finish.output, FALLBACK_CHARACTERS, true),
        [note, ...finish.lines].map((line) => plainText(line, FALLBACK_CHARACTERS)),
      );
    }
  }

  /** Gives claimed-but-unstarted items back to the queue (a stopping runner's prefetch). */
  async release(items: readonly TaskQueueItem[]): Promise<number> {
    if (items.length === 0) return 0;
    const released = await this.#retry(() =>
      this.#leasedMany(items).update({
        status: 'queued',
        attempts: this.#ctx.knex.raw('attempts - 1'),
        claim_token: null,
        updated_at: this.#ctx.now(),
        details: this.#ctx.adapter.appendLine(this.#ctx.knex, 'details', formatDetailsLine('Task released unstarted')),
      }),
    );
    if (released > 0) this.#announce(items[0]?.queueName ?? '*');
    return released;
  }

  /** Guarded writes are idempotent: a deadlock or busy database is worth another go. */
  #retry<T>(write: () => Promise<T>): Promise<T> {
    return retryTransient(this.#ctx.adapter, write);
  }

  #leasedMany(items: readonly TaskQueueItem[]): Knex.QueryBuilder {
    const pairs = items.map((item) => {
      if (!item.claimToken) throw new TaskStoreError('INVALID_STATE', `task queue item '${item.id}' holds no claim`);
      return [item.id, item.claimToken];
    });
    return stateWrite(
      this.#ctx,
      this.#queue
        .table()
        .whereIn(
          'id',
          pairs.map(([id]) => id as string),
        )
        // The token alone fences: it is set only with status 'running' and cleared by every
        // write that leaves it. A status condition would invite the partial index of running
        // rows, which statistics taken while nothing ran make look nearly empty.
        .whereIn(['id', 'claim_token'], pairs),
    );
  }
}

/** How much of the output and of each line the fallback final write keeps. */
export const FALLBACK_CHARACTERS = 1024;

/**
 * Text any database stores in any encoding: at most `max` characters of printable ASCII
 * (other characters become '?'; newlines too, unless kept).
 */
export function plainText(text: string, max: number, keepNewlines = false): string {
  const head = text.length > max ? `${text.slice(0, max - 4)} ...` : text;
  return head.replace(keepNewlines ? /[^\x20-\x7E\n]/g : /[^\x20-\x7E]/g, '?');
}

/** Marks a state transition of claimed items as one that may commit asynchronously. */
export function stateWrite(context: StoreContext, builder: Knex.QueryBuilder): Knex.QueryBuilder {
  const condition = context.asyncStateCommits ? context.adapter.asyncCommitCondition(context.knex) : null;
  return condition ? builder.where(condition) : builder;
}
