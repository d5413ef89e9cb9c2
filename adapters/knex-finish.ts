/**
 * The finishing write through knex, for the dialect without a hand-written one and without
 * RETURNING (MySQL/MariaDB; PostgreSQL and SQLite have prepared statements of their own): one
 * guarded UPDATE, or with `remove` one guarded DELETE, of many claimed items ending alike, each
 * matched on its (id, claim token).
 */
import type { Knex } from 'knex';
import type { Adapter, FinishRequest } from './adapter.js';

/**
 * The portable finish: one knex UPDATE matching (id, claim_token) pairs (or, with `remove`, one
 * DELETE matching them). A short count is resolved by reading the rows back (each written row
 * carries exactly this status and updated_at, and no token; a deleted row is gone).
 */
export async function finishWithKnex(adapter: Adapter, knex: Knex, table: string, request: FinishRequest): Promise<Set<string>> {
  const { items, status, output, details, availableAt, now, asyncCommit } = request;
  if (items.length === 0) return new Set();
  const ids = items.map((item) => item.id);
  const builder = knex(table)
    .whereIn('id', ids)
    // Fenced by the token alone, as in the PostgreSQL finish (see finishStatement there).
    .whereIn(
      ['id', 'claim_token'],
      items.map((item) => [item.id, item.token]),
    );
  const condition = asyncCommit ? adapter.asyncCommitCondition(knex) : null;
  if (condition) builder.where(condition);
  if (request.remove) return removeWithKnex(knex, table, ids, builder);
  const changes: Record<string, unknown> = { status, output, updated_at: now, claim_token: null };
  if (details !== '') changes['details'] = adapter.appendLine(knex, 'details', details);
  if (status === 'queued') {
    changes['available_at'] = availableAt;
  } else {
    changes['completed_at'] = now;
    changes['unique_key_active'] = null;
  }
  const written = (await builder.update(changes)) as number;
  if (written === items.length) return new Set(ids);
  if (written === 0) return new Set();
  const rows = (await knex(table).whereIn('id', ids).where({ status, updated_at: now }).whereNull('claim_token').select('id')) as {
    id: string;
  }[];
  return new Set(rows.map((row) => row.id));
}

/**
 * The fenced DELETE of `finishWithKnex`. A short count is resolved as the UPDATE's is, by
 * reading back: the ids whose rows are gone were deleted. (A row that an explicit hard delete,
 * `taskQueueDeleteById`, took while its handler ran counts as deleted here too; either way the
 * row is gone.)
 */
async function removeWithKnex(knex: Knex, table: string, ids: string[], fenced: Knex.QueryBuilder): Promise<Set<string>> {
  const deleted = (await fenced.del()) as number;
  if (deleted === ids.length) return new Set(ids);
  if (deleted === 0) return new Set();
  const left = new Set(((await knex(table).whereIn('id', ids).select('id')) as { id: string }[]).map((row) => String(row.id)));
  return new Set(ids.filter((id) => !left.has(id)));
}
