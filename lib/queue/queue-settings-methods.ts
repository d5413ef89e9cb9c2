/**
 * The queue settings methods of the TaskStore facade (see lib/store/store-facade.ts): pause
 * and resume, concurrency and rate limits, per queue and per group (docs/flow-control.md),
 * and the claim runners use, which reports what held it back.
 */
import type { CountsByQueueOptions } from '../foundation/insight-types.js';
import type { QueueClaim, QueueClaimOptions, QueueConfigureInput, QueueListEntry, QueueSettings } from '../foundation/types.js';
import { ScheduleMethods } from '../schedules/schedule-methods.js';
import type { EnqueuedListener } from '../store/store-events.js';

export abstract class QueueSettingsMethods extends ScheduleMethods {
  /** Stops every runner of the queue, in any process, from claiming; running tasks finish. */
  queuePause(queueName: string): Promise<QueueSettings> {
    return this.run('queuePause', () => this.parts.queueSettings.pause(queueName));
  }

  /** Lets the runners of a paused queue claim again. */
  queueResume(queueName: string): Promise<QueueSettings> {
    return this.run('queueResume', () => this.parts.queueSettings.resume(queueName));
  }

  /** Sets the queue's limits; keys not given are left as they are, null removes a limit. */
  queueConfigure(queueName: string, options: QueueConfigureInput): Promise<QueueSettings> {
    return this.run('queueConfigure', () => this.parts.queueSettings.configure(queueName, options));
  }

  /** The queue's settings (the defaults, with updatedAt null, for a queue never configured). */
  queueSettings(queueName: string): Promise<QueueSettings> {
    return this.run('queueSettings', () => this.parts.queueSettings.find(queueName));
  }

  /**
   * Every queue that has settings or tasks, by name, with its settings and its tasks by status
   * (each exact up to `options.cap`, when given: see taskQueueCountsByQueue).
   */
  queueList(options?: CountsByQueueOptions): Promise<QueueListEntry[]> {
    return this.run('queueList', () => this.parts.queueSettings.list(options));
  }

  /**
   * A runner's claim: up to `limit` due items within the queue's settings, and what held the
   * claim back (a rate limit's wait, a full concurrency limit). `limited`: the caller knows the
   * queue has settings.
   */
  queueClaim(queueName: string, limit: number, options: QueueClaimOptions = {}): Promise<QueueClaim> {
    return this.run('queueClaim', async () => {
      const claim = await this.parts.claims.claim(queueName, limit, options.limited === true, options.settled ?? []);
      this.parts.processor.noteClaimed(claim.items);
      return claim;
    });
  }

  /** Calls `listener(queueName)` when a queue's settings change, here or in another process ('*': some queue). */
  onQueueSettingsChanged(listener: EnqueuedListener): () => void {
    return this.parts.events.onSettingsChanged(listener);
  }

  /**
   * Tells the runners of the queue that a task of it finished: this process's at once, other
   * processes' where the database carries notifications (PostgreSQL). Runners of
   * concurrency-limited queues call it, so one waiting on a full limit claims at once.
   */
  async queueAnnounceFinished(queueName: string): Promise<void> {
    const { adapter, knex, events } = this.parts;
    events.enqueued(queueName);
    const notify = adapter.notify?.bind(adapter);
    if (notify) await this.run('queueAnnounceFinished', () => notify(knex, this.tableNames, 'queue', queueName));
  }
}
