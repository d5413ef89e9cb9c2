/** `taskstore migrate [up|down]`: create the tables, or drop them (down needs --yes). */
import { UsageError } from '../args.js';
import { helpRequested, parseCommand, withStore, type Command } from '../command.js';
import { line, printJson } from '../output.js';

const USAGE = `usage: taskstore migrate [up|down] [--yes]

  up     create the tables and indexes that are missing (the default; safe to repeat)
  down   drop the three tables and everything in them (needs --yes)`;

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'create (up) or drop (down) the tables',
  usage: USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, { yes: { type: 'boolean', short: 'y' } }, 1);
    if (helpRequested(context, parsed, USAGE)) return 0;
    const direction = parsed.positionals[0] ?? 'up';
    if (direction !== 'up' && direction !== 'down') throw new UsageError(`migrate: expected 'up' or 'down' (got '${direction}')`);
    if (direction === 'down' && !parsed.flag('yes')) {
      throw new UsageError('migrate down drops the tables and every task in them; add --yes to do it');
    }
    await withStore(
      context,
      parsed.string('database'),
      async (store) => {
        if (direction === 'up') await store.migrateUp();
        else await store.migrateDown();
        if (context.out.json) printJson(context.out, { migrated: direction, dialect: store.dialect });
        else
          line(context.out.stdout, direction === 'up' ? `tables are up to date (${store.dialect})` : `tables dropped (${store.dialect})`);
      },
      { automigrate: false },
    );
    return 0;
  },
};
