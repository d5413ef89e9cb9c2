/**
 * What every CLI command shares: the global options, strict parsing with node:util
 * parseArgs (its errors become usage errors), and opening the store.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultDatabaseUrl } from '../../adapters/index.js';
import { TaskStore } from '../task-store.js';
import type { Logger } from '../foundation/types.js';
import { UsageError } from './args.js';
import type { Output } from './output.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const GLOBAL_OPTIONS = {
  database: { type: 'string', short: 'd' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export interface CommandContext {
  /** The arguments after the command name. */
  readonly args: string[];
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
}

export interface Command {
  readonly name: string;
  /** One line for `taskstore --help`. */
  readonly summary: string;
  /** The command's own help text. */
  readonly usage: string;
  run(context: CommandContext): Promise<number>;
}

/** Parsed arguments, with typed accessors for the option values. */
export class Parsed {
  constructor(
    readonly values: Readonly<Record<string, unknown>>,
    readonly positionals: string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  list(name: string): string[] {
    const value = this.values[name];
    return Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : [];
  }
}

/** Strict parsing of a command's arguments: unknown options and missing values are usage errors. */
export function parseCommand(args: string[], options: OptionSpec = {}, maxPositionals = Infinity): Parsed {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, '') : String(error));
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`);
  return new Parsed(parsed.values, parsed.positionals);
}

/** Warnings and errors of the library go to stderr; debug and info stay quiet unless verbose. */
export function cliLogger(stderr: NodeJS.WritableStream, verbose = false): Logger {
  const write = (level: string, message: string, meta: unknown[]) => {
    const extra = meta.map((value) => (value instanceof Error ? value.message : '')).filter(Boolean);
    stderr.write(
      `taskstore: ${level}: ${message}${extra.length > 0 && !message.includes(extra[0] as string) ? ` (${extra.join('; ')})` : ''}\n`,
    );
  };
  return {
    debug: (message, ...meta) => verbose && write('debug', message, meta),
    info: (message, ...meta) => verbose && write('info', message, meta),
    warn: (message, ...meta) => write('warning', message, meta),
    error: (message, ...meta) => write('error', message, meta),
  };
}

/** The database URL: --database, then TASKSTORE_DATABASE_URL (unless empty), then sqlite:./taskstore.db. */
export function databaseUrl(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option ?? defaultDatabaseUrl(env);
}

/** Opens the store (migrating it), runs `use`, and closes the store whatever happens. */
export async function withStore<T>(
  context: CommandContext,
  database: string | undefined,
  use: (store: TaskStore) => Promise<T>,
  options: { automigrate?: boolean; logger?: Logger } = {},
): Promise<T> {
  const store = await TaskStore.open({
    database: databaseUrl(database, context.env),
    automigrate: options.automigrate ?? true,
    logger: options.logger ?? cliLogger(context.out.stderr),
  });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Prints a command's help when --help was given; true when it did. */
export function helpRequested(context: CommandContext, parsed: Parsed, usage: string): boolean {
  if (!parsed.flag('help')) return false;
  context.out.stdout.write(`${usage}\n`);
  return true;
}

/** A required positional argument. */
export function required(positionals: string[], index: number, what: string, usage: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}\n\n${usage}`);
  return value;
}
