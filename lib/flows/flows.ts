/**
 * Reading and canceling flows: a flow with its steps by key, its dependencies and its status
 * (derived from the steps' statuses on each read, so it never lags), and the cancel of every
 * step that has not started.
 */
import { formatDetailsLine } from '../foundation/details.js';
import { notFound } from '../foundation/errors.js';
import { dependencyTable, flowTable, type Flow, type FlowStatus } from '../foundation/flow-types.js';
import type { TaskQueueItem, TaskStatus } from '../foundation/types.js';
import { assertNonEmptyString } from '../foundation/validate.js';
import { toDate, toTaskQueueItem } from '../store/rows.js';
import type { StoreContext } from '../store/store-context.js';

/** Statuses of a step that has not ended. */
const UNFINISHED: readonly TaskStatus[] = ['waiting', 'queued', 'running', 'paused'];
/** Statuses `flowCancelById` ends at once; running steps finish. */
const CANCELABLE: readonly TaskStatus[] = ['waiting', 'queued', 'paused'];

/** running while any step has not ended; then failed if any failed, canceled if any was canceled, else succeeded. */
export function flowStatus(statuses: readonly TaskStatus[]): FlowStatus {
  if (statuses.some((status) => UNFINISHED.includes(status))) return 'running';
  if (statuses.includes('failed')) return 'failed';
  if (statuses.includes('canceled')) return 'canceled';
  return 'succeeded';
}

export class Flows {
  readonly #ctx: StoreContext;

  constructor(context: StoreContext) {
    this.#ctx = context;
  }

  /** The flow with its live steps (soft-deleted steps are left out), or null when there is no such flow. */
  async findById(id: string): Promise<Flow | null> {
    assertNonEmptyString(id, 'id');
    const { knex, tables } = this.#ctx;
    const row = (await knex(flowTable(tables.taskQueue)).where({ id }).first()) as Record<string, unknown> | undefined;
    if (!row) return null;
    const steps = (await knex(tables.taskQueue).where({ flow_id: id }).whereNull('soft_deleted_at').orderBy('id')).map(toTaskQueueItem);
    const edges = (await knex(`${dependencyTable(tables.taskQueue)} as d`)
      .join(`${tables.taskQueue} as c`, 'c.id', 'd.child_id')
      .join(`${tables.taskQueue} as p`, 'p.id', 'd.parent_id')
      .where('c.flow_id', id)
      .orderBy(['c.id', 'p.id'])
      .select({ child: 'c.flow_key', parent: 'p.flow_key' })) as { child: string; parent: string }[];
    const items: Record<string, TaskQueueItem> = {};
    const dependsOn: Record<string, string[]> = {};
    for (const step of steps) {
      const key = step.flowKey ?? step.id;
      items[key] = step;
      dependsOn[key] = [];
    }
    for (const edge of edges) dependsOn[edge.child]?.push(edge.parent);
    return {
      id: String(row['id']),
      queueName: String(row['queue_name']),
      status: flowStatus(steps.map((step) => step.status)),
      createdAt: toDate(row['created_at']),
      items,
      dependsOn,
    };
  }

  /**
   * Cancels every step of the flow that has not started (waiting, queued, paused) in one
   * statement; running steps finish (their children, canceled here, stay canceled). Resolves
   * the flow as it is then. Unknown flow → NOT_FOUND.
   */
  async cancelById(id: string): Promise<Flow> {
    assertNonEmptyString(id, 'id');
    const { knex, adapter, tables } = this.#ctx;
    if (!(await knex(flowTable(tables.taskQueue)).where({ id }).first('id'))) throw notFound(`flow '${id}' not found`);
    const now = this.#ctx.now();
    await knex(tables.taskQueue)
      .where({ flow_id: id })
      .whereIn('status', CANCELABLE)
      .update({
        status: 'canceled',
        completed_at: now,
        updated_at: now,
        unique_key_active: null,
        details: adapter.appendLine(knex, 'details', formatDetailsLine('Task canceled (flow canceled)', now)),
      });
    return (await this.findById(id)) as Flow;
  }
}
