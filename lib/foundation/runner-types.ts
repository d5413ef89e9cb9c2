/** The runners registry (docs/runners.md, "The runners registry"): what a started runner writes, and what runnerList answers. */

export const RUNNER_KINDS = ['queue', 'schedule'] as const;
/** 'queue': a TaskQueueRunner; 'schedule': a ScheduleRunner. */
export type RunnerKind = (typeof RUNNER_KINDS)[number];

/** One started runner, as it was when it last wrote its row. */
export interface RunnerInfo {
  /** A new UUIDv7 each time the runner starts. */
  id: string;
  kind: RunnerKind;
  /** The queue a TaskQueueRunner works; null for a ScheduleRunner. */
  queueName: string | null;
  /** The machine's host name (os.hostname()). */
  host: string;
  /** The process id on that host. */
  pid: number;
  /** maxConcurrency of a TaskQueueRunner; null for a ScheduleRunner. */
  concurrency: number | null;
  /** prefetch of a TaskQueueRunner; null for a ScheduleRunner. */
  prefetch: number | null;
  /** The runner's poll interval (intervalSeconds) in milliseconds. */
  pollIntervalMs: number;
  /** Handlers running (a TaskQueueRunner) or passes in flight (a ScheduleRunner) at the last heartbeat. */
  activeCount: number;
  /** When the runner started (the runner's clock). */
  startedAt: Date;
  /** The last heartbeat (the database's clock where it has one). */
  lastSeenAt: Date;
}

/** What a runner writes at start and with every heartbeat (runnerHeartbeat). */
export type RunnerHeartbeatInput = Omit<RunnerInfo, 'lastSeenAt'>;

export interface RunnerListOptions {
  /**
   * A runner not seen for longer than this many milliseconds is stale: not listed.
   * @defaultValue three times the store's runnerHeartbeatIntervalMs (30 s by default)
   */
  staleAfterMs?: number;
  /** Only the runners of this kind. */
  kind?: RunnerKind;
  /** Only the TaskQueueRunners of this queue ('' is the default queue). */
  queueName?: string;
}
