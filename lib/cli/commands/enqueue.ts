/** `taskstore enqueue <alias>`: queue one task, with parameters from --param k=v and/or --json. */
import { MAX_ATTEMPTS_LIMIT } from '../../foundation/validate.js';
import { PRIORITY_LIMIT } from '../../queue/task-queue.js';
import { looksLikeJsonParams, MAX_DELAY, parseDuration, parseInteger, parseJsonObject, parseKeyValues } from '../args.js';
import { helpRequested, parseCommand, required, withStore, type Command } from '../command.js';
import { formatDate, line, printJson } from '../output.js';

const USAGE = `usage: taskstore enqueue <alias> [--queue name] [--param key=value]… [--json '{…}']
                         [--delay 5m] [--priority n] [--max-attempts n] [--unique-key key] [--group g]

  --queue         queue name (default: default)
  --param k=v     a string parameter; repeatable; the value keeps any further '='
  --json '{…}'    parameters as a JSON object (--param entries override its keys);
                  a bare --json (no object after it) prints the new task as JSON
  --delay         run no sooner than this from now: 30s, 5m, 2h, 7d (at most 3650d)
  --priority      higher runs first: -1000000 to 1000000 (default 0)
  --max-attempts  attempts including the first: 1 to 1000 (default: the definition's)
  --unique-key    at most one queued or running task per key
  --group         the group the queue's group limits count the task in (e.g. account:42)`;

/**
 * `--json` is both the global "print JSON" flag and enqueue's parameters object: followed
 * by an argument that starts with '{' (or '[', to say that an array is not parameters) it is
 * the parameters.
 */
function splitJsonParams(args: string[]): string[] {
  const result: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    const next = args[index + 1];
    if (arg === '--json' && next !== undefined && looksLikeJsonParams(next)) {
      result.push(`--params-json=${next}`);
      index += 1;
    } else if (arg.startsWith('--json=')) {
      result.push(`--params-json=${arg.slice('--json='.length)}`);
    } else {
      result.push(arg);
    }
  }
  return result;
}

export const enqueueCommand: Command = {
  name: 'enqueue',
  summary: 'queue a task for a definition alias',
  usage: USAGE,
  async run(context) {
    const parsed = parseCommand(
      splitJsonParams(context.args),
      {
        queue: { type: 'string', short: 'q' },
        param: { type: 'string', short: 'p', multiple: true },
        'params-json': { type: 'string' },
        delay: { type: 'string' },
        priority: { type: 'string' },
        'max-attempts': { type: 'string' },
        'unique-key': { type: 'string' },
        group: { type: 'string' },
      },
      1,
    );
    if (helpRequested(context, parsed, USAGE)) return 0;
    const alias = required(parsed.positionals, 0, 'the task alias');
    const paramsJson = parsed.string('params-json');
    const params = {
      ...(paramsJson === undefined ? {} : parseJsonObject(paramsJson, '--json')),
      ...parseKeyValues(parsed.list('param'), '--param'),
    };
    const delay = parsed.string('delay');
    const priority = parsed.string('priority');
    const maxAttempts = parsed.string('max-attempts');
    const options = {
      ...(delay === undefined ? {} : { delayMs: parseDuration(delay, '--delay', MAX_DELAY) }),
      ...(priority === undefined ? {} : { priority: parseInteger(priority, '--priority', -PRIORITY_LIMIT, PRIORITY_LIMIT) }),
      ...(maxAttempts === undefined ? {} : { maxAttempts: parseInteger(maxAttempts, '--max-attempts', 1, MAX_ATTEMPTS_LIMIT) }),
      ...(parsed.string('unique-key') === undefined ? {} : { uniqueKey: parsed.string('unique-key') as string }),
      ...(parsed.string('group') === undefined ? {} : { group: parsed.string('group') as string }),
    };
    const queue = parsed.string('queue') ?? '';
    await withStore(context, parsed.string('database'), async (store) => {
      const item = await store.taskDefinitionEnqueueByAlias(queue, alias, params, options);
      if (context.out.json) return printJson(context.out, item);
      const when = item.availableAt.getTime() > Date.now() + 500 ? `, runs at ${formatDate(item.availableAt)} UTC` : '';
      line(context.out.stdout, `enqueued ${item.id} (${alias} on queue ${item.queueName}${when})`);
    });
    return 0;
  },
};
