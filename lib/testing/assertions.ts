/**
 * `assertEnqueued` and `refuteEnqueued`: what a test says about the tasks its code queued.
 * Parameters match partially (the expected object's keys, recursively; arrays element by
 * element and of the same length). A failure throws node's AssertionError, which mocha,
 * node:test, vitest and jest all report, with a message that lists what is there instead.
 */
import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';
import { invalidArgument } from '../foundation/errors.js';
import { TASK_STATUSES, type JsonObject, type JsonValue, type TaskQueueItem, type TaskStatus } from '../foundation/types.js';
import type { TaskStore } from '../task-store.js';

export interface EnqueuedExpectation {
  /** The task definition's alias (matched as the store matches aliases). Default: any. */
  alias?: string;
  /** The queue ('' is the default queue). Default: any. */
  queueName?: string;
  /** Expected parameters: every key given must match; others may be there too. */
  params?: JsonObject;
  /** Statuses that count. @defaultValue 'queued' */
  status?: TaskStatus | TaskStatus[];
  /** assertEnqueued only: exactly this many must match. Default: at least one. */
  count?: number;
}

/** Resolves the matching items; throws an AssertionError when none match (or not `count`). */
export async function assertEnqueued(store: TaskStore, expected: EnqueuedExpectation): Promise<TaskQueueItem[]> {
  const { matching, candidates, aliases } = await find(store, expected);
  const ok = expected.count === undefined ? matching.length > 0 : matching.length === expected.count;
  if (ok) return matching;
  const wanted = expected.count === undefined ? 'at least one' : `exactly ${expected.count}`;
  throw new AssertionError({
    message: `assertEnqueued: expected ${wanted} ${describe(expected)}; found ${matching.length}.\n${listing(candidates, aliases)}`,
    actual: matching.length,
    expected: expected.count ?? 1,
    operator: 'assertEnqueued',
  });
}

/** Throws an AssertionError when any item matches. */
export async function refuteEnqueued(store: TaskStore, expected: Omit<EnqueuedExpectation, 'count'>): Promise<void> {
  const { matching, aliases } = await find(store, expected);
  if (matching.length === 0) return;
  throw new AssertionError({
    message: `refuteEnqueued: expected no ${describe(expected)}; found ${matching.length}.\n${listing(matching, aliases)}`,
    actual: matching.length,
    expected: 0,
    operator: 'refuteEnqueued',
  });
}

async function find(store: TaskStore, expected: EnqueuedExpectation) {
  if (typeof expected !== 'object' || expected === null) throw invalidArgument('the expectation must be an object');
  const statuses = expected.status === undefined ? ['queued' as const] : [expected.status].flat();
  const unknown = statuses.find((status) => !TASK_STATUSES.includes(status));
  if (unknown !== undefined) throw invalidArgument(`unknown status '${String(unknown)}' (known: ${TASK_STATUSES.join(', ')})`);
  let taskId: string | undefined;
  if (expected.alias !== undefined) {
    const definition = await store.taskDefinitionFindByAlias(expected.alias);
    // No definition: nothing can match, and the listing shows what is there.
    taskId = definition?.id ?? '';
  }
  const candidates = await store.taskQueueList({ statuses, queueName: expected.queueName, orderBy: 'id', sortOrder: 'asc', limit: 10_000 });
  const matching = candidates.filter(
    (item) =>
      (taskId === undefined || item.taskId === taskId) && (expected.params === undefined || matches(item.parameters, expected.params)),
  );
  const aliases = new Map<string, string>();
  for (const item of candidates) {
    if (!aliases.has(item.taskId)) aliases.set(item.taskId, (await store.taskDefinitionFindById(item.taskId))?.alias ?? item.taskId);
  }
  return { matching, candidates, aliases };
}

/** Whether `actual` holds everything `expected` says (objects partially, recursively). */
export function matches(actual: JsonValue | undefined, expected: JsonValue): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((value, i) => matches(actual[i], value));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const object = actual as JsonObject;
    return Object.entries(expected).every(([key, value]) => value === undefined || matches(object[key], value));
  }
  return Object.is(actual, expected);
}

function describe(expected: EnqueuedExpectation): string {
  const statuses = expected.status === undefined ? 'queued' : [expected.status].flat().join('/');
  const parts = [`${statuses} task`];
  if (expected.alias !== undefined) parts.push(`'${expected.alias}'`);
  if (expected.queueName !== undefined) parts.push(`in queue '${expected.queueName}'`);
  if (expected.params !== undefined) parts.push(`with params matching ${inspect(expected.params, { depth: 6, breakLength: Infinity })}`);
  return parts.join(' ');
}

/** Up to 20 items, one line each: alias, queue, status and parameters. */
function listing(items: readonly TaskQueueItem[], aliases: ReadonlyMap<string, string>): string {
  if (items.length === 0) return 'There are no tasks with those statuses.';
  const lines = items
    .slice(0, 20)
    .map(
      (item) =>
        `  - '${aliases.get(item.taskId) ?? item.taskId}' in queue '${item.queueName}', ${item.status}, params ${inspect(item.parameters, { depth: 6, breakLength: Infinity })}`,
    );
  const more = items.length > 20 ? [`  … and ${items.length - 20} more`] : [];
  return [`Tasks with those statuses (${items.length}):`, ...lines, ...more].join('\n');
}
