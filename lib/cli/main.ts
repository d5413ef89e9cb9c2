#!/usr/bin/env node
/**
 * The `taskstore` command line. Exit codes: 0 done; 1 runtime or database error (or, for
 * `run`, the handler failed); 2 usage error; 3 not found; 4 conflict (the task or definition
 * is in the wrong state, or already exists); 130 stopped by a second signal.
 */
import { TaskStoreError } from '../foundation/errors.js';
import { NotFoundError, UsageError } from './args.js';
import { GLOBAL_OPTIONS, type Command } from './command.js';
import { dashboardCommand } from './commands/dashboard.js';
import { definitionsCommand } from './commands/definitions.js';
import { enqueueCommand } from './commands/enqueue.js';
import { migrateCommand } from './commands/migrate.js';
import { runCommand } from './commands/run.js';
import { cancelCommand, listCommand, purgeCommand, retryCommand, showCommand, statsCommand } from './commands/tasks.js';
import { workCommand } from './commands/work.js';
import { demoCommand } from './commands/demo.js';
import type { Output } from './output.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4, forced: 130 } as const;

export const COMMANDS: readonly Command[] = [
  migrateCommand,
  definitionsCommand,
  enqueueCommand,
  listCommand,
  showCommand,
  statsCommand,
  retryCommand,
  cancelCommand,
  purgeCommand,
  runCommand,
  workCommand,
  dashboardCommand,
  demoCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `usage: taskstore <command> [options]

commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

global options:
  --database, -d  database URL: sqlite:./file.db, postgres://…, mysql://…
                  (default: TASKSTORE_DATABASE_URL, then sqlite:./taskstore.db)
  --json          machine-readable output
  --help, -h      help (also: taskstore <command> --help)

exit codes: 0 ok, 1 runtime/database error, 2 usage error, 3 not found, 4 conflict`;
}

/** The exit code and the one line to print for an error. */
export function describeCliError(error: unknown): { code: number; message: string; stack?: string } {
  if (error instanceof UsageError) return { code: EXIT.usage, message: error.message };
  if (error instanceof NotFoundError) return { code: EXIT.notFound, message: error.message };
  if (error instanceof TaskStoreError) {
    const code = {
      INVALID_ARGUMENT: EXIT.usage,
      NOT_FOUND: EXIT.notFound,
      ALREADY_EXISTS: EXIT.conflict,
      INVALID_STATE: EXIT.conflict,
      DATABASE: EXIT.failure,
    }[error.code];
    return { code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: EXIT.failure, message, ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) };
}

/**
 * --json asks for JSON output, except where it is enqueue's parameters object (followed by
 * '{…}') and in `run`, which reads its own options.
 */
function wantsJson(command: string | undefined, args: readonly string[]): boolean {
  if (command === 'run') return false;
  return args.some((arg, at) => arg === '--json' && !(command === 'enqueue' && (args[at + 1] ?? '').trimStart().startsWith('{')));
}

/** Runs the CLI with `argv` (without node and the script); resolves the exit code. */
export async function main(argv: string[], out: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Global options may come before the command: find the command as the first positional.
  const args = [...argv];
  let index = 0;
  while (index < args.length && (args[index] as string).startsWith('-')) {
    const name = (args[index] as string).replace(/^--?/, '').split('=')[0] as string;
    const spec = Object.entries(GLOBAL_OPTIONS).find(([long, option]) => long === name || ('short' in option && option.short === name));
    if (!spec) break;
    index += spec[1].type === 'string' && !(args[index] as string).includes('=') ? 2 : 1;
  }
  const name = args[index];
  const before = args.slice(0, index);
  const json = wantsJson(name, [...before, ...args.slice(index + 1)]);
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    if (name === undefined || name === 'help') {
      out.stdout.write(`${usage()}\n`);
      return before.includes('--help') || before.includes('-h') || name === 'help' ? EXIT.ok : EXIT.usage;
    }
    out.stderr.write(`taskstore: unknown command '${name}' (see taskstore --help)\n`);
    return EXIT.usage;
  }
  try {
    return await command.run({ args: [...before, ...args.slice(index + 1)], out: { ...out, json: out.json || json }, env });
  } catch (error) {
    const { code, message, stack } = describeCliError(error);
    out.stderr.write(`taskstore: ${message}\n`);
    if (stack && env['TASKSTORE_DEBUG']) out.stderr.write(`${stack}\n`);
    return code;
  }
}

const isEntryPoint =
  process.argv[1] !== undefined &&
  import.meta.url === (await import('node:url')).pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href;
if (isEntryPoint) {
  const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, json: false });
  process.exitCode = code;
}
