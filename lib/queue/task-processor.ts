/**
 * Processing for a store: checks that a claimed item still holds its claim, finds its
 * definition (read once and shared briefly) and its handler, and hands it to the executor.
 * Also runs a handler directly, outside the queue (the CLI's `run`).
 */
import { FinishBatcher } from './finish-batcher.js';
import { executeTask, type ExecutionResult, type ExecutorDependencies } from './task-executor.js';
import { ClaimLostError, TaskStoreError, notFound } from '../foundation/errors.js';
import type { HandlerRegistry } from '../definitions/handler-registry.js';
import { snoozeMarker, type TaskContext } from '../definitions/handler.js';
import type { LostClaim } from '../store/store-events.js';
import { checkProgress } from './progress-writer.js';
import type { PayloadLimits } from '../foundation/limits.js';
import { paramAsString, withTaskAlias } from '../foundation/params.js';
import type { TaskDefinitions } from '../definitions/task-definitions.js';
import type { Finish, QueueLeases } from './queue-leases.js';
import type { OutcomeMetric, QueueMetrics } from './queue-metrics.js';
import type { ParentOutput } from '../foundation/flow-types.js';
import type { JsonObject, Logger, TaskDefinition, TaskQueueItem } from '../foundation/types.js';
import { assertNonEmptyString, assertPlainObject, assertTimerDuration } from '../foundation/validate.js';
import type { ProcessThroughHooks } from '../store/store-hooks.js';

/** The metric an attempt's outcome counts under; a snooze or a lost claim ended nothing. */
const METRIC_OF: Readonly<Record<ExecutionResult['outcome']['status'], OutcomeMetric | null>> = {
  success: 'success',
  failed: 'failed',
  canceled: 'canceled',
  retry: 'retried',
  snoozed: null,
  lost: null,
};

/** How long a definition read for processing is reused before it is read again. */
const DEFINITION_CACHE_MS = 2000;
/** How long after a claim its lease is trusted without asking the database again. */
const FRESH_CLAIM_MS = 250;

export interface ProcessOptions {
  /** Aborts the handler's ctx.signal. */
  signal?: AbortSignal;
  /** Overrides the store's heartbeatIntervalMs for this run; 0 = no per-item heartbeat. */
  heartbeatIntervalMs?: number;
  /** Called once the handler settled, before the final write. */
  onHandlerDone?: () => void;
  /** Batch this final write with others alike (one UPDATE for a burst of successes). */
  batchFinish?: boolean;
}

/** What `taskQueueExecute` takes: ProcessOptions, plus what a TaskQueueRunner passes on of its own options. */
export interface ExecuteItemOptions extends ProcessOptions {
  /**
   * A success deletes the item's row (guarded by its claim, like every final write) instead of
   * writing status 'success': TaskQueueRunner's `removeOnSuccess`. Never applies to a flow
   * step (an item with a flowId), whose row its children read.
   * @defaultValue false
   */
  removeOnSuccess?: boolean;
}

export interface TaskProcessorParts {
  readonly leases: QueueLeases;
  readonly metrics: QueueMetrics;
  readonly definitions: TaskDefinitions;
  readonly handlers: HandlerRegistry;
  readonly logger: Logger;
  readonly limits: PayloadLimits;
  readonly heartbeatIntervalMs: number;
  /** Subscribes to lost claims (StoreEvents.onClaimLost): the runs they belong to are aborted. */
  onClaimLost(listener: (lost: LostClaim) => void): () => void;
  /** Flow steps (lib/flows/flow-steps.ts): their final write releases their children; they read their parents' outputs. */
  readonly flowSteps?: FlowStepFinish;
  /** The store's hooks around each task's processing (TaskStore.open `hooks`); null when none. */
  readonly processHook?: ProcessThroughHooks | null;
}

/** What the processor needs of flows: items with a flowId finish through `finish`, never the batched write of plain tasks. */
export interface FlowStepFinish {
  finish(item: TaskQueueItem, finish: Finish): Promise<boolean>;
  parentOutputs(item: TaskQueueItem): Promise<Readonly<Record<string, ParentOutput>>>;
}

export class TaskProcessor {
  readonly #parts: TaskProcessorParts;
  readonly #executor: ExecutorDependencies;
  readonly #batcher: FinishBatcher;
  readonly #definitionCache = new Map<string, { definition: Promise<TaskDefinition | null>; at: number }>();
  /** When this store claimed an item it has not processed yet; a claim this fresh needs no check. */
  readonly #claimedAt = new WeakMap<TaskQueueItem, number>();
  /** The runs of this store in flight, by item id: a lost claim aborts its run's ctx.signal. */
  readonly #running = new Map<string, { token: string | null; abort: (reason: ClaimLostError) => void }>();

  constructor(parts: TaskProcessorParts) {
    this.#parts = parts;
    parts.onClaimLost((lost) => {
      const run = this.#running.get(lost.id);
      if (run && run.token === lost.claimToken) run.abort(new ClaimLostError(lost.id, lost.reason));
    });
    this.#batcher = new FinishBatcher(parts.leases, parts.logger);
    this.#executor = {
      leases: parts.leases,
      logger: parts.logger,
      limits: parts.limits,
      findDefinition: (id) => this.#cachedDefinition(id),
      findHandler: (alias) => parts.handlers.find(alias),
      now: () => new Date(),
      track: (item, abort) => {
        const run = { token: item.claimToken, abort };
        this.#running.set(item.id, run);
        return () => {
          if (this.#running.get(item.id) === run) this.#running.delete(item.id);
        };
      },
      parentOutputs: parts.flowSteps ? (item) => (parts.flowSteps as FlowStepFinish).parentOutputs(item) : undefined,
    };
  }

  /** Remembers when these items were claimed, so processing them at once skips the lease check. */
  noteClaimed(items: readonly TaskQueueItem[]): void {
    const at = Date.now();
    for (const item of items) this.#claimedAt.set(item, at);
  }

  /**
   * Runs one item: a queued item is claimed first; a running one must still hold its claim.
   * Returns how the attempt ended, or null when the claim was lost and the handler not run.
   */
  async execute(item: TaskQueueItem, options: ExecuteItemOptions): Promise<ExecutionResult | null> {
    assertPlainObject(item, 'item');
    assertNonEmptyString(item.id, 'item.id');
    if (options.heartbeatIntervalMs !== undefined) {
      assertTimerDuration(options.heartbeatIntervalMs, 'heartbeatIntervalMs', 1, { allowZero: true });
    }
    const { leases, logger } = this.#parts;
    let claimed: TaskQueueItem | null = item;
    if (item.status === 'queued') {
      claimed = await leases.claimById(item.id);
      if (!claimed) throw new TaskStoreError('INVALID_STATE', `task queue item '${item.id}' is no longer queued`);
    } else if (item.status !== 'running' || !item.claimToken) {
      throw new TaskStoreError(
        'INVALID_STATE',
        `task queue item '${item.id}' is ${item.status}; only queued or claimed items can be processed`,
      );
    } else if (!this.#isFreshClaim(item) && (await leases.heartbeat([item])) === 0) {
      logger.warn(`task ${item.id} no longer holds its claim; not processing it`);
      return null;
    }
    this.#claimedAt.delete(item);
    const execute = this.#parts.processHook ? this.#executeHooked : executeTask;
    const isStep = claimed.flowId !== null;
    const result = await execute(this.#executor, claimed, {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? this.#parts.heartbeatIntervalMs,
      signal: options.signal,
      onHandlerDone: options.onHandlerDone,
      finish: isStep && this.#parts.flowSteps ? this.#parts.flowSteps.finish : options.batchFinish ? this.#batcher.write : undefined,
      // Batched or not, the final write goes through QueueLeases.finishMany, which deletes instead.
      removeOnSuccess: options.removeOnSuccess === true && !isStep,
    });
    const metric = METRIC_OF[result.outcome.status];
    if (result.recorded && metric) this.#parts.metrics.record(claimed, metric);
    return result;
  }

  /** Runs a registered handler outside the queue: ctx.task is null, log lines go to the logger. */
  async runDirectly(alias: string, params: JsonObject, signal: AbortSignal | undefined): Promise<boolean> {
    assertNonEmptyString(alias, 'alias', 100);
    assertPlainObject(params, 'params');
    const handler = this.#parts.handlers.find(alias);
    if (!handler) throw notFound(`no handler registered for alias '${alias}'`);
    const logger = this.#parts.logger;
    let output = '';
    const withAlias = withTaskAlias(params, handler.alias);
    const context: TaskContext = Object.freeze({
      params: withAlias,
      getParam: (key: string) => paramAsString(withAlias, key),
      logInfo: async (message: string) => logger.info(message),
      logError: async (message: string) => logger.error(message),
      logSuccess: async (message: string) => logger.info(message),
      setOutput: (text: string) => {
        output = String(text);
      },
      // Outside the queue there is no row: progress is checked and logged; a snooze is a success.
      setProgress: (percent: number, data?: unknown) => {
        const value = checkProgress(percent, data);
        logger.debug(`${handler.alias} progress: ${value.percent}%${value.data === null ? '' : ` ${value.data}`}`);
      },
      snooze: (ms: number) => snoozeMarker(ms),
      signal: signal ?? new AbortController().signal,
      attempt: 1,
      task: null,
      hasQueuedTask: () => false,
      parentOutputs: {},
    });
    try {
      const result = await handler.handle(context);
      if (output !== '') logger.info(output);
      return result !== false;
    } catch (error) {
      logger.error(`${handler.alias} failed: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  /** executeTask inside the store's hooks, which see the item and its alias (the definition read is the executor's, cached). */
  readonly #executeHooked: typeof executeTask = async (deps, item, options) => {
    const alias = (await this.#cachedDefinition(item.taskId))?.alias ?? '';
    return (this.#parts.processHook as ProcessThroughHooks)({ item, alias }, () => executeTask(deps, item, options));
  };

  /** Local writes to definitions make the next processing read them again. */
  forgetDefinitions(): void {
    this.#definitionCache.clear();
  }

  /** Claimed by this store moments ago: no sweep can have taken it back yet. */
  #isFreshClaim(item: TaskQueueItem): boolean {
    const at = this.#claimedAt.get(item);
    return at !== undefined && Date.now() - at < FRESH_CLAIM_MS;
  }

  /** Definitions read for processing, shared by concurrent lookups and reused briefly. */
  #cachedDefinition(id: string): Promise<TaskDefinition | null> {
    const cached = this.#definitionCache.get(id);
    if (cached && Date.now() - cached.at < DEFINITION_CACHE_MS) return cached.definition;
    const definition = this.#parts.definitions.findById(id);
    this.#definitionCache.set(id, { definition, at: Date.now() });
    definition.catch(() => this.#definitionCache.delete(id));
    return definition;
  }
}
