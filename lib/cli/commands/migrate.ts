/** `taskstore migrate [up|down]`: create the tables, or drop them (down needs --yes). */
import { queueSettingsTable, queueStartsTable, runnersTable } from '../../foundation/table-names.js';
import { dependencyTable, flowTable } from '../../foundation/flow-types.js';
import type { TaskStore } from '../../task-store.js';
import { UsageError } from '../args.js';
import { helpRequested, parseCommand, withStore, type Command } from '../command.js';
import { line, printJson } from '../output.js';

const USAGE = `usage: taskstore migrate [up|down] [--yes]

  up     create the tables and indexes that are missing (the default; safe to repeat)
  down   drop taskstore's tables and everything in them (needs --yes)`;

/** Runs migrateUp and tells what it did: the tables it created and the steps that changed the schema. */
async function migrateUp(store: TaskStore): Promise<{ applied: string[]; createdTables: string[] }> {
  const { taskDefinition, taskQueue, schedule } = store.tableNames;
  const names = [
    taskDefinition,
    taskQueue,
    schedule,
    queueSettingsTable(taskQueue),
    queueStartsTable(taskQueue),
    flowTable(taskQueue),
    dependencyTable(taskQueue),
    runnersTable(taskQueue),
  ];
  const existed = await Promise.all(names.map((name) => store.knex.schema.hasTable(name)));
  const applied = await store.migrateUp();
  return { applied, createdTables: names.filter((_, index) => !existed[index]) };
}

function describeUp(dialect: string, { applied, createdTables }: { applied: string[]; createdTables: string[] }): string {
  if (applied.length === 0) return `tables are up to date (${dialect})`;
  const steps = `${applied.length === 1 ? 'migration' : 'migrations'} ${applied.join(', ')}`;
  if (createdTables.length === 0) return `applied ${steps} (${dialect})`;
  return `created ${createdTables.length === 1 ? 'table' : 'tables'} ${createdTables.join(', ')} (${dialect}; ${steps})`;
}

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
        if (direction === 'down') {
          await store.migrateDown();
          if (context.out.json) printJson(context.out, { migrated: direction, dialect: store.dialect });
          else line(context.out.stdout, `tables dropped (${store.dialect})`);
          return;
        }
        const result = await migrateUp(store);
        if (context.out.json) printJson(context.out, { migrated: direction, dialect: store.dialect, ...result });
        else line(context.out.stdout, describeUp(store.dialect, result));
      },
      { automigrate: false },
    );
    return 0;
  },
};
