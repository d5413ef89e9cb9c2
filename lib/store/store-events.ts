/**
 * What a store announces to its runners: enqueues (so a runner wakes at once instead of at
 * its next poll), queue settings changes (pause, resume, limits) and schedule changes. Other
 * processes' enqueues and settings writes arrive through the adapter's change feed, which is
 * open exactly while someone listens for either.
 */
import { EventEmitter } from 'node:events';
import type { ChangeFeed } from '../../adapters/adapter.js';
import type { StoreContext } from './store-context.js';

/** A queue name, or '*' for "some queue changed, look again". */
export type EnqueuedListener = (queueName: string) => void;

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
