/**
 * What a store announces to its runners: enqueues (so a runner wakes at once instead of at
 * its next poll), queue settings changes (pause, resume, limits), schedule changes, and claims
 * this process may hold that were lost (a cancel, a reclaim), so their handlers stop. Other
 * processes' enqueues and settings writes (and, on PostgreSQL, their cancels) arrive through
 * the adapter's change feed, which is open exactly while someone listens for enqueues or
 * settings (a started runner does).
 */
import { EventEmitter } from 'node:events';
import type { ChangeFeed } from '../../adapters/adapter.js';
import type { StoreContext } from './store-context.js';

/** A queue name, or '*' for "some queue changed, look again". */
export type EnqueuedListener = (queueName: string) => void;

/** A claim that is gone: the item's id, the claim token it had, and why (docs/live-control.md). */
export interface LostClaim {
  readonly id: string;
  readonly claimToken: string;
  readonly reason: 'canceled' | 'reclaimed';
}

export type ClaimLostListener = (lost: LostClaim) => void;

export class StoreEvents {
  readonly #ctx: StoreContext;
  readonly #events = new EventEmitter();
  #changeFeed: ChangeFeed | null = null;
  #closed = false;

  constructor(context: StoreContext) {
    this.#ctx = context;
    this.#events.setMaxListeners(0);
  }

  /** Tasks of this queue ('*': of some queue) may be due now. */
  enqueued(queueName: string): void {
    this.#events.emit('enqueued', queueName);
  }

  /** A claim is gone (canceled here or, through the change feed, elsewhere; or found lost by a heartbeat). */
  claimLost(lost: LostClaim): void {
    this.#events.emit('claim-lost', lost);
  }

  /**
   * Subscribes to lost claims. Does not open the change feed by itself: on PostgreSQL, other
   * processes' cancels arrive while a runner (an enqueue listener) keeps it open; else a heartbeat finds them.
   */
  onClaimLost(listener: ClaimLostListener): () => void {
    this.#events.on('claim-lost', listener);
    return () => this.#events.off('claim-lost', listener);
  }

  /** The settings of this queue ('*': of some queue) changed. */
  settingsChanged(queueName: string): void {
    this.#events.emit('settings', queueName);
  }

  schedulesChanged(): void {
    this.#events.emit('schedules-changed');
  }

  /** Subscribes to enqueues, here and (through the change feed) in other processes. Returns an unsubscribe function. */
  onEnqueued(listener: EnqueuedListener): () => void {
    return this.#watch('enqueued', listener);
  }

  /** Subscribes to settings changes of queues, here and in other processes. Returns an unsubscribe function. */
  onSettingsChanged(listener: EnqueuedListener): () => void {
    return this.#watch('settings', listener);
  }

  #watch(event: 'enqueued' | 'settings', listener: EnqueuedListener): () => void {
    this.#events.on(event, listener);
    if (!this.#changeFeed && !this.#closed) {
      const { adapter, knex, tables, logger } = this.#ctx;
      this.#changeFeed = adapter.watchChanges(knex, tables, {
        onChange: (queueName) => this.enqueued(queueName),
        onCanceled: (id, claimToken) => this.claimLost({ id, claimToken, reason: 'canceled' }),
        onSettingsChange: (queueName) => this.settingsChanged(queueName),
        onError: (error) => logger.warn('change feed trouble (runners keep polling)', error),
      });
    }
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#events.off(event, listener);
      if (this.#events.listenerCount('enqueued') + this.#events.listenerCount('settings') === 0) {
        this.#closeChangeFeed().catch((error: unknown) => this.#ctx.logger.warn('closing the change feed failed', error));
      }
    };
  }

  onSchedulesChanged(listener: () => void): () => void {
    this.#events.on('schedules-changed', listener);
    return () => this.#events.off('schedules-changed', listener);
  }

  /** Tells every listener the store closed, drops them and closes the change feed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#events.removeAllListeners();
    await this.#closeChangeFeed();
  }

  #closeChangeFeed(): Promise<void> {
    const feed = this.#changeFeed;
    this.#changeFeed = null;
    return feed ? feed.close() : Promise.resolve();
  }
}
