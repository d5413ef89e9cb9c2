/**
 * The parts a TaskStore is made of, built once over one store context: the database and its
 * adapter, the announcements runners listen to, the definitions and handlers, the queue with
 * its leases, enqueueing, maintenance and processing, and the schedules with their firing.
 */
import type { Knex } from 'knex';
import { resolveDatabase } from '../../adapters/index.js';
import type { Adapter } from '../../adapters/adapter.js';
import { migrateDown, migrateUp } from '../../migrations/index.js';
import { assertLimitsFit } from '../foundation/limits.js';
import { HandlerRegistry } from '../definitions/handler-registry.js';
import { TaskDefinitions } from '../definitions/task-definitions.js';
import { Enqueuer } from '../queue/enqueue.js';
import { KeyedEnqueue } from '../queue/keyed-enqueue.js';
import { QueueClaims } from '../queue/queue-claims.js';
import { QueueInsights } from '../queue/queue-insights.js';
import { QueueLeases } from '../queue/queue-leases.js';
import { QueueMetrics } from '../queue/queue-metrics.js';
import { QueueSettingsStore } from '../queue/queue-settings.js';
import { TaskProcessor } from '../queue/task-processor.js';
import { TaskCancel } from '../queue/task-cancel.js';
import { TaskQueueMaintenance } from '../queue/task-queue-maintenance.js';
import { TaskTransitions } from '../queue/task-transitions.js';
import { TaskBulk } from '../queue/task-bulk.js';
import { TaskQueue } from '../queue/task-queue.js';
import { FlowEnqueuer } from '../flows/flow-enqueue.js';
import { FlowSteps } from '../flows/flow-steps.js';
import { Flows } from '../flows/flows.js';
import { ScheduleFiring } from '../schedules/schedule-firing.js';
import { Schedules } from '../schedules/schedules.js';
import { RunnerRegistry } from './runner-registry.js';
import type { StoreContext } from './store-context.js';
import { chainHooks, type StoreHooks } from './store-hooks.js';
import { StoreEvents, type LostClaim } from './store-events.js';
import type { ResolvedTaskStoreOptions } from './store-options.js';

export interface StoreParts {
  /** Checks the connection, and that the size limits fit the server (MySQL's max_allowed_packet). */
  connect(): Promise<void>;
  /** The schema steps, run without statement deadlines (a table rebuild may take minutes). */
  readonly migrations: { up(): Promise<string[]>; down(): Promise<void> };
  readonly knex: Knex;
  readonly adapter: Adapter;
  /** True when taskstore created the Knex instance and so must destroy it on close. */
  readonly ownsKnex: boolean;
  readonly events: StoreEvents;
  /** The hooks of TaskStore.open, chained (told when the store opens and closes). */
  readonly hooks: StoreHooks;
  readonly definitions: TaskDefinitions;
  readonly handlers: HandlerRegistry;
  readonly queue: TaskQueue;
  readonly leases: QueueLeases;
  readonly queueSettings: QueueSettingsStore;
  readonly claims: QueueClaims;
  readonly enqueuer: Enqueuer;
  readonly maintenance: TaskQueueMaintenance;
  /** Requeue, cancel and run now of tasks that are not running, by id or many at once. */
  readonly transitions: TaskTransitions;
  readonly cancel: TaskCancel;
  /** The bulk actions on a filtered set of tasks. */
  readonly bulk: TaskBulk;
  readonly processor: TaskProcessor;
  readonly metrics: QueueMetrics;
  readonly insights: QueueInsights;
  readonly schedules: Schedules;
  readonly firing: ScheduleFiring;
  /** Flows (lib/flows/): enqueueing them, reading and canceling them, and their steps' finishing writes. */
  readonly flows: { readonly enqueuer: FlowEnqueuer; readonly reader: Flows; readonly steps: FlowSteps };
  /** The runners registry: started runners' rows (docs/runners.md). */
  readonly runners: RunnerRegistry;
}

export function buildStoreParts(options: ResolvedTaskStoreOptions): StoreParts {
  const { knex, adapter, owned } = resolveDatabase(options.database, options.connection, options.logger);
  const context: StoreContext = {
    knex,
    adapter,
    tables: options.tables,
    logger: options.logger,
    asyncStateCommits: adapter.capabilities.asyncCommit && !options.synchronousStateWrites,
    preparedSessions: owned,
    limits: options.limits,
    hooks: chainHooks(options.hooks),
    now: () => new Date(),
  };
  const events = new StoreEvents(context);
  const announce = (queueName: string) => events.enqueued(queueName);
  const claimLost = (lost: LostClaim) => events.claimLost(lost);
  // Local writes to definitions make processing read them again at once.
  const definitions = new TaskDefinitions(context, () => processor.forgetDefinitions());
  const handlers = new HandlerRegistry();
  const queue = new TaskQueue(context, announce);
  const leases = new QueueLeases(context, queue, announce, claimLost);
  const flowSteps = new FlowSteps(context, leases, announce);
  const maintenance = new TaskQueueMaintenance(context, queue, announce, flowSteps);
  const transitions = new TaskTransitions(context, queue, announce, flowSteps);
  const cancel = new TaskCancel(context, queue, transitions, claimLost, flowSteps);
  const metrics = new QueueMetrics(context, options.metricsIntervalMs);
  const processor = new TaskProcessor({
    metrics,
    leases,
    definitions,
    handlers,
    logger: options.logger,
    limits: context.limits,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    processHook: context.hooks.process,
    onClaimLost: (listener) => events.onClaimLost(listener),
    flowSteps,
  });
  const insights = new QueueInsights(context, queue, metrics);
  const queueSettings = new QueueSettingsStore(
    context,
    (options) => insights.countsByQueue(options),
    (queueName) => events.settingsChanged(queueName),
  );
  const { tables, connection } = options;
  return {
    connect: async () => {
      await knex.raw('SELECT 1');
      // Limits a MySQL server's max_allowed_packet cannot hold are refused here, not at the first big write.
      assertLimitsFit(options.limits, await adapter.maxStatementBytes(knex));
    },
    migrations: {
      up: () => connection.deadlines.suspendedDuring(() => migrateUp(knex, adapter, tables)),
      down: () => connection.deadlines.suspendedDuring(() => migrateDown(knex, adapter, tables)),
    },
    knex,
    adapter,
    ownsKnex: owned,
    events,
    hooks: context.hooks,
    definitions,
    handlers,
    queue,
    leases,
    queueSettings,
    claims: new QueueClaims(context, leases, queueSettings),
    enqueuer: new Enqueuer({
      definitions,
      queue,
      events,
      limits: context.limits,
      keyed: new KeyedEnqueue(context, queue),
      enqueueHook: context.hooks.enqueue,
      now: context.now,
    }),
    maintenance,
    transitions,
    cancel,
    bulk: new TaskBulk(context, queue, transitions, cancel),
    processor,
    metrics,
    insights,
    schedules: new Schedules(context, definitions, () => events.schedulesChanged()),
    firing: new ScheduleFiring(context, definitions),
    flows: { enqueuer: new FlowEnqueuer(context, definitions, queue, announce), reader: new Flows(context), steps: flowSteps },
    runners: new RunnerRegistry(context, options.runnerHeartbeatIntervalMs),
  };
}
