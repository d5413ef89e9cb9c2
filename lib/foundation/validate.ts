/**
 * Argument checks shared by every public method. Each throws INVALID_ARGUMENT naming the
 * argument and what it got, before anything touches the database.
 */
import { invalidArgument } from './errors.js';
import { assertStorableKey } from './text.js';

/** The most attempts a task may have (a bound, so a typo cannot mean a million retries). */
export const MAX_ATTEMPTS_LIMIT = 1000;

const describe = (value: unknown): string => {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 60)}…` : value}'`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
};

/** A name, key or id: non-empty, short, and stored exactly as given (no U+0000, no lone surrogate). */
export function assertNonEmptyString(value: unknown, name: string, maxLength = 255): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidArgument(`${name} must be a non-empty string (got ${describe(value)})`);
  }
  if (value.length > maxLength) throw invalidArgument(`${name} must be at most ${maxLength} characters (got ${value.length})`);
  assertStorableKey(value, name);
}

export function assertOptionalString(value: unknown, name: string, maxLength = Infinity): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== 'string') throw invalidArgument(`${name} must be a string (got ${describe(value)})`);
  if (value.length > maxLength) throw invalidArgument(`${name} must be at most ${maxLength} characters (got ${value.length})`);
}

export function assertInteger(value: unknown, name: string, min = -Infinity, max = Infinity): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : 'an integer';
    throw invalidArgument(`${name} must be ${range}${max < Infinity ? ` up to ${max}` : ''} (got ${describe(value)})`);
  }
}

export function assertPositiveNumber(value: unknown, name: string, max = Infinity): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw invalidArgument(`${name} must be a positive number${max < Infinity ? ` up to ${max}` : ''} (got ${describe(value)})`);
  }
}

/** The longest delay a Node timer can hold (about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A positive duration in `unitMs` units (1000 for seconds) that a Node timer can hold: longer
 * values would silently become 1 ms timers.
 */
export function assertTimerDuration(value: unknown, name: string, unitMs: number, { allowZero = false } = {}): asserts value is number {
  if (allowZero) assertNonNegativeNumber(value, name);
  else assertPositiveNumber(value, name);
  const max = MAX_TIMER_MS / unitMs;
  if (value > max)
    throw invalidArgument(`${name} must be at most ${+max.toFixed(3)} (a Node timer's limit, about 24.8 days; got ${value})`);
}

export function assertNonNegativeNumber(value: unknown, name: string, max = Infinity): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw invalidArgument(`${name} must be a non-negative number${max < Infinity ? ` up to ${max}` : ''} (got ${describe(value)})`);
  }
}

export function assertDate(value: unknown, name: string): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalidArgument(`${name} must be a valid Date (got ${describe(value)})`);
  }
}

/** The instants every dialect stores and compares: MySQL's DATETIME ends with the year 9999. */
export const MIN_STORED_TIME_MS = 0; // 1970-01-01T00:00:00.000Z
export const MAX_STORED_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** The longest delay an enqueue may ask for: 3,650 days (about ten years). */
export const MAX_DELAY_MS = 3650 * 24 * 60 * 60 * 1000;

/** A Date that reaches the database (written, or compared with a column): within the stored range. */
export function assertStoredDate(value: unknown, name: string): asserts value is Date {
  assertDate(value, name);
  const ms = value.getTime();
  if (ms < MIN_STORED_TIME_MS || ms > MAX_STORED_TIME_MS) {
    throw invalidArgument(
      `${name} must be between ${new Date(MIN_STORED_TIME_MS).toISOString()} and ${new Date(MAX_STORED_TIME_MS).toISOString()} (got ${describe(value)})`,
    );
  }
}

/** A string whose UTF-8 form fits `maxBytes` (MySQL's TEXT holds 65,535 bytes, not characters). */
export function assertUtf8Bytes(value: string, name: string, maxBytes: number): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) throw invalidArgument(`${name} must be at most ${maxBytes} bytes in UTF-8 (got ${bytes} bytes)`);
}

export function assertOneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): asserts value is T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalidArgument(`${name} must be one of ${allowed.join(', ')} (got ${describe(value)})`);
  }
}

export function assertBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgument(`${name} must be a boolean (got ${describe(value)})`);
}

export function assertPlainObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (!isPlainObject(value)) throw invalidArgument(`${name} must be a plain object (got ${describe(value)})`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A non-empty array of non-empty strings (ids, statuses). */
export function assertStringArray(value: unknown, name: string): asserts value is string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidArgument(`${name} must be a non-empty array (got ${describe(value)})`);
  value.forEach((item, index) => assertNonEmptyString(item, `${name}[${index}]`));
}

/** Rejects keys an options or query object does not know, so a typo is not silently ignored. */
export function assertKnownKeys(value: Record<string, unknown>, known: readonly string[], name: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw invalidArgument(`${name}: unknown option '${key}' (known: ${known.join(', ')})`);
  }
}
