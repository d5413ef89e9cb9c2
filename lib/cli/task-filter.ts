/** The task filter options that `list` and `bulk` share: which tasks, by status, queue, alias, parameters text and unique key. */
import type { TaskStore } from '../task-store.js';
import type { TaskQueueFilter } from '../foundation/bulk-types.js';
import { TASK_STATUSES } from '../foundation/types.js';
import { NotFoundError, parseStatuses } from './args.js';
import type { OptionSpec, Parsed } from './command.js';

export const FILTER_OPTIONS = {
  status: { type: 'string', short: 's', multiple: true },
  queue: { type: 'string', short: 'q' },
  alias: { type: 'string', short: 'a' },
  params: { type: 'string' },
  'unique-key': { type: 'string' },
  'unique-key-prefix': { type: 'string' },
} as const satisfies OptionSpec;

export const FILTER_USAGE = `  --status             ${TASK_STATUSES.join(', ')} (repeatable or comma-separated)
  --queue              only this queue
  --alias              only tasks of this definition
  --params             parameters (their JSON text) containing this, ignoring case; % and _ match themselves
  --unique-key         exactly this unique key
  --unique-key-prefix  a unique key starting with this`;

/** The filter the options give; NotFoundError (exit 3) for an alias no definition has. */
export async function taskFilterOf(store: TaskStore, parsed: Parsed): Promise<TaskQueueFilter> {
  const statuses = parseStatuses(parsed.list('status'));
  const filter: TaskQueueFilter = {
    ...(statuses.length > 0 ? { statuses } : {}),
    ...optional('queueName', parsed.string('queue')),
    ...optional('parametersText', parsed.string('params')),
    ...optional('uniqueKey', parsed.string('unique-key')),
    ...optional('uniqueKeyPrefix', parsed.string('unique-key-prefix')),
  };
  const alias = parsed.string('alias');
  if (alias !== undefined) {
    const definition = await store.taskDefinitionFindByAlias(alias);
    if (!definition) throw new NotFoundError(`no task definition with alias '${alias}'`);
    filter.taskId = definition.id;
  }
  return filter;
}

/** Whether any filter option was given. */
export function hasFilter(parsed: Parsed): boolean {
  return Object.keys(FILTER_OPTIONS).some((name) => parsed.values[name] !== undefined);
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
