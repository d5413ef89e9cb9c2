/** The public shapes of queue settings: pause, concurrency and rate limits (re-exported by types.ts). */
/** At most `count` starts in any `periodMs` milliseconds (a sliding window of starts). */
export interface RateLimit {
  count: number;
  periodMs: number;
}

/** A queue's cluster-wide settings. A queue without a settings row has the defaults (nothing limited, updatedAt null). */
export interface QueueSettings {
  queueName: string;
  /** No runner claims from a paused queue; running tasks finish. */
  paused: boolean;
  /** At most this many tasks of the queue run at once across all runners; null = no limit. */
  concurrency: number | null;
  /** At most this many tasks of one group run at once; null = no limit. */
  groupConcurrency: number | null;
  /** Starts per period across all runners; null = no limit. */
  rateLimit: RateLimit | null;
  /** Starts per period of one group; null = no limit. */
  groupRateLimit: RateLimit | null;
  /** The last write of the settings; null when the queue has never had any. */
  updatedAt: Date | null;
}

/** `queueConfigure(queueName, input)`: keys not given are left as they are; null removes a limit. */
export interface QueueConfigureInput {
  concurrency?: number | null;
  groupConcurrency?: number | null;
  rateLimit?: RateLimit | null;
  groupRateLimit?: RateLimit | null;
}
