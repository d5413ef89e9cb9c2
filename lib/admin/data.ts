/**
 * What the pages and the JSON API show, read only through the public TaskStore API and its
 * grouped reads (a page costs the same few statements with a thousand rows or a million):
 * stats by queue, throughput and timings over the last hour, task lists with their aliases,
 * definitions.
 */
import type { TaskStore } from '../task-store.js';
import type { QueueTimings } from '../foundation/insight-types.js';
import {
  TASK_STATUSES,
  emptyTaskStats,
  type QueueListEntry,
  type TaskDefinition,
  type TaskQueueItem,
  type TaskQueueStats,
  type TaskStatus,
} from '../foundation/types.js';
import { taskQueryFor, type TaskFilters } from './filters.js';

export interface QueueStats {
  queueName: string;
  /** Paused by queuePause: no runner claims from it. */
  paused: boolean;
  stats: TaskQueueStats;
  total: number;
  /** Statuses with more than the dashboard's countCap tasks (their count is the cap). */
  capped: TaskStatus[];
}

export interface ThroughputBucket {
  /** Start of the minute. */
  start: Date;
  success: number;
  failed: number;
}

export interface Overview {
  totals: TaskQueueStats;
  /** Statuses whose total is at least the count shown (a queue's count of them was capped). */
  capped: TaskStatus[];
  /** The dashboard's countCap option: the most tasks one count reads. */
  countCap: number;
  queues: QueueStats[];
  throughput: { since: Date; bucketMs: number; buckets: ThroughputBucket[]; success: number; failed: number };
  /** Wait and run times per queue over the same hour. */
  timings: QueueTimings[];
  definitions: number;
  generatedAt: Date;
}

const QUEUE_SCAN_MS = 30_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * Queue names for the filters: the configured ones plus every queue with live tasks (one
 * grouped read, at most every 30 s; the overview refreshes it with the counts it reads anyway).
 */
export class QueueNames {
  readonly #seen = new Set<string>();
  #scannedAt = 0;

  constructor(configured: readonly string[]) {
    for (const name of configured) this.#seen.add(name);
  }

  async list(store: TaskStore): Promise<string[]> {
    // Names only: a cap of 1 reads two index entries per queue and status.
    if (Date.now() - this.#scannedAt > QUEUE_SCAN_MS)
      this.saw((await store.taskQueueCountsByQueue({ cap: 1 })).map((row) => row.queueName));
    return [...this.#seen].sort();
  }

  /** Names read elsewhere just now: the next scan can wait. */
  saw(names: readonly string[]): void {
    for (const name of names) this.#seen.add(name);
    this.#scannedAt = Date.now();
  }

  remember(name: string): void {
    this.#seen.add(name);
  }
}

/** Attempts that ended per minute over the last hour, from the metrics workers record. */
export async function throughput(store: TaskStore, now = new Date()): Promise<Overview['throughput']> {
  const until = new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  const read = await store.taskQueueThroughput({ since: new Date(until.getTime() - HOUR_MS), until });
  return {
    since: read.since,
    bucketMs: read.bucketMs,
    // A retried attempt failed too: the chart counts every failed attempt.
    buckets: read.buckets.map((bucket) => ({ start: bucket.start, success: bucket.success, failed: bucket.failed + bucket.retried })),
    success: read.totals.success,
    failed: read.totals.failed + read.totals.retried,
  };
}

/** A queue that has neither settings nor tasks yet (a configured name): nothing limited, nothing counted. */
function unconfigured(queueName: string): QueueListEntry {
  const settings = { paused: false, concurrency: null, groupConcurrency: null, rateLimit: null, groupRateLimit: null, updatedAt: null };
  return { queueName, ...settings, stats: emptyTaskStats(), capped: [] };
}

/**
 * Every queue with its settings and its tasks by status (each counted up to `cap`): those
 * of `queueList` (one read of the settings table and one grouped count, whatever the number of
 * queues) plus the configured names, by name.
 */
export async function queueEntries(store: TaskStore, queueNames: QueueNames, cap: number): Promise<QueueListEntry[]> {
  const entries = await store.queueList({ cap });
  queueNames.saw(entries.map((entry) => entry.queueName));
  const byName = new Map(entries.map((entry) => [entry.queueName, entry]));
  return (await queueNames.list(store)).map((queueName) => byName.get(queueName) ?? unconfigured(queueName));
}

/** Five reads whatever the size of the queue table: queues (settings, counts), throughput, timings, definitions. */
export async function overview(store: TaskStore, queueNames: QueueNames, cap: number): Promise<Overview> {
  const now = new Date();
  const queues = (await queueEntries(store, queueNames, cap)).map(({ queueName, paused, stats, capped }) => {
    const total = TASK_STATUSES.reduce((sum, status) => sum + stats[status], 0);
    return { queueName, paused, stats, total, capped };
  });
  const totals = emptyTaskStats();
  for (const queue of queues) for (const status of TASK_STATUSES) totals[status] += queue.stats[status];
  const capped = TASK_STATUSES.filter((status) => queues.some((queue) => queue.capped.includes(status)));
  const chart = await throughput(store, now);
  return {
    totals,
    capped,
    countCap: cap,
    queues,
    throughput: chart,
    timings: await store.taskQueueTimings({ since: chart.since, until: new Date(chart.since.getTime() + HOUR_MS) }),
    definitions: await store.taskDefinitionCount(),
    generatedAt: now,
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
  /** Counted up to the dashboard's countCap: with `capped`, there are more. */
  total: number;
  capped: boolean;
  page: number;
  perPage: number;
  pages: number;
}

export async function taskPage(store: TaskStore, filters: TaskFilters, cap: number): Promise<TaskPage> {
  const query = await taskQueryFor(store, filters);
  if (!query) return { items: [], aliases: {}, total: 0, capped: false, page: filters.page, perPage: filters.perPage, pages: 1 };
  const { orderBy: _orderBy, sortOrder: _sortOrder, ...countQuery } = query;
  const { count: total, capped } = await store.taskQueueCountCapped(countQuery, { cap });
  const items = await store.taskQueueList({ ...query, limit: filters.perPage, offset: (filters.page - 1) * filters.perPage });
  const definitions = await definitionsOf(store, items);
  return {
    items,
    aliases: Object.fromEntries(items.map((item) => [item.id, aliasOf(item, definitions)])),
    total,
    capped,
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

export interface DefinitionRow {
  definition: TaskDefinition;
  queued: number;
  failed: number;
  total: number;
  /** Which of queued, failed and total were counted only up to the cap (there are more). */
  capped: ('queued' | 'failed' | 'total')[];
}

export interface DefinitionPage {
  rows: DefinitionRow[];
  /** Definitions in all (soft-deleted ones too, when shown). */
  total: number;
  page: number;
  perPage: number;
  pages: number;
}

/**
 * One page of definitions by alias (soft-deleted ones too, when asked), each with its tasks by
 * status, counted up to `cap` for the definitions of the page only: three reads.
 */
export async function definitionPage(
  store: TaskStore,
  options: { includeDeleted: boolean; page: number; perPage: number; cap: number },
): Promise<DefinitionPage> {
  const { includeDeleted, page, perPage, cap } = options;
  const total = await store.taskDefinitionCount({ includeSoftDeleted: includeDeleted });
  const definitions = await store.taskDefinitionList({
    orderBy: 'alias',
    includeSoftDeleted: includeDeleted,
    limit: perPage,
    offset: (page - 1) * perPage,
  });
  const taskIds = definitions.map((definition) => definition.id);
  const counts = new Map((await store.taskQueueCountsByDefinition({ taskIds, cap })).map((row) => [row.taskId, row]));
  const rows = definitions.map((definition) => {
    const row = counts.get(definition.id);
    const capped: DefinitionRow['capped'] = [];
    if (row?.capped.includes('queued')) capped.push('queued');
    if (row?.capped.includes('failed')) capped.push('failed');
    if (row && row.capped.length > 0) capped.push('total');
    return { definition, queued: row?.stats.queued ?? 0, failed: row?.stats.failed ?? 0, total: row?.total ?? 0, capped };
  });
  return { rows, total, page, perPage, pages: Math.max(1, Math.ceil(total / perPage)) };
}
