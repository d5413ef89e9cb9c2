/**
 * A runner's view of its queue's settings (docs/flow-control.md): read at start, read again on
 * every settings change (here or, through the change feed, in another process) and with every
 * claim that comes back empty. It picks the claim (the limited one for a queue with settings),
 * gives back the prefetch when the queue is paused, and tells the idle runner how long to sleep
 * when due work was held back: until the rate limit's next start, or until a slot frees.
 */
import { isGated } from '../lib/queue/queue-settings.js';
import type { TaskStore } from '../lib/task-store.js';
import type { QueueSettings, TaskQueueItem } from '../lib/foundation/types.js';

/** Where no finish of another process reaches the change feed (MySQL): how often a runner waiting on a full limit looks again. */
export const FULL_POLL_MS = 100;
/** Timers may fire a little early: wake this long after a due time. */
const WAKE_MARGIN_MS = 2;
const MIN_WAIT_MS = 10;

export interface QueueGateHooks {
  /** Wakes the runner's loop. */
  wake(): void;
  /** The queue was paused: give back what was claimed ahead and not started. */
  releasePrefetch(): void;
  onError(error: unknown): void;
}

export class QueueGate {
  readonly #store: TaskStore;
  readonly #queueName: string;
  readonly #pollIntervalMs: number;
  readonly #hooks: QueueGateHooks;
  #settings: QueueSettings | null = null;
  /** When the rate limit lets the next start through (epoch ms), as the last claim said. */
  #nextStartAt: number | null = null;
  /** The last claim was held back by a full concurrency limit. */
  #full = false;
  #announcing: Promise<void> | null = null;
  #announceAgain = false;
  /** An announcement waits for the end of this turn: finishes until then need no other. */
  #announceScheduled = false;

  constructor(store: TaskStore, options: { queueName: string; pollIntervalMs: number }, hooks: QueueGateHooks) {
    this.#store = store;
    this.#queueName = options.queueName;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#hooks = hooks;
  }

  /** Listens for enqueues and settings changes of the queue (here and in other processes); returns the unsubscribe. */
  start(): () => void {
    const mine = (queue: string) => queue === this.#queueName || queue === '*';
    const offEnqueued = this.#store.onEnqueued((queue) => {
      if (mine(queue)) this.#hooks.wake();
    });
    const offSettings = this.#store.onQueueSettingsChanged((queue) => {
      if (mine(queue)) void this.#refresh();
    });
    void this.#refresh();
    return () => {
      offEnqueued();
      offSettings();
    };
  }

  get paused(): boolean {
    return this.#settings?.paused === true;
  }

  /**
   * A concurrency limit (the queue's or a group's) counts a task as running until its final
   * write lands, except in its own runner's claims, which pass their settled tasks (handler
   * returned, write on its way) to be left out of the count. The runner tells the loop about
   * each landed write: for other runners that is what frees the slot.
   */
  get limitsConcurrency(): boolean {
    return this.#settings !== null && (this.#settings.concurrency !== null || this.#settings.groupConcurrency !== null);
  }

  /**
   * How many more items a claim of this runner can usefully ask for, with `held` of the queue's
   * running slots taken by this runner (claimed and not yet finished, prefetched, or being
   * claimed): the queue's concurrency limit less those. Other runners may hold the rest, so a
   * claim can still come back short; but one never asks for slots this runner itself fills.
   */
  room(held: number): number {
    const limit = this.#settings?.concurrency ?? null;
    return limit === null || this.paused ? Infinity : Math.max(0, limit - held);
  }

  /**
   * Whether the idle runner must read when the queue's next item is due. Not while the last
   * claim found the concurrency limit full: due work is waiting, and a finish (here, or in
   * another process through the change feed) or the poll wakes the runner, so reading the
   * queue's earliest due time on every idle turn would only scan its queued rows.
   */
  get needsDueRead(): boolean {
    return !this.#full || this.paused;
  }

  /**
   * Claims up to `limit` items: the fast claim, or the limited one when the queue has settings.
   * `settled`: this runner's items whose handlers returned and whose writes have not landed,
   * asked for only by a limited claim (the fast claim counts nothing).
   */
  async claim(limit: number, settled: () => readonly TaskQueueItem[]): Promise<TaskQueueItem[]> {
    const limited = this.#settings !== null && isGated(this.#settings);
    const claim = await this.#store.queueClaim(this.#queueName, limit, limited ? { limited, settled: settled() } : { limited });
    if (claim.settings) this.#learn(claim.settings);
    this.#nextStartAt = claim.waitMs === null ? null : Date.now() + claim.waitMs;
    this.#full = claim.full;
    return claim.items;
  }

  /**
   * How long the idle runner sleeps: `dueWaitMs` (until the next queued item is due), unless
   * the queue is paused (the poll interval: a resume wakes it) or due work was held back by a
   * limit (until the next allowed start, or until a slot frees).
   */
  idleWaitMs(nextDueAt: Date | null, dueWaitMs: number): number {
    if (this.paused) return this.#pollIntervalMs;
    const rateWaitMs = this.#nextStartAt === null ? null : Math.max(MIN_WAIT_MS, this.#nextStartAt - Date.now() + WAKE_MARGIN_MS);
    if (this.#full) {
      // The due time was not read (see needsDueRead): a finish wakes the runner where it reaches
      // the change feed, elsewhere a short poll; or the rate limit's next start, if sooner.
      const slotWaitMs = this.#store.capabilities.finishWakes ? this.#pollIntervalMs : Math.min(this.#pollIntervalMs, FULL_POLL_MS);
      return rateWaitMs === null ? slotWaitMs : Math.min(slotWaitMs, rateWaitMs);
    }
    if (nextDueAt === null || nextDueAt.getTime() > Date.now()) return dueWaitMs;
    return Math.min(this.#pollIntervalMs, rateWaitMs ?? dueWaitMs);
  }

  /**
   * A task of the queue finished (its final write landed). With a concurrency limit, runners
   * waiting for a slot are told: here at once, in other processes through the database's
   * notifications (one announcement in flight at a time; finishes meanwhile make one more).
   */
  finished(): void {
    if (!this.limitsConcurrency || this.#announceScheduled) return;
    if (this.#announcing) {
      this.#announceAgain = true;
      return;
    }
    // The tasks of one finishing write all end in the same turn: one announcement, sent after
    // that turn, tells of them all.
    this.#announceScheduled = true;
    this.#announcing = new Promise<void>((next) => setImmediate(next))
      .then(() => {
        this.#announceScheduled = false;
        return this.#store.queueAnnounceFinished(this.#queueName);
      })
      .catch((error: unknown) => this.#hooks.onError(error))
      .finally(() => {
        this.#announcing = null;
        if (this.#announceAgain) {
          this.#announceAgain = false;
          this.finished();
        }
      });
  }

  async #refresh(): Promise<void> {
    try {
      this.#learn(await this.#store.queueSettings(this.#queueName));
    } catch (error) {
      this.#hooks.onError(error);
    }
    this.#hooks.wake();
  }

  #learn(settings: QueueSettings): void {
    const wasPaused = this.paused;
    this.#settings = settings;
    if (settings.paused && !wasPaused) this.#hooks.releasePrefetch();
  }
}
