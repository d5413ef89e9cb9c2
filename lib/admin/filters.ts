/**
 * The task list's filters from a query string, every key and value checked against an
 * allowlist: unknown sort keys, statuses and page sizes are errors, never passed through.
 */
import { TASK_STATUSES, type SortOrder, type TaskQueueOrderBy, type TaskQueueQuery, type TaskStatus } from '../foundation/types.js';
import type { TaskStore } from '../task-store.js';
import { parseInstant } from '../foundation/time.js';

export const TASK_SORT_KEYS = [
  'createdAt',
  'updatedAt',
  'completedAt',
  'startedAt',
  'availableAt',
  'status',
  'queueName',
  'priority',
  'attempts',
] as const satisfies readonly TaskQueueOrderBy[];
export type TaskSortKey = (typeof TASK_SORT_KEYS)[number];
export const PAGE_SIZES = [20, 50, 100, 200] as const;
const MAX_TEXT = 200;

export interface TaskFilters {
  statuses: TaskStatus[];
  queue: string;
  alias: string;
  /** Parameters (their stored JSON text) containing this, ignoring case; '' = any. */
  params: string;
  /** A unique key starting with this; '' = any. */
  key: string;
  /** As given (for the form), and parsed. */
  fromText: string;
  toText: string;
  from: Date | null;
  to: Date | null;
  sort: TaskSortKey;
  order: SortOrder;
  page: number;
  perPage: number;
  deleted: boolean;
}

export function parseTaskFilters(params: URLSearchParams): { filters: TaskFilters; errors: string[] } {
  const errors: string[] = [];
  const text = (key: string) => (params.get(key) ?? '').trim().slice(0, MAX_TEXT);
  const statuses: TaskStatus[] = [];
  for (const value of params.getAll('status').flatMap((entry) => entry.split(','))) {
    const status = value.trim();
    if (status === '') continue;
    if ((TASK_STATUSES as readonly string[]).includes(status)) statuses.push(status as TaskStatus);
    else errors.push(`unknown status '${status}' (one of ${TASK_STATUSES.join(', ')})`);
  }
  const sortText = text('sort') || 'createdAt';
  const sort = (TASK_SORT_KEYS as readonly string[]).includes(sortText) ? (sortText as TaskSortKey) : 'createdAt';
  if (sort !== sortText) errors.push(`cannot sort by '${sortText}' (one of ${TASK_SORT_KEYS.join(', ')})`);
  const orderText = text('order') || 'desc';
  const order: SortOrder = orderText === 'asc' ? 'asc' : 'desc';
  if (orderText !== 'asc' && orderText !== 'desc') errors.push(`order must be asc or desc (got '${orderText}')`);
  const pageText = text('page') || '1';
  const page = /^\d{1,6}$/.test(pageText) && Number(pageText) >= 1 ? Number(pageText) : 1;
  if (String(page) !== pageText.replace(/^0+(?=\d)/, '')) errors.push(`page must be a positive whole number (got '${pageText}')`);
  const perText = text('per') || '50';
  const perPage = (PAGE_SIZES as readonly number[]).includes(Number(perText)) ? Number(perText) : 50;
  if (String(perPage) !== perText) errors.push(`per must be one of ${PAGE_SIZES.join(', ')} (got '${perText}')`);
  const fromText = text('from');
  const toText = text('to');
  const from = fromText === '' ? null : parseInstant(fromText, { requireOffset: false });
  const to = toText === '' ? null : parseInstant(toText, { requireOffset: false });
  if (fromText !== '' && !from) errors.push(`from: '${fromText}' is not a date (YYYY-MM-DDTHH:MM, UTC)`);
  if (toText !== '' && !to) errors.push(`to: '${toText}' is not a date (YYYY-MM-DDTHH:MM, UTC)`);
  const deletedText = text('deleted');
  return {
    filters: {
      statuses: [...new Set(statuses)],
      queue: text('queue'),
      alias: text('alias'),
      params: text('params'),
      key: text('key'),
      fromText,
      toText,
      from,
      to,
      sort,
      order,
      page,
      perPage,
      deleted: deletedText === '1' || deletedText === 'true' || deletedText === 'on',
    },
    errors,
  };
}

/** `page` and `per` of a list other than the task list (the definitions): checked as the task list checks them. */
export function parsePaging(params: URLSearchParams): { page: number; perPage: number; errors: string[] } {
  const { filters, errors } = parseTaskFilters(new URLSearchParams([...params].filter(([key]) => key === 'page' || key === 'per')));
  return { page: filters.page, perPage: filters.perPage, errors };
}

/**
 * The store query for these filters; null when the alias names no definition (then nothing
 * can match).
 */
export async function taskQueryFor(store: TaskStore, filters: TaskFilters): Promise<TaskQueueQuery | null> {
  // "Created" is id order: ids are UUIDv7, taken when the task is created, so the primary key
  // serves the default newest-first list without sorting every matching row.
  const query: TaskQueueQuery =
    filters.sort === 'createdAt' ? { sortOrder: filters.order } : { orderBy: filters.sort, sortOrder: filters.order };
  if (filters.statuses.length === 1) query.status = filters.statuses[0] as TaskStatus;
  else if (filters.statuses.length > 1) query.statuses = filters.statuses;
  if (filters.queue !== '') query.queueName = filters.queue;
  if (filters.from) query.createdFrom = filters.from;
  if (filters.to) query.createdTo = filters.to;
  if (filters.deleted) query.includeSoftDeleted = true;
  if (filters.params !== '') query.parametersText = filters.params;
  if (filters.key !== '') query.uniqueKeyPrefix = filters.key;
  if (filters.alias !== '') {
    const definition = (await store.taskDefinitionList({ alias: filters.alias, includeSoftDeleted: true, limit: 1 }))[0];
    if (!definition) return null;
    query.taskId = definition.id;
  }
  return query;
}

/** The filters as query-string pairs (for links that keep them), page excluded unless asked. */
export function filtersToParams(filters: TaskFilters, overrides: Record<string, string | number> = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const status of filters.statuses) params.append('status', status);
  if (filters.queue) params.set('queue', filters.queue);
  if (filters.alias) params.set('alias', filters.alias);
  if (filters.params) params.set('params', filters.params);
  if (filters.key) params.set('key', filters.key);
  if (filters.fromText) params.set('from', filters.fromText);
  if (filters.toText) params.set('to', filters.toText);
  if (filters.sort !== 'createdAt') params.set('sort', filters.sort);
  if (filters.order !== 'desc') params.set('order', filters.order);
  if (filters.perPage !== 50) params.set('per', String(filters.perPage));
  if (filters.deleted) params.set('deleted', '1');
  for (const [key, value] of Object.entries(overrides)) params.set(key, String(value));
  return params;
}
