/**
 * Parse helpers of the CLI: usage errors, durations ('5m', '7d'), key=value parameters and
 * the free `--key=value` parameters of `taskstore run`.
 */
import { parseDuration as parseDurationMs } from '../foundation/duration.js';
import { TaskStoreError } from '../foundation/errors.js';
import { MAX_DELAY_MS, MAX_TIMER_MS } from '../foundation/validate.js';
import { TASK_STATUSES, type JsonObject, type TaskStatus } from '../foundation/types.js';

/**
 * A mistake on the command line: printed as one line, exit code 2. With `seeHelp`, the line
 * ends with where to read the command's options: `(see taskstore list --help)`.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly seeHelp: boolean;

  constructor(message: string, { seeHelp = false }: { seeHelp?: boolean } = {}) {
    super(message);
    this.seeHelp = seeHelp;
  }
}

/** Something the user asked for does not exist: exit code 3. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The longest a duration option may be, and how its message states it. */
export interface DurationLimit {
  readonly ms: number;
  /** As people read it: '3650d', '24d (a Node timer's limit)'. */
  readonly shown: string;
}

/** A duration option ('30s', '5m', '7d', …) in milliseconds; a bad or too long one is a usage error. */
export function parseDuration(text: string, option: string, max?: DurationLimit): number {
  let ms: number;
  try {
    ms = parseDurationMs(text, option);
  } catch (error) {
    throw error instanceof TaskStoreError ? new UsageError(error.message) : error;
  }
  if (max && ms > max.ms) throw new UsageError(`${option}: '${text}' is too long (at most ${max.shown})`);
  return ms;
}

/** The longest --delay: the library's enqueue limit. */
export const MAX_DELAY: DurationLimit = { ms: MAX_DELAY_MS, shown: '3650d' };
/** The longest --interval or --grace: a Node timer's limit (2,147,483,647 ms). */
export const MAX_TIMER: DurationLimit = { ms: MAX_TIMER_MS, shown: "24d20h31m, a Node timer's limit" };

const formatNumber = (value: number): string => value.toLocaleString('en-US');

/** A whole number from `min` to `max`, for options such as --limit and --priority; the message states the range. */
export function parseInteger(text: string, option: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${option}: '${text}' is not a whole number`);
  const value = Number(text);
  if (value < min || value > max) {
    throw new UsageError(`${option}: ${text.trim()} is out of range (${formatNumber(min)}..${formatNumber(max)})`);
  }
  return value;
}

/** `k=v` pairs (from repeated --param) into an object; the value keeps any further '='. */
export function parseKeyValues(pairs: readonly string[], option: string): JsonObject {
  const params: JsonObject = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`${option}: expected key=value (got '${pair}')`);
    params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return params;
}

/** Whether a command-line argument is meant as JSON parameters: an object or (by mistake) an array. */
export function looksLikeJsonParams(text: string | undefined): boolean {
  return text !== undefined && /^\s*[{[]/.test(text);
}

/** Task parameters given on the command line as a JSON object. */
export function parseJsonObject(text: string, option: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${option}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
    throw new UsageError(`${option}: the parameters must be a JSON object, like '{"name":"Tom"}' (got ${got})`);
  }
  return value as JsonObject;
}

/** 'failed' or 'failed,canceled' (repeatable) into checked statuses. */
export function parseStatuses(values: readonly string[], option = '--status'): TaskStatus[] {
  const statuses = values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
  for (const status of statuses) {
    if (!(TASK_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`${option}: unknown status '${status}' (one of ${TASK_STATUSES.join(', ')})`);
    }
  }
  return [...new Set(statuses)] as TaskStatus[];
}

/**
 * The free parameters of `taskstore run <alias> --key=value …`: `--key=value` and
 * `--key value`; `--key=a=b` keeps `a=b`; a bare `--flag` is 'true'. Options named in
 * `reserved` (such as --database) are returned apart; after `--` everything is a parameter.
 */
export function parseRunArguments(
  args: readonly string[],
  reserved: Record<string, 'string' | 'boolean'>,
): { positionals: string[]; params: Record<string, string>; options: Record<string, string | boolean> } {
  const positionals: string[] = [];
  const params: Record<string, string> = {};
  const options: Record<string, string | boolean> = {};
  let onlyParams = false;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === '--' && !onlyParams) {
      onlyParams = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg !== '-' && !onlyParams) throw new UsageError(`unknown option '${arg}' (parameters are --key=value)`);
      positionals.push(arg);
      continue;
    }
    const body = arg.slice(2);
    const at = body.indexOf('=');
    const key = at === -1 ? body : body.slice(0, at);
    if (key === '') throw new UsageError(`'${arg}' has no parameter name`);
    let value: string | undefined = at === -1 ? undefined : body.slice(at + 1);
    const kind = onlyParams ? undefined : reserved[key];
    if (kind === 'boolean') {
      if (value !== undefined) throw new UsageError(`--${key} takes no value`);
      options[key] = true;
      continue;
    }
    if (value === undefined) {
      const next = args[index + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        index += 1;
      } else if (kind === 'string') {
        throw new UsageError(`--${key} needs a value`);
      } else {
        value = 'true';
      }
    }
    if (kind === 'string') options[key] = value;
    else params[key] = value;
  }
  return { positionals, params, options };
}
