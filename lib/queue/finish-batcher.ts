/**
 * Collects the final writes of a runner's tasks and flushes alike ones (same status, output
 * and details lines: typically a burst of plain successes) as one guarded UPDATE, or, for
 * successes to remove (a runner's removeOnSuccess), whatever their output, as one guarded
 * DELETE. While one flush runs, the next batch gathers. Each row is still matched on its (id,
 * claim token).
 */
import type { Finish, QueueLeases } from './queue-leases.js';
import type { Logger, TaskQueueItem } from '../foundation/types.js';

interface Pending {
  readonly item: TaskQueueItem;
  readonly finish: Finish;
  readonly resolve: (recorded: boolean) => void;
  readonly reject: (error: unknown) => void;
}

export class FinishBatcher {
  readonly #leases: QueueLeases;
  readonly #logger: Logger;
  #pending: Pending[] = [];
  #flushing: Promise<void> | null = null;

  constructor(leases: QueueLeases, logger: Logger) {
    this.#leases = leases;
    this.#logger = logger;
  }

  write = (item: TaskQueueItem, finish: Finish): Promise<boolean> =>
    new Promise((resolve, reject) => {
      this.#pending.push({ item, finish, resolve, reject });
      if (!this.#flushing) this.#flushing = new Promise<void>((next) => setImmediate(next)).then(() => this.#drain());
    });

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      const statements = [...groupAlike(batch).values()].flatMap((group) => chunk(group, MAX_BATCH));
      await Promise.all(statements.map((group) => this.#flush(group)));
    }
    this.#flushing = null;
  }

  async #flush(group: Pending[]): Promise<void> {
    const first = group[0] as Pending;
    try {
      const recorded = await this.#leases.finishMany(
        group.map((entry) => entry.item),
        first.finish,
      );
      if (recorded.size < group.length) {
        this.#logger.warn(`${group.length - recorded.size} of ${group.length} task results were not recorded: those tasks were reclaimed`);
      }
      for (const entry of group) entry.resolve(recorded.has(entry.item.id));
    } catch (error) {
      for (const entry of group) entry.reject(error);
    }
  }
}

/**
 * Items per finishing statement: well inside every dialect's limit on bound parameters
 * (SQLite's is 32,766), however large a batch grew while the previous flush ran.
 */
const MAX_BATCH = 500;

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

function groupAlike(batch: Pending[]): Map<string, Pending[]> {
  const groups = new Map<string, Pending[]>();
  for (const entry of batch) {
    const { finish } = entry;
    // A removed row keeps nothing of what the handler wrote: all removals are alike.
    const key =
      finish.status === 'success' && finish.remove === true
        ? 'remove'
        : [finish.status, finish.output, finish.lines.join('\n'), finish.status === 'queued' ? finish.availableAt.getTime() : ''].join(
            '\u0000',
          );
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return groups;
}
