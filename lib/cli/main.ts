#!/usr/bin/env node
/** The `taskstore` command line. */
import { parseArgs } from 'node:util';
import { TaskStoreError } from '../errors.js';
import { runDemo } from './demo.js';

const USAGE = `usage: taskstore <command> [options]

commands:
  demo        enqueue and process a few example tasks on embedded SQLite

options:
  --database  database URL (default: TASKSTORE_DATABASE_URL, then sqlite:./taskstore.db)
  --help      show this help`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { database: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'demo':
      await runDemo(values.database ?? process.env['TASKSTORE_DATABASE_URL'] ?? 'sqlite:./taskstore-demo.db');
      return 0;
    default:
      console.error(`taskstore: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`taskstore: ${error instanceof TaskStoreError || error instanceof TypeError ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
