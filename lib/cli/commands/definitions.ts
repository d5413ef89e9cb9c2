/** `taskstore definitions [list|create]`: the task definitions, as a table or JSON, and creating one. */
import type { TaskDefinitionCreateInput } from '../../foundation/types.js';
import { MAX_ATTEMPTS_LIMIT } from '../../foundation/validate.js';
import { UsageError, parseInteger } from '../args.js';
import { helpRequested, parseCommand, required, withStore, type CommandContext, type Command, type Parsed } from '../command.js';
import { formatDate, formatTable, line, oneLine, printJson } from '../output.js';

const USAGE = `usage: taskstore definitions [list] [--deleted]
       taskstore definitions create <alias> [--title text] [--description text] [--max-attempts n]

  list            list the definitions (the default)
    --deleted     include soft-deleted definitions
  create <alias>  create a definition (tasks can then be enqueued before a worker registers its handler)
    --title         default: the alias
    --description   default: none
    --max-attempts  attempts per task, including the first (default 1: no retry)`;

const CREATE_OPTIONS = ['title', 'description', 'max-attempts'] as const;

export const definitionsCommand: Command = {
  name: 'definitions',
  summary: 'list the task definitions, or create one',
  usage: USAGE,
  async run(context) {
    const parsed = parseCommand(
      context.args,
      { deleted: { type: 'boolean' }, title: { type: 'string' }, description: { type: 'string' }, 'max-attempts': { type: 'string' } },
      2,
    );
    if (helpRequested(context, parsed, USAGE)) return 0;
    const action = parsed.positionals[0] ?? 'list';
    if (action === 'create') return create(context, parsed);
    if (action !== 'list') throw new UsageError(`definitions: expected 'list' or 'create' (got '${action}')`);
    if (parsed.positionals.length > 1) throw new UsageError(`unexpected argument '${parsed.positionals[1]}'`);
    const misplaced = CREATE_OPTIONS.find((name) => parsed.values[name] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} applies to 'definitions create' only`);
    return list(context, parsed);
  },
};

async function list(context: CommandContext, parsed: Parsed): Promise<number> {
  await withStore(context, parsed.string('database'), async (store) => {
    const definitions = await store.taskDefinitionList({ orderBy: 'alias', includeSoftDeleted: parsed.flag('deleted') });
    if (context.out.json) return printJson(context.out, definitions);
    if (definitions.length === 0) return line(context.out.stdout, 'no task definitions');
    line(
      context.out.stdout,
      formatTable(
        ['ALIAS', 'STATUS', 'ATTEMPTS', 'CREATED', 'ID', 'TITLE'],
        definitions.map((definition) => [
          definition.alias,
          definition.softDeletedAt ? `${definition.status} (deleted)` : definition.status,
          String(definition.maxAttempts),
          formatDate(definition.createdAt),
          definition.id,
          oneLine(definition.title, 50),
        ]),
      ),
    );
  });
  return 0;
}

async function create(context: CommandContext, parsed: Parsed): Promise<number> {
  if (parsed.flag('deleted')) throw new UsageError(`--deleted applies to 'definitions list' only`);
  const alias = required(parsed.positionals, 1, 'the alias of the definition to create');
  const maxAttempts = parsed.string('max-attempts');
  const input: TaskDefinitionCreateInput = {
    alias,
    ...(parsed.string('title') === undefined ? {} : { title: parsed.string('title') }),
    ...(parsed.string('description') === undefined ? {} : { description: parsed.string('description') }),
    ...(maxAttempts === undefined ? {} : { maxAttempts: parseInteger(maxAttempts, '--max-attempts', 1, MAX_ATTEMPTS_LIMIT) }),
  };
  await withStore(context, parsed.string('database'), async (store) => {
    const definition = await store.taskDefinitionCreate(input);
    if (context.out.json) return printJson(context.out, definition);
    const attempts = definition.maxAttempts === 1 ? '1 attempt' : `${definition.maxAttempts} attempts`;
    line(context.out.stdout, `created definition ${definition.alias} (${definition.id}, ${attempts} per task)`);
  });
  return 0;
}
