/**
 * Enqueueing a flow: the whole graph checked first (flow-graph.ts), every alias looked up,
 * then the flow row, one queue row per step (queued when it has no parents, else waiting)
 * and one dependency row per edge written in one transaction (the caller's, when given), or
 * nothing. Runners are told once the rows are visible (after the caller's commit).
 */
import type { Knex } from 'knex';
import { TaskStoreError, invalidArgument, notFound } from '../foundation/errors.js';
import {
  dependencyTable,
  flowTable,
  type BatchEnqueueInput,
  type FlowEnqueueOptions,
  type FlowEnqueueResult,
  type FlowStepInput,
} from '../foundation/flow-types.js';
import { newId } from '../foundation/ids.js';
import { encodeParameters } from '../foundation/params.js';
import type { TaskDefinition, TaskQueueItem } from '../foundation/types.js';
import { assertKnownKeys, assertPlainObject } from '../foundation/validate.js';
import type { TaskDefinitions } from '../definitions/task-definitions.js';
import { validateEnqueueOptions } from '../queue/enqueue.js';
import { newQueueRow, queueItemFromRow, type NewQueueRow } from '../queue/queue-rows.js';
import type { TaskQueue } from '../queue/task-queue.js';
import type { StoreContext } from '../store/store-context.js';
import { checkFlow, type FlowStep } from './flow-graph.js';
import { announceAfter } from './flow-steps.js';

/** The flow columns of a step's queue row (migration 006). */
interface FlowColumns {
  flow_id: string;
  flow_key: string;
  waiting_parents: number;
  failed_parents: number;
  on_parent_failure: string;
}

/** The key of a batch's completion step. */
export const ON_COMPLETE_KEY = 'onComplete';

export class FlowEnqueuer {
  readonly #ctx: StoreContext;
  readonly #definitions: TaskDefinitions;
  readonly #queue: TaskQueue;
  readonly #announce: (queueName: string) => void;

  constructor(context: StoreContext, definitions: TaskDefinitions, queue: TaskQueue, announce: (queueName: string) => void) {
    this.#ctx = context;
    this.#definitions = definitions;
    this.#queue = queue;
    this.#announce = announce;
  }

  /** `flowEnqueue`: all steps or none. */
  async enqueue(action: string, input: unknown, options?: FlowEnqueueOptions): Promise<FlowEnqueueResult> {
    const { queueName, steps } = checkFlow(input, `${action}: flow`);
    const transaction = checkOptions(options, `${action}: options`);
    const definitions = await this.#findDefinitions(steps, transaction);
    const now = this.#ctx.now();
    const flowId = newId();
    const maxBytes = this.#ctx.limits.maxParametersBytes;
    const rows = steps.map((step): NewQueueRow & FlowColumns => {
      const definition = definitions.get(step.alias) as TaskDefinition;
      return {
        ...newQueueRow({
          taskId: definition.id,
          queueName: step.queueName,
          status: step.dependsOn.length === 0 ? 'queued' : 'waiting',
          parameters: encodeParameters(step.params, `${step.where}.params`, maxBytes, { task_alias: definition.alias }),
          maxAttempts: step.maxAttempts ?? definition.maxAttempts,
          priority: step.priority,
          availableAt: step.runAt ?? new Date(now.getTime() + (step.delayMs ?? 0)),
          uniqueKey: null,
          now,
        }),
        flow_id: flowId,
        flow_key: step.key,
        waiting_parents: step.dependsOn.length,
        failed_parents: 0,
        on_parent_failure: step.onParentFailure,
      };
    });
    const idOf = new Map(rows.map((row) => [row.flow_key, row.id]));
    const edges = steps.flatMap((step) =>
      step.dependsOn.map((parent) => ({ child_id: idOf.get(step.key) as string, parent_id: idOf.get(parent) as string, resolved: false })),
    );
    const write = async (trx: Knex.Transaction) => {
      await trx(flowTable(this.#ctx.tables.taskQueue)).insert({
        id: flowId,
        queue_name: queueName,
        step_count: rows.length,
        created_at: now,
      });
      await this.#queue.insert(rows, trx);
      const table = dependencyTable(this.#ctx.tables.taskQueue);
      for (let start = 0; start < edges.length; start += 500) await trx(table).insert(edges.slice(start, start + 500));
    };
    const store = async (traceContext: string | null): Promise<FlowEnqueueResult> => {
      for (const row of rows) row.trace_context = traceContext;
      // A savepoint inside the caller's transaction: a failure leaves it usable.
      if (transaction) await transaction.transaction(write);
      else await this.#ctx.knex.transaction(write);
      const due = new Set(rows.filter((row) => row.status === 'queued').map((row) => row.queue_name));
      announceAfter(transaction, due, this.#announce);
      const items: Record<string, TaskQueueItem> = {};
      for (const row of rows) items[row.flow_key] = { ...queueItemFromRow(row), flowId, flowKey: row.flow_key };
      return { id: flowId, items };
    };
    const hook = this.#ctx.hooks.enqueue;
    if (!hook) return store(null);
    return hook({ queueName, alias: null, count: rows.length }, store, (flow) => Object.values(flow.items));
  }

  /** `batchEnqueue`: the tasks, and a completion step that depends on all of them and runs however they ended. */
  batch(action: string, input: unknown, options?: FlowEnqueueOptions): Promise<FlowEnqueueResult> {
    const name = `${action}: batch`;
    assertPlainObject(input, name);
    assertKnownKeys(input, ['queueName', 'tasks', 'onComplete'], name);
    const batch = input as unknown as BatchEnqueueInput;
    if (!Array.isArray(batch.tasks) || batch.tasks.length === 0) throw invalidArgument(`${name}.tasks must be a non-empty array`);
    assertPlainObject(batch.onComplete, `${name}.onComplete`);
    const tasks = Array.from(batch.tasks, (task, index): FlowStepInput => {
      assertPlainObject(task, `${name}.tasks[${index}]`);
      for (const key of ['dependsOn', 'onParentFailure']) {
        if (key in task) throw invalidArgument(`${name}.tasks[${index}]: a batch task takes no ${key}`);
      }
      return { ...task, key: task.key ?? `task-${index}` } as FlowStepInput;
    });
    for (const key of ['key', 'dependsOn', 'onParentFailure']) {
      if (key in batch.onComplete)
        throw invalidArgument(`${name}.onComplete takes no ${key}: it is '${ON_COMPLETE_KEY}', after every task`);
    }
    const onComplete: FlowStepInput = {
      ...batch.onComplete,
      key: ON_COMPLETE_KEY,
      dependsOn: tasks.map((task) => task.key),
      onParentFailure: 'run',
    };
    const flow =
      batch.queueName === undefined ? { steps: [...tasks, onComplete] } : { queueName: batch.queueName, steps: [...tasks, onComplete] };
    return this.enqueue(action, flow, options);
  }

  /** Each alias once; unknown → NOT_FOUND, not active → INVALID_STATE, before anything is written. */
  async #findDefinitions(steps: readonly FlowStep[], trx: Knex.Transaction | undefined): Promise<Map<string, TaskDefinition>> {
    const found = new Map<string, TaskDefinition>();
    for (const step of steps) {
      if (found.has(step.alias)) continue;
      const definition = await this.#definitions.findByAlias(step.alias, trx);
      if (!definition) throw notFound(`${step.where}: no task definition with alias '${step.alias}'`);
      if (definition.status !== 'active') {
        throw new TaskStoreError('INVALID_STATE', `task definition '${definition.alias}' is ${definition.status}; activate it to enqueue`);
      }
      found.set(step.alias, definition);
    }
    return found;
  }
}

function checkOptions(options: FlowEnqueueOptions | undefined, name: string): Knex.Transaction | undefined {
  if (options === undefined) return undefined;
  assertPlainObject(options, name);
  assertKnownKeys(options, ['transaction'], name);
  return validateEnqueueOptions(options, name).transaction;
}
