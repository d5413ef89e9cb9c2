/**
 * Everything the dashboard changes, shared by the HTML forms and the JSON API. Bodies come
 * from forms (strings) or JSON (typed); both are checked here, the rest by the store.
 */
import { parseDuration } from '../foundation/duration.js';
import type { TaskStore } from '../task-store.js';
import {
  TASK_DEFINITION_STATUSES,
  type EnqueueOptions,
  type JsonObject,
  type TaskDefinition,
  type TaskDefinitionStatus,
  type TaskQueueItem,
} from '../foundation/types.js';
import { definitionById } from './data.js';
import { HttpError } from './http.js';

export const TASK_ACTIONS = ['retry', 'cancel', 'delete', 'restore', 'run-now'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];
export const DEFINITION_ACTIONS = ['activate', 'cancel', 'delete', 'restore'] as const;
export type DefinitionAction = (typeof DEFINITION_ACTIONS)[number];

export type Body = Record<string, unknown>;

function badRequest(message: string): HttpError {
  return new HttpError(400, message, 'INVALID_ARGUMENT');
}

export function stringField(body: Body, name: string, max = 10_000): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw badRequest(`${name} must be a string`);
  const text = String(value);
  if (text.length > max) throw badRequest(`${name} is longer than ${max} characters`);
  return text;
}

function integerField(body: Body, name: string, min: number): number | undefined {
  const text = stringField(body, name, 20)?.trim();
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d+$/.test(text) || Number(text) < min)
    throw badRequest(`${name} must be a whole number${min > Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : ''}`);
  return Number(text);
}

/** Parameters as a JSON object, or the text of one (a form's textarea). */
function paramsField(body: Body): JsonObject {
  const value = body['params'] ?? body['parameters'];
  if (value === undefined || value === null || value === '') return {};
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw badRequest(`params is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw badRequest('params must be a JSON object, like {"name": "Tom"}');
  return parsed as JsonObject;
}

/** retry / cancel / delete (soft) / restore / run now (a delayed queued task) a task; returns the task afterwards. */
export async function applyTaskAction(store: TaskStore, id: string, action: TaskAction): Promise<TaskQueueItem | null> {
  switch (action) {
    case 'retry':
      return store.taskQueueRequeueById(id);
    case 'cancel':
      return store.taskQueueCancelById(id);
    case 'delete':
      await store.taskQueueSoftDeleteById(id);
      return (await store.taskQueueList({ id, includeSoftDeleted: true, limit: 1 }))[0] ?? null;
    case 'restore':
      return store.taskQueueRestoreById(id);
    case 'run-now':
      return store.taskQueueRunNowById(id);
  }
}

async function existingDefinition(store: TaskStore, id: string): Promise<TaskDefinition> {
  const definition = await definitionById(store, id);
  if (!definition) throw new HttpError(404, `no task definition with id '${id}'`, 'NOT_FOUND');
  return definition;
}

export async function applyDefinitionAction(store: TaskStore, id: string, action: DefinitionAction): Promise<TaskDefinition> {
  switch (action) {
    case 'activate':
    case 'cancel':
      await existingDefinition(store, id);
      return store.taskDefinitionUpdate({ id, status: action === 'activate' ? 'active' : 'canceled' });
    case 'delete':
      await store.taskDefinitionSoftDeleteById(id);
      return existingDefinition(store, id);
    case 'restore':
      return store.taskDefinitionRestoreById(id);
  }
}

function definitionFields(body: Body): {
  alias?: string;
  title?: string;
  description?: string;
  memo?: string;
  status?: TaskDefinitionStatus;
  maxAttempts?: number;
} {
  const status = stringField(body, 'status', 20);
  if (status !== undefined && status !== '' && !(TASK_DEFINITION_STATUSES as readonly string[]).includes(status)) {
    throw badRequest(`status must be one of ${TASK_DEFINITION_STATUSES.join(', ')}`);
  }
  const fields = {
    alias: stringField(body, 'alias', 100)?.trim(),
    title: stringField(body, 'title', 255),
    description: stringField(body, 'description'),
    memo: stringField(body, 'memo'),
    status: status === '' ? undefined : (status as TaskDefinitionStatus | undefined),
    maxAttempts: integerField(body, 'maxAttempts', 1),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

export async function createDefinition(store: TaskStore, body: Body): Promise<TaskDefinition> {
  const fields = definitionFields(body);
  if (!fields.alias) throw badRequest('alias is required');
  return store.taskDefinitionCreate({ ...fields, alias: fields.alias });
}

export async function updateDefinition(store: TaskStore, id: string, body: Body): Promise<TaskDefinition> {
  await existingDefinition(store, id);
  return store.taskDefinitionUpdate({ id, ...definitionFields(body) });
}

/** Enqueues a task for the definition: queue, params (JSON), priority, delay ('30s', '5m'). */
export async function enqueueDefinition(store: TaskStore, id: string, body: Body): Promise<TaskQueueItem> {
  const definition = await existingDefinition(store, id);
  const options: EnqueueOptions = {};
  const priority = integerField(body, 'priority', Number.MIN_SAFE_INTEGER);
  if (priority !== undefined) options.priority = priority;
  const maxAttempts = integerField(body, 'maxAttempts', 1);
  if (maxAttempts !== undefined) options.maxAttempts = maxAttempts;
  const delay = stringField(body, 'delay', 40)?.trim();
  if (delay) {
    options.delayMs = parseDuration(delay, 'delay'); // INVALID_ARGUMENT answers 400
  }
  const uniqueKey = stringField(body, 'uniqueKey', 255);
  if (uniqueKey) options.uniqueKey = uniqueKey;
  return store.taskDefinitionEnqueueByAlias(stringField(body, 'queue', 100)?.trim() ?? '', definition.alias, paramsField(body), options);
}
