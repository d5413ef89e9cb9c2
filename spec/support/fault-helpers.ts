/**
 * Shared by the fault specs (spec/faults/): the long-form switch, a ledger of handler runs, a
 * watch for unhandled rejections, a line of output for what a spec measures (reported, never
 * asserted), and a report of the locks held and waited for on the server.
 */
import type { TaskQueueRunner, TaskStore } from '../../lib/index.js';
import { within } from './wait.js';

/** TASKSTORE_FAULTS_LONG=1 runs the long forms (more tasks, more and longer faults). */
export const FAULTS_LONG = process.env['TASKSTORE_FAULTS_LONG'] === '1';

/** Every handler run: which task, on which runner, when. */
export class RunLedger {
  readonly #runs = new Map<string, { runner: string; at: number }[]>();

  note(id: string, runner: string): void {
    const runs = this.#runs.get(id) ?? [];
    runs.push({ runner, at: Date.now() });
    this.#runs.set(id, runs);
  }

  /** Distinct tasks run at least once. */
  get size(): number {
    return this.#runs.size;
  }

  runsOf(id: string): number {
    return this.#runs.get(id)?.length ?? 0;
  }

  runnersOf(id: string): string[] {
    return (this.#runs.get(id) ?? []).map((run) => run.runner);
  }

  /** The runs of a task as 'runner@+ms' relative to `origin`, for failure messages. */
  describe(id: string, origin: number): string {
    return (this.#runs.get(id) ?? []).map((run) => `${run.runner}@${run.at - origin >= 0 ? '+' : ''}${run.at - origin}ms`).join(', ');
  }

  /** Tasks run more than once, with their run counts. */
  reruns(): Map<string, number> {
    return new Map([...this.#runs].filter(([, runs]) => runs.length > 1).map(([id, runs]) => [id, runs.length]));
  }

  /** Runs beyond the first, summed over all tasks. */
  extraRuns(): number {
    let extra = 0;
    for (const runs of this.#runs.values()) extra += runs.length - 1;
    return extra;
  }
}

/** Collects unhandled rejections until the returned function is called, which returns them. */
export function watchUnhandledRejections(): () => unknown[] {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  return () => {
    process.off('unhandledRejection', onUnhandled);
    return seen;
  };
}

/** A measured figure in the spec's output (never an assertion). */
export function report(line: string): void {
  process.stdout.write(`        · ${line}\n`);
}

/** Stops a runner, failing with a message instead of hanging when the stop does not settle. */
export async function stopWithin(runner: TaskQueueRunner, ms: number, what = 'runner.stop()'): Promise<void> {
  if (!runner.isRunning()) return;
  await within(runner.stop({ graceMs: 0 }), ms, what);
}

/** The first message of a list of errors, shortened, for output. */
export function firstMessages(errors: readonly Error[], count = 3): string {
  const distinct = [...new Set(errors.map((error) => `${error.name}: ${error.message}`.slice(0, 160)))];
  return distinct.slice(0, count).join(' | ') || '(none)';
}

/**
 * Statements of other sessions on this database that wait for a lock, and the transactions
 * that hold one open, as short lines: what hung, for the output.
 */
export async function lockReport(dialect: 'postgres' | 'mysql', store: TaskStore): Promise<string> {
  const rowsOf = (result: unknown): Record<string, unknown>[] =>
    dialect === 'postgres' ? (result as { rows: Record<string, unknown>[] }).rows : (result as [Record<string, unknown>[]])[0];
  const sql =
    dialect === 'postgres'
      ? `SELECT state, wait_event_type AS wait, now() - xact_start AS open_for, left(query, 90) AS query
           FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (wait_event_type = 'Lock' OR state LIKE 'idle in transaction%')`
      : `SELECT p.STATE AS state, p.COMMAND AS command, p.TIME AS seconds, LEFT(p.INFO, 90) AS query, t.TRX_STATE AS trx, t.TRX_ROWS_LOCKED AS locked
           FROM information_schema.PROCESSLIST p JOIN information_schema.INNODB_TRX t ON t.TRX_MYSQL_THREAD_ID = p.ID
          WHERE p.DB = DATABASE() AND p.ID <> CONNECTION_ID()`;
  const rows = rowsOf(await store.knex.raw(sql));
  return rows.length === 0 ? 'none' : rows.map((row) => JSON.stringify(row)).join('; ');
}
