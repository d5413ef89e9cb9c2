/**
 * List and count queries for definitions and queue items: validated against an allowlist,
 * then applied to a knex builder with every value bound, never interpolated.
 */
import type { Knex } from 'knex';
import { invalidArgument } from '../foundation/errors.js';
import {
  assertBoolean,
  assertInteger,
  assertKnownKeys,
  assertNonEmptyString,
  assertOneOf,
  assertPlainObject,
  assertStoredDate,
  assertStringArray,
} from '../foundation/validate.js';

type Builder = Knex.QueryBuilder;

/** The most rows one list call returns (as the CLI's --limit and scheduleListDue). */
export const MAX_LIST_LIMIT = 10_000;
/** The largest offset: far beyond any table taskstore serves, and within every dialect's LIMIT range. */
export const MAX_LIST_OFFSET = 2 ** 31 - 1;

/** One entity's query vocabulary: filter keys and sortable fields mapped to columns. */
export interface QuerySpec {
  readonly name: string;
  readonly statuses: readonly string[];
  readonly orderBy: Readonly<Record<string, string>>;
  /** Extra filters beyond the shared ones: key → how to apply a validated value. */
  readonly filters: Readonly<Record<string, (builder: Builder, value: string) => void>>;
}

/** The column of each sortable field: the field's name in snake_case ('createdAt' → 'created_at'). */
export function orderColumns<K extends string>(fields: readonly K[]): Readonly<Record<K, string>> {
  return Object.freeze(
    Object.fromEntries(fields.map((field) => [field, field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)])) as Record<K, string>,
  );
}

const SHARED_KEYS = [
  'id',
  'ids',
  'status',
  'statuses',
  'createdFrom',
  'createdTo',
  'limit',
  'offset',
  'orderBy',
  'sortOrder',
  'includeSoftDeleted',
] as const;

/** Validates a query object; returns it (or {} for undefined). Throws INVALID_ARGUMENT. */
export function validateQuery<Q extends object>(query: Q | undefined, spec: QuerySpec): Q {
  if (query === undefined) return {} as Q;
  assertPlainObject(query, `${spec.name} query`);
  const q = query as Record<string, unknown>;
  assertKnownKeys(q, [...SHARED_KEYS, ...Object.keys(spec.filters)], `${spec.name} query`);
  const at = (key: string) => `${spec.name} query.${key}`;
  if (q['id'] !== undefined) assertNonEmptyString(q['id'], at('id'));
  if (q['ids'] !== undefined) assertStringArray(q['ids'], at('ids'));
  if (q['status'] !== undefined) assertOneOf(q['status'], spec.statuses, at('status'));
  if (q['statuses'] !== undefined) {
    if (!Array.isArray(q['statuses']) || q['statuses'].length === 0) throw invalidArgument(`${at('statuses')} must be a non-empty array`);
    q['statuses'].forEach((status, index) => assertOneOf(status, spec.statuses, `${at('statuses')}[${index}]`));
  }
  if (q['createdFrom'] !== undefined) assertStoredDate(q['createdFrom'], at('createdFrom'));
  if (q['createdTo'] !== undefined) assertStoredDate(q['createdTo'], at('createdTo'));
  if (q['limit'] !== undefined) assertInteger(q['limit'], at('limit'), 1, MAX_LIST_LIMIT);
  if (q['offset'] !== undefined) assertInteger(q['offset'], at('offset'), 0, MAX_LIST_OFFSET);
  if (q['orderBy'] !== undefined) assertOneOf(q['orderBy'], Object.keys(spec.orderBy), at('orderBy'));
  if (q['sortOrder'] !== undefined) assertOneOf(q['sortOrder'], ['asc', 'desc'], at('sortOrder'));
  if (q['includeSoftDeleted'] !== undefined) assertBoolean(q['includeSoftDeleted'], at('includeSoftDeleted'));
  for (const key of Object.keys(spec.filters)) if (q[key] !== undefined) assertNonEmptyString(q[key], at(key));
  return query;
}

/** Adds the WHERE clauses of a validated query. */
export function applyFilters(builder: Builder, query: object, spec: QuerySpec): Builder {
  const q = query as Record<string, unknown>;
  if (q['id'] !== undefined) builder.where('id', q['id'] as string);
  if (q['ids'] !== undefined) builder.whereIn('id', q['ids'] as string[]);
  if (q['status'] !== undefined) builder.where('status', q['status'] as string);
  if (q['statuses'] !== undefined) builder.whereIn('status', q['statuses'] as string[]);
  if (q['createdFrom'] !== undefined) builder.where('created_at', '>=', q['createdFrom'] as Date);
  if (q['createdTo'] !== undefined) builder.where('created_at', '<=', q['createdTo'] as Date);
  if (q['includeSoftDeleted'] !== true) builder.whereNull('soft_deleted_at');
  for (const [key, apply] of Object.entries(spec.filters)) if (q[key] !== undefined) apply(builder, q[key] as string);
  return builder;
}

/** Adds ORDER BY (id, or the given field with id as the tie-breaker), LIMIT and OFFSET. */
export function applyPaging(builder: Builder, query: object, spec: QuerySpec): Builder {
  const q = query as Record<string, unknown>;
  // Default: id, which is a UUIDv7 and so creation order, served by the primary key.
  const column = q['orderBy'] === undefined ? 'id' : (spec.orderBy[q['orderBy'] as string] ?? 'id');
  const direction = (q['sortOrder'] as 'asc' | 'desc' | undefined) ?? 'asc';
  builder.orderBy(column, direction);
  if (column !== 'id') builder.orderBy('id', direction);
  if (q['limit'] !== undefined) builder.limit(q['limit'] as number);
  if (q['offset'] !== undefined) {
    // MySQL and SQLite accept OFFSET only after LIMIT; "no limit" is their largest value.
    if (q['limit'] === undefined) builder.limit(Number.MAX_SAFE_INTEGER);
    builder.offset(q['offset'] as number);
  }
  return builder;
}

/** COUNT(*) arrives as a number, a string (pg bigint) or a bigint. */
export function countOf(rows: unknown): number {
  const row = (rows as Record<string, unknown>[])[0] ?? {};
  return Number(Object.values(row)[0] ?? 0);
}
