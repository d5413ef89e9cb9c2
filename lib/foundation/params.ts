/**
 * Task parameters: a JSON object stored as text. Encoding rejects anything that would not
 * come back the same (functions, symbols, BigInt, class instances, cycles, NaN).
 */
import { invalidArgument } from './errors.js';
import { isPlainObject } from './validate.js';
import type { JsonObject } from './types.js';

export function encodeParameters(params: unknown, name: string): string {
  if (!isPlainObject(params)) throw invalidArgument(`${name} must be a plain JSON object (got ${describeKind(params)})`);
  assertJson(params, name, new Set());
  return JSON.stringify(params);
}

function assertJson(value: unknown, path: string, seen: Set<object>): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidArgument(`${path} must be a finite number (got ${value})`);
    return;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalidArgument(`${path} is an invalid Date`);
    return; // stored as its ISO string
  }
  if (typeof value !== 'object') throw invalidArgument(`${path} is not JSON-serialisable (got ${typeof value})`);
  if (seen.has(value)) throw invalidArgument(`${path} is circular`);
  if (!Array.isArray(value) && !isPlainObject(value)) {
    throw invalidArgument(`${path} must hold only plain objects, arrays and scalars (got ${describeKind(value)})`);
  }
  seen.add(value);
  if (Array.isArray(value)) value.forEach((item, index) => assertJson(item, `${path}[${index}]`, seen));
  else for (const [key, item] of Object.entries(value)) if (item !== undefined) assertJson(item, `${path}.${key}`, seen);
  seen.delete(value);
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
