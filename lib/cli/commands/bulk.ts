/** Operations on many tasks at once (bulk retry, cancel, delete on a filter) and run-now of one task. */
import type { BulkActionResult } from '../../foundation/bulk-types.js';
import { MAX_BULK_BATCH_SIZE } from '../../queue/task-bulk.js';
import { UsageError, parseInteger } from '../args.js';
import { helpRequested, parseCommand, required, withStore, type Command } from '../command.js';
import { formatDate, line, printJson } from '../output.js';
import { FILTER_OPTIONS, FILTER_USAGE, hasFilter, taskFilterOf } from '../task-filter.js';

const ACTIONS = {
  retry: { done: 'retried', doing: 'retry', applies: 'failed or canceled' },
  cancel: { done: 'canceled', doing: 'cancel', applies: 'queued, paused, waiting or running' },
  delete: { done: 'deleted', doing: 'delete', applies: 'any live' },
} as const;
type Action = keyof typeof ACTIONS;

const BULK_USAGE = `usage: taskstore bulk <retry|cancel|delete> <filter options> [--yes] [--batch-size n]

  acts on every task the filter selects; without --yes, only counts them (a dry run)
  retry   failed and canceled tasks go back to queued, due now, attempts reset
          (one whose unique key another queued or running task holds is skipped)
  cancel  queued, paused, waiting and running tasks are canceled (a running one's handler is told)
  delete  tasks are soft-deleted (they can be restored one by one)

${FILTER_USAGE}
  --yes                do it (else: a dry run that prints the count)
  --batch-size         tasks per batch, one transaction each: 1 to ${MAX_BULK_BATCH_SIZE} (default 500)

  at least one filter option is needed`;

const plural = (count: number) => `${count.toLocaleString('en-US')} task${count === 1 ? '' : 's'}`;

export const bulkCommand: Command = {
  name: 'bulk',
  summary: 'retry, cancel or delete every task a filter selects, in batches',
  usage: BULK_USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, { ...FILTER_OPTIONS, yes: { type: 'boolean' }, 'batch-size': { type: 'string' } }, 1);
    if (helpRequested(context, parsed, BULK_USAGE)) return 0;
    const action = required(parsed.positionals, 0, 'the action (retry, cancel or delete)');
    if (!Object.hasOwn(ACTIONS, action))
      throw new UsageError(`unknown action '${action}' (one of retry, cancel, delete)`, { seeHelp: true });
    if (!hasFilter(parsed))
      throw new UsageError(`bulk ${action} needs at least one filter option (--status, --queue, …)`, { seeHelp: true });
    const batchText = parsed.string('batch-size');
    const batchSize = batchText === undefined ? undefined : parseInteger(batchText, '--batch-size', 1, MAX_BULK_BATCH_SIZE);
    const dryRun = !parsed.flag('yes');
    const words = ACTIONS[action as Action];
    await withStore(context, parsed.string('database'), async (store) => {
      const filter = await taskFilterOf(store, parsed);
      const options = { dryRun, ...(batchSize === undefined ? {} : { batchSize }) };
      const result: BulkActionResult =
        action === 'retry'
          ? await store.taskQueueRequeueMany(filter, options)
          : action === 'cancel'
            ? await store.taskQueueCancelMany(filter, options)
            : await store.taskQueueSoftDeleteMany(filter, options);
      if (context.out.json) return printJson(context.out, { action, dryRun, ...result });
      const out = context.out.stdout;
      if (dryRun) {
        line(
          out,
          `${plural(result.matched)} would be ${words.done} (${words.applies} tasks of the filter); add --yes to ${words.doing} them`,
        );
        return;
      }
      const why =
        result.conflicts > 0
          ? `${result.conflicts} because another queued or running task holds their unique key`
          : 'their state changed meanwhile';
      const skipped = result.skipped === 0 ? '' : `; ${result.skipped.toLocaleString('en-US')} skipped (${why})`;
      line(out, `${words.done} ${plural(result.changed)} of ${result.matched.toLocaleString('en-US')} matched${skipped}`);
    });
    return 0;
  },
};

const RUN_NOW_USAGE = `usage: taskstore run-now <id>

  a queued task due later (delayed, or backed off after a failure) becomes due now;
  one already due keeps its place in line`;

export const runNowCommand: Command = {
  name: 'run-now',
  summary: 'make a delayed queued task due now',
  usage: RUN_NOW_USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, {}, 1);
    if (helpRequested(context, parsed, RUN_NOW_USAGE)) return 0;
    const id = required(parsed.positionals, 0, 'the task id');
    await withStore(context, parsed.string('database'), async (store) => {
      const item = await store.taskQueueRunNowById(id);
      if (context.out.json) return printJson(context.out, item);
      line(context.out.stdout, `${item.id} is due at ${formatDate(item.availableAt)} UTC`);
    });
    return 0;
  },
};
