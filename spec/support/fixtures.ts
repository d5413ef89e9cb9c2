/** Small helpers shared by the store specs: id shapes, details lines, backdating rows. */
import { expect } from 'chai';
import type { TaskStore } from '../../lib/index.js';
import { randomName } from './dialects.js';

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** `YYYY-MM-DD HH:MM:SS : message` */
export const DETAILS_LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) : (.*)$/s;

/** The messages of a details text, asserting every line has the timestamp shape. */
export function detailMessages(details: string): string[] {
  if (details === '') return [];
  return details.split('\n').map((line) => {
    const match = DETAILS_LINE.exec(line);
    expect(match, `details line ${JSON.stringify(line)} has the 'YYYY-MM-DD HH:MM:SS : message' shape`).to.not.equal(null);
    return match![2]!;
  });
}

/** An alias no other test uses (handlers stay registered on the shared store across tests). */
export function uniqueAlias(prefix = 'Task'): string {
  return randomName(prefix).replace('_', '');
}

/** A unique queue name. */
export function uniqueQueue(prefix = 'q'): string {
  return randomName(prefix);
}

/** A table name that is a valid identifier and unique. */
export function uniqueTable(prefix = 't'): string {
  return randomName(prefix);
}

/**
 * Moves a running row's heartbeat_at and started_at `ms` into the past through the store's own
 * knex, keeping whatever storage format the implementation uses (Date, epoch ms or text).
 */
export async function backdateRunning(
  store: TaskStore,
  id: string,
  ms: number,
  { columns = ['heartbeat_at', 'started_at'], table = 'task_queue' }: { columns?: string[]; table?: string } = {},
): Promise<void> {
  const row = (await store.knex(table).where({ id }).first()) as Record<string, unknown> | undefined;
  expect(row, `row ${id} exists`).to.not.equal(undefined);
  const patch: Record<string, unknown> = {};
  for (const column of columns) {
    const value = row![column];
    if (value !== null && value !== undefined) patch[column] = shiftStoredDate(value, -ms);
  }
  expect(Object.keys(patch).length, 'running row has a heartbeat or start time').to.be.greaterThan(0);
  await store.knex(table).where({ id }).update(patch);
}

function shiftStoredDate(value: unknown, deltaMs: number): unknown {
  if (value instanceof Date) return new Date(value.getTime() + deltaMs);
  if (typeof value === 'number') return value + deltaMs;
  if (typeof value === 'bigint') return value + BigInt(deltaMs);
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return String(Number(value) + deltaMs);
    // text timestamps: ISO ('…T…Z') or SQL style ('YYYY-MM-DD HH:MM:SS[.fff]'), read as UTC
    const iso = value.includes('T') ? value : `${value.replace(' ', 'T')}Z`;
    const parsed = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
    if (Number.isNaN(parsed.getTime())) throw new Error(`cannot backdate stored date ${JSON.stringify(value)}`);
    const shifted = new Date(parsed.getTime() + deltaMs).toISOString();
    if (value.includes('T')) return value.endsWith('Z') ? shifted : shifted.slice(0, value.length);
    const fraction = /\.(\d+)/.exec(value)?.[1]?.length ?? 0;
    const sql = shifted.replace('T', ' ').replace('Z', '');
    return fraction === 0 ? sql.slice(0, 19) : sql.slice(0, 20 + fraction);
  }
  throw new Error(`cannot backdate stored date of type ${typeof value}`);
}

/** Alias of a taskHandlerList() entry, whether it lists handlers or alias strings. */
export function aliasOf(entry: unknown): string {
  if (typeof entry === 'string') return entry;
  if (entry && typeof entry === 'object' && 'alias' in entry) return String((entry as { alias: unknown }).alias);
  throw new Error(`unexpected taskHandlerList entry ${JSON.stringify(entry)}`);
}
