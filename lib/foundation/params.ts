/**
 * Task parameters: a JSON object stored as text. Encoding rejects anything that would not
 * come back the same (functions, symbols, BigInt, class instances, cycles, NaN, holes in
 * arrays), anything nested deeper than MAX_PARAMETERS_DEPTH, and a property that cannot be
 * read (a throwing getter). Strings are kept exactly: JSON escapes U+0000 and lone
 * surrogates (`\u0000`, `\ud800`), so they are stored and read back unchanged on every dialect.
 */
import { TaskStoreError, invalidArgument } from './errors.js';
import { assertWithinBytes } from './limits.js';
import { isPlainObject } from './validate.js';
import type { JsonObject } from './types.js';

/** How deep objects and arrays may nest in parameters; the parameters object itself is level 1. */
export const MAX_PARAMETERS_DEPTH = 64;

/**
 * The JSON text of `params` (with `extra` keys set on top, such as `task_alias`), checked
 * against `maxBytes`. Every property is read once, so a getter cannot answer twice.
 */
export function encodeParameters(params: unknown, name: string, maxBytes: number, extra?: JsonObject): string {
  let copy: unknown;
  try {
    if (!isPlainObject(params)) throw invalidArgument(`${name} must be a plain JSON object (got ${describeKind(params)})`);
    copy = jsonCopy(params, name, 1, new Set());
  } catch (error) {
    if (error instanceof TaskStoreError) throw error;
    // A proxy trap, or a stack too deep even for the depth limit: still the caller's value.
    throw invalidArgument(`${name} could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = JSON.stringify(extra ? Object.assign(copy as JsonObject, extra) : copy);
  assertWithinBytes(text, maxBytes, `${name} as JSON`, 'maxParametersBytes');
  return text;
}

/**
 * The JSON text of any JSON value (not only an object), with the same checks as parameters,
 * at most `maxBytes` in UTF-8. For values that are not parameters (a task's progress data).
 */
export function encodeJsonValue(value: unknown, name: string, maxBytes: number): string {
  let copy: unknown;
  try {
    copy = jsonCopy(value, name, 1, new Set());
  } catch (error) {
    if (error instanceof TaskStoreError) throw error;
    throw invalidArgument(`${name} could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = JSON.stringify(copy);
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw invalidArgument(`${name} must be at most ${maxBytes} bytes as JSON (got ${Buffer.byteLength(text, 'utf8')})`);
  }
  return text;
}

/** A plain copy of a JSON value: only null-prototype objects, arrays and scalars (Dates as ISO text). */
function jsonCopy(value: unknown, path: string, depth: number, seen: Set<object>): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidArgument(`${path} must be a finite number (got ${value})`);
    return value;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalidArgument(`${path} is an invalid Date`);
    return value.toISOString(); // what JSON.stringify would store
  }
  if (typeof value !== 'object') throw invalidArgument(`${path} is not JSON-serialisable (got ${typeof value})`);
  if (seen.has(value)) throw invalidArgument(`${path} is circular`);
  if (!Array.isArray(value) && !isPlainObject(value)) {
    throw invalidArgument(`${path} must hold only plain objects, arrays and scalars (got ${describeKind(value)})`);
  }
  if (depth > MAX_PARAMETERS_DEPTH) {
    throw invalidArgument(`${path} is nested too deep: parameters may nest objects and arrays ${MAX_PARAMETERS_DEPTH} levels deep`);
  }
  seen.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (let index = 0; index < value.length; index++) {
      const at = `${path}[${index}]`;
      // JSON would store a hole (or undefined) as null: it would not come back the same.
      if (!(index in value)) throw invalidArgument(`${at} is a hole in a sparse array (JSON would store null)`);
      items.push(jsonCopy(read(value, index, at), at, depth + 1, seen));
    }
    copy = items;
  } else {
    const object: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value)) {
      const at = `${path}.${key}`;
      const item = read(value, key, at);
      if (item !== undefined) object[key] = jsonCopy(item, at, depth + 1, seen); // JSON leaves undefined out
    }
    copy = object;
  }
  seen.delete(value);
  return copy;
}

/** One property read; a getter that throws is the caller's bad value, named by its path. */
function read(container: object, key: string | number, path: string): unknown {
  try {
    return (container as Record<string | number, unknown>)[key];
  } catch (error) {
    throw invalidArgument(`${path} could not be read: its getter threw ${error instanceof Error ? error.message : String(error)}`);
  }
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'an unknown class'}`;
  return typeof value;
}

export function decodeParameters(text: unknown): JsonObject {
  if (typeof text !== 'string' || text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? (value as JsonObject) : {};
  } catch {
    return {};
  }
}

/** The parameters a handler sees: `task_alias` is the alias of the definition being run, whatever was stored. */
export function withTaskAlias(params: JsonObject, alias: string): JsonObject & { task_alias: string } {
  return { ...params, task_alias: alias };
}

/** A parameter as a string: scalars stringified, objects and arrays as JSON, '' when missing. */
export function paramAsString(params: JsonObject, key: string): string {
  const value = params[key];
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
