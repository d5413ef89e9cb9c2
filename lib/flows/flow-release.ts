/**
 * The release: inside the transaction of a step's final write, its end is counted against
 * each of its children, and a child whose last parent this was moves on: queued to run, or
 * (a parent did not succeed, policy 'fail' or 'skip') ended at once, which counts against its
 * own children in turn, in the same transaction.
 *
 * Exactly once: each dependency edge carries a `resolved` flag, flipped by the transaction
 * that counts it (its rows locked FOR UPDATE first), so an edge is counted at most once
 * however often, or however concurrently, its parent's end is reported. The child's counter
 * `waiting_parents` is decremented with a row lock held to the commit: on PostgreSQL and
 * MySQL two parents ending at once are serialised on the child's row, and the second sees
 * the first's decrement; SQLite runs one writer at a time. Only the transaction that takes
 * the counter to 0 finds the child still 'waiting' with no parent left, and moves it.
 */
import type { Knex } from 'knex';
import { formatDetailsLine } from '../foundation/details.js';
import { dependencyTable } from '../foundation/flow-types.js';
import type { StoreContext } from '../store/store-context.js';

/** A step that just ended, as its children count it. */
export interface EndedStep {
  readonly id: string;
  readonly succeeded: boolean;
}

interface ReadyRow {
  id: string;
  queue_name: string;
  on_parent_failure: string | null;
  failed_parents: number | string;
}

/** Ids per statement: well inside every dialect's limit on bound parameters. */
const CHUNK = 500;

export class FlowRelease {
  readonly #ctx: StoreContext;

  constructor(context: StoreContext) {
    this.#ctx = context;
  }

  /**
   * In `trx`, right after the final writes of these steps: counts their ends against their
   * children and moves the children with no parent left. Resolves the queues that got due
   * steps (announce them after the commit).
   */
  async stepsEnded(trx: Knex.Transaction, ended: readonly EndedStep[]): Promise<Set<string>> {
    const queues = new Set<string>();
    let frontier = ended;
    while (frontier.length > 0) {
      const children = await this.#countEnds(trx, frontier);
      frontier = children.length === 0 ? [] : await this.#moveReady(trx, children, queues);
    }
    if (queues.size > 0 && this.#ctx.adapter.notify) {
      for (const queue of queues) await this.#ctx.adapter.notify(trx, this.#ctx.tables, 'queue', queue);
    }
    return queues;
  }

  /** Flips the unresolved edges of these parents and decrements their children; returns the children touched. */
  async #countEnds(trx: Knex.Transaction, parents: readonly EndedStep[]): Promise<string[]> {
    const table = dependencyTable(this.#ctx.tables.taskQueue);
    const succeeded = new Map(parents.map((parent) => [parent.id, parent.succeeded]));
    const edges: { child_id: string; parent_id: string }[] = [];
    for (const ids of chunks([...succeeded.keys()])) {
      const rows = (await trx(table).whereIn('parent_id', ids).where('resolved', false).select('child_id', 'parent_id').forUpdate()) as {
        child_id: string;
        parent_id: string;
      }[];
      if (rows.length === 0) continue;
      await trx(table).whereIn('parent_id', ids).where('resolved', false).update({ resolved: true });
      edges.push(...rows);
    }
    if (edges.length === 0) return [];
    // One UPDATE per distinct (ended, failed) pair: usually one for the whole frontier.
    const counts = new Map<string, { ended: number; failed: number }>();
    for (const edge of edges) {
      const count = counts.get(edge.child_id) ?? { ended: 0, failed: 0 };
      count.ended += 1;
      if (!succeeded.get(edge.parent_id)) count.failed += 1;
      counts.set(edge.child_id, count);
    }
    const groups = new Map<string, string[]>();
    for (const [child, count] of counts) {
      const key = `${count.ended}/${count.failed}`;
      groups.set(key, [...(groups.get(key) ?? []), child]);
    }
    const { knex } = this.#ctx;
    const queue = this.#ctx.tables.taskQueue;
    for (const [key, children] of groups) {
      const [ended, failed] = key.split('/').map(Number) as [number, number];
      // Sorted ids: concurrent releases lock shared children in one order.
      for (const ids of chunks(children.sort())) {
        await trx(queue)
          .whereIn('id', ids)
          .update({
            waiting_parents: knex.raw('waiting_parents - ?', [ended]),
            failed_parents: knex.raw('failed_parents + ?', [failed]),
          });
      }
    }
    return [...counts.keys()];
  }

  /**
   * The children left with no parent to wait for: queued (every parent succeeded, or policy
   * 'run'), else failed ('fail') or canceled ('skip'). Returns those that ended, for the next round.
   */
  async #moveReady(trx: Knex.Transaction, children: readonly string[], queues: Set<string>): Promise<EndedStep[]> {
    const { knex, adapter, tables } = this.#ctx;
    const now = this.#ctx.now();
    const ready: ReadyRow[] = [];
    for (const ids of chunks(children)) {
      ready.push(
        ...((await trx(tables.taskQueue)
          .whereIn('id', ids)
          .where({ status: 'waiting' })
          .where('waiting_parents', '<=', 0)
          .select('id', 'queue_name', 'on_parent_failure', 'failed_parents')) as ReadyRow[]),
      );
    }
    const run = ready.filter((row) => Number(row.failed_parents) === 0 || row.on_parent_failure === 'run');
    for (const ids of chunks(run.map((row) => row.id))) {
      await trx(tables.taskQueue)
        .whereIn('id', ids)
        .where({ status: 'waiting' })
        .update({
          status: 'queued',
          // Due at its release, or later if its own delay or runAt says so.
          available_at: knex.raw('CASE WHEN available_at < ? THEN ? ELSE available_at END', [now, now]),
          updated_at: now,
        });
    }
    for (const row of run) queues.add(row.queue_name);

    const ended: EndedStep[] = [];
    const notRun = ready.filter((row) => !run.includes(row));
    if (notRun.length === 0) return ended;
    const reasons = await this.#failedParents(
      trx,
      notRun.map((row) => row.id),
    );
    for (const row of notRun) {
      const skip = row.on_parent_failure === 'skip';
      const why = reasons.get(row.id) ?? 'a parent step did not succeed';
      const line = skip ? `Skipped: ${why} (onParentFailure 'skip')` : `Not run: ${why} (onParentFailure 'fail')`;
      await trx(tables.taskQueue)
        .where({ id: row.id, status: 'waiting' })
        .update({
          status: skip ? 'canceled' : 'failed',
          completed_at: now,
          updated_at: now,
          unique_key_active: null,
          details: adapter.appendLine(knex, 'details', formatDetailsLine(line, now)),
        });
      ended.push({ id: row.id, succeeded: false });
    }
    return ended;
  }

  /** Which parents of these steps did not succeed, as a phrase per step: "parent step 'fetch' failed". */
  async #failedParents(trx: Knex.Transaction, ids: readonly string[]): Promise<Map<string, string>> {
    const queue = this.#ctx.tables.taskQueue;
    const dependency = dependencyTable(queue);
    const found = new Map<string, string[]>();
    for (const chunk of chunks([...ids])) {
      const rows = (await trx(`${dependency} as d`)
        .join(`${queue} as p`, 'p.id', 'd.parent_id')
        .whereIn('d.child_id', chunk)
        .whereNot('p.status', 'success')
        .orderBy('p.flow_key')
        .select('d.child_id', 'p.flow_key', 'p.status')) as { child_id: string; flow_key: string | null; status: string }[];
      for (const row of rows) found.set(row.child_id, [...(found.get(row.child_id) ?? []), `'${row.flow_key ?? '?'}' ${row.status}`]);
    }
    const phrases = new Map<string, string>();
    for (const [id, parents] of found) {
      const shown = parents.length > 5 ? [...parents.slice(0, 5), `and ${parents.length - 5} more`] : parents;
      phrases.set(id, `parent step${parents.length > 1 ? 's' : ''} ${shown.join(', ')}`);
    }
    return phrases;
  }
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += CHUNK) out.push(items.slice(start, start + CHUNK));
  return out;
}
