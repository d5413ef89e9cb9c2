/**
 * What the pages and the JSON API show, read only through the public TaskStore API: stats by
 * queue, throughput over the last hour, task lists with their aliases, definitions.
 */
import type { TaskStore } from '../task-store.js';
import { TASK_STATUSES, type TaskDefinition, type TaskQueueItem, type TaskQueueStats } from '../foundation/types.js';
import { taskQueryFor, type TaskFilters } from './filters.js';

export interface QueueStats {
  queueName: string;
  stats: TaskQueueStats;
  total: number;
}

export interface ThroughputBucket {
  /** Start of the minute. */
  start: Date;
  success: number;
  failed: number;
}

export interface Overview {
  totals: TaskQueueStats;
  queues: QueueStats[];
  throughput: { since: Date; bucketMs: number; buckets: ThroughputBucket[]; success: number; failed: number; truncated: boolean };
  definitions: number;
  generatedAt: Date;
}

const QUEUE_SCAN_MS = 30_000;
const QUEUE_SAMPLE = 1000;
const THROUGHPUT_PAGE = 500;
const THROUGHPUT_MAX_ROWS = 5000;

function sumStats(stats: TaskQueueStats): number {
  return TASK_STATUSES.reduce((sum, status) => sum + stats[status], 0);
}

/**
 * Queue names: the configured ones plus those seen among the most recently changed tasks
 * (the public API has no "distinct queues" query), refreshed every 30 s at most.
 */
export class QueueNames {
  readonly #seen = new Set<string>();
  #scannedAt = 0;

  constructor(configured: readonly string[]) {
    for (const name of configured) this.#seen.add(name);
  }

  async list(store: TaskStore): Promise<string[]> {
    if (Date.now() - this.#scannedAt > QUEUE_SCAN_MS) {
      const recent = await store.taskQueueList({ orderBy: 'updatedAt', sortOrder: 'desc', limit: QUEUE_SAMPLE });
      for (const item of recent) this.#seen.add(item.queueName);
      this.#scannedAt = Date.now();
    }
    return [...this.#seen].sort();
  }

  remember(name: string): void {
    this.#seen.add(name);
  }
}

/** Finished tasks per minute over the last hour (by completion time; at most 5000 read). */
export async function throughput(store: TaskStore, now = new Date()): Promise<Overview['throughput']> {
  const bucketMs = 60_000;
  const end = Math.floor(now.getTime() / bucketMs) * bucketMs + bucketMs;
  const since = new Date(end - 60 * bucketMs);
  const buckets: ThroughputBucket[] = Array.from({ length: 60 }, (_, index) => ({
    start: new Date(since.getTime() + index * bucketMs),
    success: 0,
    failed: 0,
  }));
  let truncated = false;
  let done = false;
  for (let offset = 0; !done; offset += THROUGHPUT_PAGE) {
    if (offset >= THROUGHPUT_MAX_ROWS) {
      truncated = true;
      break;
    }
    const page = await store.taskQueueList({
      statuses: ['success', 'failed'],
      orderBy: 'completedAt',
      sortOrder: 'desc',
      limit: THROUGHPUT_PAGE,
      offset,
    });
    for (const item of page) {
      const at = item.completedAt?.getTime();
      if (at === undefined) continue;
      if (at < since.getTime()) {
        done = true;
        break;
      }
      const bucket = buckets[Math.min(59, Math.floor((at - since.getTime()) / bucketMs))];
      if (!bucket) continue;
      if (item.status === 'success') bucket.success += 1;
      else bucket.failed += 1;
    }
    if (page.length < THROUGHPUT_PAGE) done = true;
  }
  return {
    since,
    bucketMs,
    buckets,
    success: buckets.reduce((sum, bucket) => sum + bucket.success, 0),
    failed: buckets.reduce((sum, bucket) => sum + bucket.failed, 0),
    truncated,
  };
}

export async function overview(store: TaskStore, queueNames: QueueNames): Promise<Overview> {
  const names = await queueNames.list(store);
  const queues: QueueStats[] = [];
  for (const queueName of names) {
    const stats = await store.taskQueueStats({ queueName });
    queues.push({ queueName, stats, total: sumStats(stats) });
  }
  return {
    totals: await store.taskQueueStats(),
    queues,
    throughput: await throughput(store),
    definitions: await store.taskDefinitionCount(),
    generatedAt: new Date(),
  };
}

/** taskId → definition, for the tasks given (soft-deleted definitions too). */
export async function definitionsOf(store: TaskStore, items: readonly TaskQueueItem[]): Promise<Map<string, TaskDefinition>> {
  const ids = [...new Set(items.map((item) => item.taskId))];
  if (ids.length === 0) return new Map();
  const definitions = await store.taskDefinitionList({ ids, includeSoftDeleted: true });
  return new Map(definitions.map((definition) => [definition.id, definition]));
}

export function aliasOf(item: TaskQueueItem, definitions: Map<string, TaskDefinition>): string {
  return definitions.get(item.taskId)?.alias ?? String(item.parameters['task_alias'] ?? '?');
}

export interface TaskPage {
  items: TaskQueueItem[];
  aliases: Record<string, string>;
  total: number;
  page: number;
  perPage: number;
  pages: number;
}

export async function taskPage(store: TaskStore, filters: TaskFilters): Promise<TaskPage> {
  const query = await taskQueryFor(store, filters);
  if (!query) return { items: [], aliases: {}, total: 0, page: filters.page, perPage: filters.perPage, pages: 1 };
  const { orderBy: _orderBy, sortOrder: _sortOrder, ...countQuery } = query;
  const total = await store.taskQueueCount(countQuery);
  const items = await store.taskQueueList({ ...query, limit: filters.perPage, offset: (filters.page - 1) * filters.perPage });
  const definitions = await definitionsOf(store, items);
  return {
    items,
    aliases: Object.fromEntries(items.map((item) => [item.id, aliasOf(item, definitions)])),
    total,
    page: filters.page,
    perPage: filters.perPage,
    pages: Math.max(1, Math.ceil(total / filters.perPage)),
  };
}

/** A task by id, soft-deleted included, with its definition; null when there is none. */
export async function taskDetail(store: TaskStore, id: string): Promise<{ item: TaskQueueItem; definition: TaskDefinition | null } | null> {
  const [item] = await store.taskQueueList({ id, includeSoftDeleted: true, limit: 1 });
  if (!item) return null;
  const [definition] = await store.taskDefinitionList({ id: item.taskId, includeSoftDeleted: true, limit: 1 });
  return { item, definition: definition ?? null };
}

export async function definitionById(store: TaskStore, id: string): Promise<TaskDefinition | null> {
  const [definition] = await store.taskDefinitionList({ id, includeSoftDeleted: true, limit: 1 });
  return definition ?? null;
}

/** Definitions (soft-deleted ones too, when asked) with how many tasks each has by status. */
export async function definitionList(
  store: TaskStore,
  includeDeleted: boolean,
): Promise<{ definition: TaskDefinition; queued: number; failed: number; total: number }[]> {
  const definitions = await store.taskDefinitionList({ orderBy: 'alias', includeSoftDeleted: includeDeleted, limit: 500 });
  const rows = [];
  for (const definition of definitions) {
    rows.push({
      definition,
      queued: await store.taskQueueCount({ taskId: definition.id, status: 'queued' }),
      failed: await store.taskQueueCount({ taskId: definition.id, status: 'failed' }),
      total: await store.taskQueueCount({ taskId: definition.id }),
    });
  }
  return rows;
}
