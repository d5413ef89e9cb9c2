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

/**
 * Strict parsing of a command's arguments. Unknown options, missing values and extra
 * arguments are usage errors in the CLI's own words, not node:util's.
 */
export function parseCommand(args: string[], options: OptionSpec = {}, maxPositionals = Infinity): Parsed {
  const all: OptionSpec = { ...GLOBAL_OPTIONS, ...options };
  const joined = joinNegativeNumbers(args, all);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joined, options: all, allowPositionals: true, strict: true });
  } catch (error) {
    throw parseArgsError(error, joined, all);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`, { seeHelp: true });
  }
  return new Parsed(parsed.values, parsed.positionals);
}

/**
 * `--priority -5` as `--priority=-5`: node:util parseArgs takes no value that starts with '-'
 * after a separate option name, but a negative number cannot be meant as an option.
 */
function joinNegativeNumbers(args: string[], options: OptionSpec): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === '--') return [...joined, ...args.slice(index)];
    const next = args[index + 1];
    const name = arg.startsWith('--')
      ? arg.slice(2)
      : Object.keys(options).find((long) => arg.length === 2 && options[long]?.short === arg.slice(1));
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d+(\.\d+)?$/.test(next)) {
      joined.push(`--${name}=${next}`);
      index += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/**
 * What node:util parseArgs refused (ERR_PARSE_ARGS_UNKNOWN_OPTION, …_INVALID_OPTION_VALUE,
 * …_UNEXPECTED_POSITIONAL), found again by a lenient parse of the same arguments and said
 * in one line.
 */
function parseArgsError(error: unknown, args: string[], options: OptionSpec): UsageError {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const positional = tokens.find((token) => token.kind === 'positional');
  if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && positional) {
    return new UsageError(`unexpected argument '${positional.value}'`, { seeHelp: true });
  }
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    const long = `--${token.name}`;
    if (!option) return new UsageError(`unknown option '${token.rawName}'`, { seeHelp: true });
    if (option.type === 'boolean' && token.value !== undefined) {
      return new UsageError(`${token.rawName} takes no value (got '${token.value}')`);
    }
    if (option.type === 'string' && token.value === undefined) return new UsageError(`${token.rawName} needs a value`, { seeHelp: true });
    if (option.type === 'string' && !token.inlineValue && token.value?.startsWith('-')) {
      return new UsageError(`${token.rawName} needs a value; to give it '${token.value}', write ${long}=${token.value}`);
    }
  }
  // Not found again: node's message, first sentence only.
  const message = error instanceof Error ? error.message : String(error);
  return new UsageError(
    (message.split(/\.\s/)[0] ?? message).replace(/^./, (first) => first.toLowerCase()),
    { seeHelp: true },
  );
}

/**
 * Warnings and errors of the library go to stderr, as `taskstore: warning: …` lines, or with
 * `json` as `{"level":"warning","message":"…"}` lines; debug and info stay quiet unless verbose.
 */
export function cliLogger(
  stderr: NodeJS.WritableStream,
  { json = false, verbose = false }: { json?: boolean; verbose?: boolean } = {},
): Logger {
  const write = (level: string, message: string, meta: unknown[]) => {
    const extra = meta.map((value) => (value instanceof Error ? value.message : '')).filter(Boolean);
    const text = `${message}${extra.length > 0 && !message.includes(extra[0] as string) ? ` (${extra.join('; ')})` : ''}`;
    stderr.write(json ? `${JSON.stringify({ level, message: text })}\n` : `taskstore: ${level}: ${text}\n`);
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
    logger: options.logger ?? cliLogger(context.out.stderr, { json: context.out.json }),
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
export function required(positionals: string[], index: number, what: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`, { seeHelp: true });
  return value;
}
