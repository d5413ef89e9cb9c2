/** The task queue commands: list, show, stats, retry, cancel, purge. */
import type { TaskStore } from '../../task-store.js';
import { TASK_STATUSES, type TaskQueueItem, type TaskQueueQuery } from '../../foundation/types.js';
import { MIN_STORED_TIME_MS } from '../../foundation/validate.js';
import { MAX_LIST_LIMIT, MAX_LIST_OFFSET } from '../../store/query.js';
import { NotFoundError, UsageError, parseDuration, parseInteger, parseStatuses } from '../args.js';
import { helpRequested, parseCommand, required, withStore, type Command } from '../command.js';
import { formatDate, formatDuration, formatFields, formatTable, line, oneLine, printJson } from '../output.js';
import { lastError } from '../../foundation/details.js';
import { FILTER_OPTIONS, FILTER_USAGE, taskFilterOf } from '../task-filter.js';

/** taskId → alias, for the ids of these items (soft-deleted definitions too). */
async function aliasesOf(store: TaskStore, items: readonly TaskQueueItem[]): Promise<Map<string, string>> {
  const ids = [...new Set(items.map((item) => item.taskId))];
  if (ids.length === 0) return new Map();
  const definitions = await store.taskDefinitionList({ ids, includeSoftDeleted: true });
  return new Map(definitions.map((definition) => [definition.id, definition.alias]));
}

function aliasOf(item: TaskQueueItem, aliases: Map<string, string>): string {
  return aliases.get(item.taskId) ?? String(item.parameters['task_alias'] ?? '?');
}

function runTime(item: TaskQueueItem): number | null {
  return item.startedAt && item.completedAt ? item.completedAt.getTime() - item.startedAt.getTime() : null;
}

/** A task by id, soft-deleted ones included; NotFoundError (exit 3) when there is none. */
export async function findTask(store: TaskStore, id: string): Promise<TaskQueueItem> {
  const [item] = await store.taskQueueList({ id, includeSoftDeleted: true, limit: 1 });
  if (!item) throw new NotFoundError(`no task with id '${id}'`);
  return item;
}

const LIST_USAGE = `usage: taskstore list [--status s[,s…]] [--queue name] [--alias alias] [--params text] [--unique-key k] [--limit n] [--offset n] [--deleted]

${FILTER_USAGE}
  --limit              at most this many, newest first: 1 to ${MAX_LIST_LIMIT} (default 50)
  --offset             skip this many first: 0 to ${MAX_LIST_OFFSET} (default 0)
  --deleted            include soft-deleted tasks

  listing only failed tasks adds their last error`;

export const listCommand: Command = {
  name: 'list',
  summary: 'list tasks, newest first',
  usage: LIST_USAGE,
  async run(context) {
    const parsed = parseCommand(
      context.args,
      {
        ...FILTER_OPTIONS,
        limit: { type: 'string', short: 'n' },
        offset: { type: 'string' },
        deleted: { type: 'boolean' },
      },
      0,
    );
    if (helpRequested(context, parsed, LIST_USAGE)) return 0;
    const limitText = parsed.string('limit');
    const offsetText = parsed.string('offset');
    const limit = limitText === undefined ? 50 : parseInteger(limitText, '--limit', 1, MAX_LIST_LIMIT);
    const offset = offsetText === undefined ? undefined : parseInteger(offsetText, '--offset', 0, MAX_LIST_OFFSET);
    await withStore(context, parsed.string('database'), async (store) => {
      const filter = await taskFilterOf(store, parsed);
      const query: TaskQueueQuery = {
        ...filter,
        orderBy: 'createdAt',
        sortOrder: 'desc',
        limit,
        ...(offset === undefined ? {} : { offset }),
        ...(parsed.flag('deleted') ? { includeSoftDeleted: true } : {}),
      };
      const failedOnly = filter.statuses?.length === 1 && filter.statuses[0] === 'failed';
      const items = await store.taskQueueList(query);
      if (context.out.json) return printJson(context.out, items);
      if (items.length === 0) return line(context.out.stdout, 'no tasks');
      const aliases = await aliasesOf(store, items);
      line(
        context.out.stdout,
        formatTable(
          ['ID', 'ALIAS', 'QUEUE', 'STATUS', 'ATTEMPTS', 'CREATED', 'TOOK', ...(failedOnly ? ['LAST ERROR'] : [])],
          items.map((item) => [
            item.id,
            aliasOf(item, aliases),
            item.queueName,
            item.softDeletedAt ? `${item.status} (deleted)` : item.status,
            `${item.attempts}/${item.maxAttempts}`,
            formatDate(item.createdAt),
            formatDuration(runTime(item)),
            ...(failedOnly ? [oneLine(lastError(item) ?? '-')] : []),
          ]),
        ),
      );
    });
    return 0;
  },
};

const SHOW_USAGE = `usage: taskstore show <id>

  prints a task: its fields, parameters, output and details log`;

export const showCommand: Command = {
  name: 'show',
  summary: 'show one task with its parameters, output and details',
  usage: SHOW_USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, {}, 1);
    if (helpRequested(context, parsed, SHOW_USAGE)) return 0;
    const id = required(parsed.positionals, 0, 'the task id');
    await withStore(context, parsed.string('database'), async (store) => {
      const item = await findTask(store, id);
      if (context.out.json) return printJson(context.out, item);
      const aliases = await aliasesOf(store, [item]);
      const fields: [string, string][] = [
        ['id', item.id],
        ['alias', aliasOf(item, aliases)],
        ['queue', item.queueName],
        ['status', item.softDeletedAt ? `${item.status} (deleted ${formatDate(item.softDeletedAt)})` : item.status],
        ['attempts', `${item.attempts} of ${item.maxAttempts}`],
        ['priority', String(item.priority)],
        ['created', formatDate(item.createdAt)],
        ['available', formatDate(item.availableAt)],
        ['started', formatDate(item.startedAt)],
        ['completed', formatDate(item.completedAt)],
        ['took', formatDuration(runTime(item))],
      ];
      if (item.uniqueKey) fields.push(['unique key', item.uniqueKey]);
      if (item.group) fields.push(['group', item.group]);
      if (item.progress) {
        const { percent, data, updatedAt } = item.progress;
        fields.push(['progress', `${percent}% at ${formatDate(updatedAt)}${data === null ? '' : ` ${JSON.stringify(data)}`}`]);
      }
      if (item.flowId) fields.push(['flow', `${item.flowId} (step ${item.flowKey ?? '?'}; taskstore flow ${item.flowId})`]);
      const out = context.out.stdout;
      line(out, formatFields(fields));
      line(out, `\nparameters:\n${JSON.stringify(item.parameters, null, 2)}`);
      line(out, `\noutput:\n${item.output === '' ? '(none)' : item.output}`);
      line(out, `\ndetails:\n${item.details === '' ? '(none)' : item.details}`);
    });
    return 0;
  },
};

const STATS_USAGE = `usage: taskstore stats [--queue name]

  counts of tasks by status (soft-deleted ones not counted)`;

export const statsCommand: Command = {
  name: 'stats',
  summary: 'count tasks by status',
  usage: STATS_USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, { queue: { type: 'string', short: 'q' } }, 0);
    if (helpRequested(context, parsed, STATS_USAGE)) return 0;
    await withStore(context, parsed.string('database'), async (store) => {
      const queueName = parsed.string('queue');
      const stats = await store.taskQueueStats(queueName === undefined ? {} : { queueName });
      if (context.out.json) return printJson(context.out, stats);
      const total = Object.values(stats).reduce((sum, count) => sum + count, 0);
      const rows = TASK_STATUSES.map((status) => [status, String(stats[status])]);
      line(context.out.stdout, formatTable(['STATUS', 'TASKS'], [...rows, ['total', String(total)]]));
    });
    return 0;
  },
};

function transitionCommand(name: 'retry' | 'cancel', summary: string, detail: string): Command {
  const usage = `usage: taskstore ${name} <id>\n\n  ${detail}`;
  return {
    name,
    summary,
    usage,
    async run(context) {
      const parsed = parseCommand(context.args, {}, 1);
      if (helpRequested(context, parsed, usage)) return 0;
      const id = required(parsed.positionals, 0, 'the task id');
      await withStore(context, parsed.string('database'), async (store) => {
        // Only for the message: the cancel itself decides on the state it finds.
        const before = name === 'cancel' ? await store.taskQueueFindById(id) : null;
        const item = name === 'retry' ? await store.taskQueueRequeueById(id) : await store.taskQueueCancelById(id);
        if (context.out.json) return printJson(context.out, item);
        const was = before?.status === 'running' ? ' while running: its handler is told to stop (ctx.signal)' : '';
        line(context.out.stdout, `${name === 'retry' ? 'requeued' : 'canceled'} ${item.id}${was} (now ${item.status})`);
      });
      return 0;
    },
  };
}

export const retryCommand = transitionCommand(
  'retry',
  'queue a failed or canceled task again',
  'a failed or canceled task goes back to queued, due now, with its attempts reset',
);
export const cancelCommand = transitionCommand(
  'cancel',
  'cancel a queued, paused, waiting or running task',
  "a queued, paused, waiting (flow step) or running task becomes canceled; a running one's handler sees ctx.signal abort (in any process) and its result is not recorded",
);

const PURGE_USAGE = `usage: taskstore purge --older-than 7d [--status s[,s…]] [--queue name]

  hard-deletes tasks last changed longer ago than --older-than
  --status   which statuses (default: success, failed, canceled)
  --queue    only this queue`;

export const purgeCommand: Command = {
  name: 'purge',
  summary: 'delete old finished tasks',
  usage: PURGE_USAGE,
  async run(context) {
    const parsed = parseCommand(
      context.args,
      { 'older-than': { type: 'string' }, status: { type: 'string', short: 's', multiple: true }, queue: { type: 'string', short: 'q' } },
      0,
    );
    if (helpRequested(context, parsed, PURGE_USAGE)) return 0;
    const olderThanText = parsed.string('older-than');
    if (olderThanText === undefined) throw new UsageError('purge needs --older-than (for example --older-than 7d)', { seeHelp: true });
    const now = Date.now();
    const olderThan = new Date(
      now - parseDuration(olderThanText, '--older-than', { ms: now - MIN_STORED_TIME_MS, shown: 'the time since 1970-01-01' }),
    );
    const statuses = parseStatuses(parsed.list('status'));
    await withStore(context, parsed.string('database'), async (store) => {
      const queueName = parsed.string('queue');
      const purged = await store.taskQueuePurge({
        olderThan,
        ...(statuses.length > 0 ? { statuses } : {}),
        ...(queueName === undefined ? {} : { queueName }),
      });
      if (context.out.json) return printJson(context.out, { purged, olderThan });
      line(context.out.stdout, `purged ${purged} task${purged === 1 ? '' : 's'} last changed before ${formatDate(olderThan)} UTC`);
    });
    return 0;
  },
};
