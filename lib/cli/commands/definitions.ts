/** `taskstore definitions`: the task definitions, as a table or JSON. */
import { helpRequested, parseCommand, withStore, type Command } from '../command.js';
import { formatDate, formatTable, line, oneLine, printJson } from '../output.js';

const USAGE = `usage: taskstore definitions [--deleted]

  --deleted   include soft-deleted definitions`;

export const definitionsCommand: Command = {
  name: 'definitions',
  summary: 'list the task definitions',
  usage: USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, { deleted: { type: 'boolean' } }, 0);
    if (helpRequested(context, parsed, USAGE)) return 0;
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
  },
};
