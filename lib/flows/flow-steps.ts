/**
 * Flow steps on their way through the queue: the final write of a claimed step together with
 * its release (one transaction), what a step's handler reads of its parents
 * (`ctx.parentOutputs`), and the flow side of cancel and of the sweep. Tasks outside flows
 * never come here: their final writes stay the runner's batched UPDATE (finish-batcher.ts).
 */
import type { Knex } from 'knex';
import { retryTransient } from '../../adapters/adapter.js';
import { formatDetailsLine } from '../foundation/details.js';
import { TaskStoreError } from '../foundation/errors.js';
import { dependencyTable, type ParentOutput } from '../foundation/flow-types.js';
import type { TaskQueueItem, TaskStatus } from '../foundation/types.js';
import { FALLBACK_CHARACTERS, plainText, type Finish, type QueueLeases } from '../queue/queue-leases.js';
import type { FlowStepHooks, StaleStep } from '../queue/task-queue-maintenance.js';
import type { StoreContext } from '../store/store-context.js';
import { FlowRelease } from './flow-release.js';

/** What a step outside any flow sees: no parents, and no query to find that out. */
export const NO_PARENTS: Readonly<Record<string, ParentOutput>> = Object.freeze({});

export class FlowSteps implements FlowStepHooks {
  readonly #ctx: StoreContext;
  readonly #leases: QueueLeases;
  readonly #release: FlowRelease;
  readonly #announce: (queueName: string) => void;

  /** `announce` wakes this process's runners of a queue that got due steps (after the commit). */
  constructor(context: StoreContext, leases: QueueLeases, announce: (queueName: string) => void) {
    this.#ctx = context;
    this.#leases = leases;
    this.#release = new FlowRelease(context);
    this.#announce = announce;
  }

  /**
   * The final write of a claimed flow step: the guarded finish and the release of its
   * children in one transaction (none when the claim was lost: nothing is written). A retry
   * (status 'queued') releases nothing: it is the plain guarded write.
   */
  finish = async (item: TaskQueueItem, finish: Finish): Promise<boolean> => {
    if (finish.status === 'queued') return this.#leases.finish(item, finish);
    if (!item.claimToken) throw new TaskStoreError('INVALID_STATE', `task queue item '${item.id}' holds no claim`);
    const claimed = { id: item.id, token: item.claimToken };
    try {
      return await this.#finishAndRelease(claimed, finish);
    } catch (error) {
      // Refused for what it carried: the step must still end, so once more with content any database takes.
      if (!this.#ctx.adapter.isValueRejected(error)) throw error;
      this.#ctx.logger.warn(`the final write of flow step ${item.id} was refused for its content; writing it again cut down`, error);
      const reason = plainText(error instanceof Error ? error.message : String(error), 200);
      const note = formatDetailsLine(
        `Task result refused by the database (${reason}); stored with output and lines cut to ${FALLBACK_CHARACTERS} ASCII characters`,
      );
      return this.#finishAndRelease(claimed, {
        ...finish,
        output: plainText(finish.output, FALLBACK_CHARACTERS, true),
        lines: [note, ...finish.lines].map((line) => plainText(line, FALLBACK_CHARACTERS)),
      });
    }
  };

  /** One transaction, retried whole on a deadlock or lost connection: the token makes a second go write nothing twice. */
  async #finishAndRelease(claimed: { id: string; token: string }, finish: Exclude<Finish, { status: 'queued' }>): Promise<boolean> {
    const { knex, adapter, tables } = this.#ctx;
    const now = this.#ctx.now();
    const { recorded, queues } = await retryTransient(adapter, () =>
      knex.transaction(async (trx) => {
        const written = await adapter.finish(trx, tables.taskQueue, {
          items: [claimed],
          status: finish.status,
          // A step's row always stays: its children read its status and output (no removeOnSuccess here).
          remove: false,
          output: finish.output,
          details: finish.lines.join('\n'),
          availableAt: null,
          now,
          asyncCommit: this.#ctx.asyncStateCommits,
        });
        if (!written.has(claimed.id)) return { recorded: false, queues: new Set<string>() };
        const released = await this.#release.stepsEnded(trx, [{ id: claimed.id, succeeded: finish.status === 'success' }]);
        return { recorded: true, queues: released };
      }),
    );
    for (const queue of queues) this.#announce(queue);
    return recorded;
  }

  /**
   * Ends a step by `write` (a guarded write, such as a cancel of the running step) and, when it
   * changed the row, counts the end against its children as not succeeded: one transaction.
   */
  async endWith(id: string, write: (trx: Knex.Transaction) => Promise<boolean>): Promise<boolean> {
    const { ended, queues } = await this.#ctx.knex.transaction(async (trx) => {
      if (!(await write(trx))) return { ended: false, queues: new Set<string>() };
      return { ended: true, queues: await this.#release.stepsEnded(trx, [{ id, succeeded: false }]) };
    });
    for (const queue of queues) this.#announce(queue);
    return ended;
  }

  /** `ctx.parentOutputs` of a flow step: each parent's key, status and output, in one read. */
  async parentOutputs(item: TaskQueueItem): Promise<Record<string, ParentOutput>> {
    if (item.flowId === null) return NO_PARENTS;
    const queue = this.#ctx.tables.taskQueue;
    const rows = (await this.#ctx
      .knex(`${dependencyTable(queue)} as d`)
      .join(`${queue} as p`, 'p.id', 'd.parent_id')
      .where('d.child_id', item.id)
      .select('p.flow_key', 'p.status', 'p.output')) as { flow_key: string | null; status: TaskStatus; output: string | null }[];
    const outputs: Record<string, ParentOutput> = {};
    for (const row of rows) outputs[row.flow_key ?? ''] = { status: row.status, output: row.output ?? '' };
    return Object.freeze(outputs);
  }

  /** For cancel: in `trx`, these steps ended canceled; their children move on. */
  stepsEnded(trx: Knex.Transaction, ids: readonly string[]): Promise<Set<string>> {
    return this.#release.stepsEnded(
      trx,
      ids.map((id) => ({ id, succeeded: false })),
    );
  }

  /**
   * For the sweep: running flow steps with no heartbeat for too long and no attempt left end
   * failed (the sweep's line), one fenced transaction each, with their release. Resolves how
   * many it failed (a step that finished meanwhile is left alone).
   */
  async failStale(steps: readonly StaleStep[], line: string): Promise<number> {
    let failed = 0;
    for (const step of steps) {
      const finish = { status: 'failed' as const, output: step.output, lines: [formatDetailsLine(line, this.#ctx.now())] };
      if (await this.#finishAndRelease({ id: step.id, token: step.claimToken }, finish)) failed += 1;
    }
    return failed;
  }
}

/** Announces `queues` once `trx` (or the caller's transaction around it) committed; at once without one. */
export function announceAfter(
  transaction: Knex.Transaction | undefined,
  queues: Iterable<string>,
  announce: (queue: string) => void,
): void {
  const all = [...queues];
  const tell = () => all.forEach(announce);
  if (transaction) transaction.executionPromise.then(tell, () => {});
  else tell();
}
