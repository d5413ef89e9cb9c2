/**
 * Queues in the dashboard: the queues page (pause / resume, the limits form) and the same
 * under api/queues. Everything goes through the store's queuePause, queueResume,
 * queueConfigure, queueSettings and queueList, which validate the name and the limits.
 */
import { parseDuration } from '../foundation/duration.js';
import type { QueueConfigureInput, QueueSettings, RateLimit } from '../foundation/types.js';
import { MAX_TIMER_MS } from '../foundation/validate.js';
import { MAX_QUEUE_LIMIT } from '../queue/queue-settings.js';
import type { TaskStore } from '../task-store.js';
import { stringField, type Body } from './actions.js';
import { queueEntries } from './data.js';
import { formErrorOf } from './form-errors.js';
import { HttpError, redirect, send, sendJson } from './http.js';
import { notFoundPage } from './pages/not-found.js';
import { formatPeriod, QUEUE_FORM_FIELDS, queuesPage, type QueuesPageData } from './pages/queues.js';
import { requestBody, type AdminRequest } from './request.js';

function badRequest(message: string): HttpError {
  return new HttpError(400, message, 'INVALID_ARGUMENT');
}

/** A limit field of the form: a whole number from 1 to MAX_QUEUE_LIMIT, or empty for none. */
function limitField(body: Body, name: string): number | null {
  const text = stringField(body, name, 20)?.trim() ?? '';
  if (text === '') return null;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_QUEUE_LIMIT)
    throw badRequest(`${name} must be a whole number from 1 to ${MAX_QUEUE_LIMIT}, or empty for no limit (got '${text}')`);
  return Number(text);
}

/** A rate from its two fields (a count and a period such as '1m'); both empty: none. */
function rateFields(body: Body, countName: string, periodName: string): RateLimit | null {
  const count = limitField(body, countName);
  const period = stringField(body, periodName, 40)?.trim() ?? '';
  if (count === null && period === '') return null;
  if (count === null) throw badRequest(`${countName} is required with a period (clear both for no limit)`);
  if (period === '') throw badRequest(`${periodName} is required with a count, e.g. 1s or 1m (clear both for no limit)`);
  const periodMs = parseDuration(period, periodName);
  if (periodMs < 1 || periodMs > MAX_TIMER_MS)
    throw badRequest(`${periodName} must be from 1ms to ${formatPeriod(MAX_TIMER_MS)} (got '${period}')`);
  return { count, periodMs };
}

/** The limits form as queueConfigure's input: every limit given, an empty field removing it. */
export function limitsInput(body: Body): QueueConfigureInput {
  return {
    concurrency: limitField(body, 'concurrency'),
    groupConcurrency: limitField(body, 'groupConcurrency'),
    rateLimit: rateFields(body, 'rateCount', 'ratePeriod'),
    groupRateLimit: rateFields(body, 'groupRateCount', 'groupRatePeriod'),
  };
}

function queueField(body: Body): string {
  const queue = stringField(body, 'queue', 1000);
  if (queue === undefined) throw badRequest('queue is required');
  return queue;
}

const QUEUE_ACTIONS = {
  pause: (store: TaskStore, queue: string) => store.queuePause(queue),
  resume: (store: TaskStore, queue: string) => store.queueResume(queue),
} as const;
type QueueAction = keyof typeof QUEUE_ACTIONS;
const isQueueAction = (action: string | undefined): action is QueueAction => action === 'pause' || action === 'resume';

async function renderQueues(request: AdminRequest, form?: QueuesPageData['form']): Promise<string> {
  const queues = await queueEntries(request.store, request.queueNames, request.options.countCap);
  return queuesPage(request.page, { queues, ...(form ? { form } : {}) });
}

/** GET /queues; POST /queues/pause, /queues/resume, /queues/limits with the queue in a field. */
export async function queuePageRoute(request: AdminRequest, segments: string[], body: Body | null): Promise<void> {
  const { store, page, res, headers } = request;
  const [, action] = segments;
  const htmlOut = (status: number, text: string) => send(res, status, 'text/html; charset=utf-8', text, headers);
  if (body === null) {
    if (segments.length !== 1) return htmlOut(404, notFoundPage(page));
    return htmlOut(200, await renderQueues(request));
  }
  if (segments.length !== 2) return htmlOut(404, notFoundPage(page));
  if (isQueueAction(action)) {
    const settings = await QUEUE_ACTIONS[action](store, queueField(body));
    request.queueNames.remember(settings.queueName);
    return redirect(res, `${page.base}/queues?notice=${action === 'pause' ? 'paused' : 'resumed'}`, headers);
  }
  if (action === 'limits') {
    const queue = queueField(body);
    try {
      request.queueNames.remember((await store.queueConfigure(queue, limitsInput(body))).queueName);
    } catch (error) {
      // A refused input: the page again, this queue's form keeping what was sent.
      const formError = formErrorOf(error, QUEUE_FORM_FIELDS);
      if (!formError) throw error;
      return htmlOut(formError.status, await renderQueues(request, { queue, values: body, error: formError }));
    }
    return redirect(res, `${page.base}/queues?notice=limits`, headers);
  }
  return htmlOut(404, notFoundPage(page));
}

/**
 * api/queues/settings: every queue's settings and counts; api/queues/<name>/settings: one
 * queue's; POST api/queues/<name>/pause, /resume; PATCH api/queues/<name> (queueConfigure's
 * input). `segments` come decoded, without 'api'. (GET api/queues, the names, is in api.ts.)
 */
export async function queueApiRoute(request: AdminRequest, segments: string[]): Promise<void> {
  const { store, method, res, headers } = request;
  const [, name, action] = segments;
  const get = method === 'GET' || method === 'HEAD';
  const ok = (value: unknown) => sendJson(res, 200, value, headers);
  const one = (settings: QueueSettings) => {
    request.queueNames.remember(settings.queueName);
    return ok({ queue: settings });
  };
  if (segments.length === 2 && name === 'settings' && get)
    return ok({ queues: await queueEntries(store, request.queueNames, request.options.countCap) });
  if (name !== undefined && segments.length === 3 && action === 'settings' && get) return ok({ queue: await store.queueSettings(name) });
  if (name !== undefined && segments.length === 3 && method === 'POST' && isQueueAction(action))
    return one(await QUEUE_ACTIONS[action](store, name));
  if (name !== undefined && segments.length === 2 && (method === 'PATCH' || method === 'PUT'))
    return one(await store.queueConfigure(name, (await requestBody(request)) as QueueConfigureInput));
  throw new HttpError(404, `no API route ${method} ${request.path}`, 'NOT_FOUND');
}
