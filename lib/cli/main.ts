#!/usr/bin/env node
/**
 * The `taskstore` command line. Exit codes: 0 done; 1 runtime or database error (or, for
 * `run`, the handler failed); 2 usage error; 3 not found; 4 conflict (the task or definition
 * is in the wrong state, or already exists); 130 stopped by a second signal.
 */
import { TaskStoreError } from '../foundation/errors.js';
import { looksLikeJsonParams, NotFoundError, UsageError } from './args.js';
import { GLOBAL_OPTIONS, type Command } from './command.js';
import { dashboardCommand } from './commands/dashboard.js';
import { definitionsCommand } from './commands/definitions.js';
import { enqueueCommand } from './commands/enqueue.js';
import { flowCommand } from './commands/flow.js';
import { migrateCommand } from './commands/migrate.js';
import { limitsCommand, pauseQueueCommand, queuesCommand, resumeQueueCommand } from './commands/queues.js';
import { runCommand } from './commands/run.js';
import { runnersCommand } from './commands/runners.js';
import { cancelCommand, listCommand, purgeCommand, retryCommand, showCommand, statsCommand } from './commands/tasks.js';
import { workCommand } from './commands/work.js';
import { bulkCommand, runNowCommand } from './commands/bulk.js';
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
  runNowCommand,
  bulkCommand,
  purgeCommand,
  queuesCommand,
  pauseQueueCommand,
  resumeQueueCommand,
  limitsCommand,
  runnersCommand,
  flowCommand,
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

/**
 * The exit code, the stable code (a TaskStoreError's, else USAGE, NOT_FOUND or ERROR) and the
 * one line to print for an error.
 */
export function describeCliError(error: unknown): { exitCode: number; code: string; message: string; stack?: string } {
  if (error instanceof UsageError) return { exitCode: EXIT.usage, code: 'USAGE', message: error.message };
  if (error instanceof NotFoundError) return { exitCode: EXIT.notFound, code: 'NOT_FOUND', message: error.message };
  if (error instanceof TaskStoreError) {
    const exitCode = {
      INVALID_ARGUMENT: EXIT.usage,
      NOT_FOUND: EXIT.notFound,
      ALREADY_EXISTS: EXIT.conflict,
      INVALID_STATE: EXIT.conflict,
      DATABASE: EXIT.failure,
    }[error.code];
    return { exitCode, code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return { exitCode: EXIT.failure, code: 'ERROR', message, ...(cause instanceof Error && cause.stack ? { stack: cause.stack } : {}) };
}

/**
 * Prints an error: `taskstore: <message>` on stderr, or with --json one line
 * `{"error":{"code":…,"message":…}}` on stderr (stdout stays empty). Resolves the exit code.
 */
function reportError(error: unknown, out: Output, command: string | undefined, env: NodeJS.ProcessEnv): number {
  const { exitCode, code, message, stack } = describeCliError(error);
  const hint = error instanceof UsageError && error.seeHelp ? ` (see taskstore ${command === undefined ? '' : `${command} `}--help)` : '';
  const debugStack = stack && env['TASKSTORE_DEBUG'] ? stack : undefined;
  if (out.json) {
    out.stderr.write(
      `${JSON.stringify({ error: { code, message: `${message}${hint}`, ...(debugStack ? { stack: debugStack } : {}) } })}\n`,
    );
  } else {
    out.stderr.write(`taskstore: ${message.replace(/\s*\n\s*/g, ' ')}${hint}\n`);
    if (debugStack) out.stderr.write(`${debugStack}\n`);
  }
  return exitCode;
}

/**
 * --json asks for JSON output, except where it is enqueue's parameters (followed by '{…}' or
 * '[…]') and, in `run`, after `--` (where everything is a parameter).
 */
function wantsJson(command: string | undefined, args: readonly string[]): boolean {
  const own = command === 'run' && args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  return own.some((arg, at) => arg === '--json' && !(command === 'enqueue' && looksLikeJsonParams(own[at + 1])));
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
  const rest = [...before, ...args.slice(index + 1)];
  const output: Output = { ...out, json: out.json || wantsJson(name, rest) };
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    if (name === 'help' || (name === undefined && (before.includes('--help') || before.includes('-h')))) {
      out.stdout.write(`${usage()}\n`);
      return EXIT.ok;
    }
    if (name === undefined && !output.json) {
      out.stderr.write(`${usage()}\n`);
      return EXIT.usage;
    }
    const problem =
      name === undefined ? 'missing the command' : name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`;
    return reportError(new UsageError(problem, { seeHelp: true }), output, undefined, env);
  }
  try {
    return await command.run({ args: rest, out: output, env });
  } catch (error) {
    return reportError(error, output, command.name, env);
  }
}

const isEntryPoint =
  process.argv[1] !== undefined &&
  import.meta.url === (await import('node:url')).pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href;
if (isEntryPoint) {
  const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, json: false });
  process.exitCode = code;
}
