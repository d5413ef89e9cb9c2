/**
 * What a TypeScript user of the installed package may write, and what must not compile:
 * compiled with `tsc --strict --noEmit` by spec/package/package.spec.ts. Every
 * `@ts-expect-error` line is a mistake the declarations must catch (an unneeded one fails the
 * compile too).
 */
import {
  ScheduleRunner,
  TaskQueueRunner,
  TaskStore,
  defineTask,
  type JsonCompatible,
  type JsonObject,
  type JsonValue,
  type TaskParams,
  type TaskQueueItem,
} from 'taskstore';
import { createAdminHandler } from 'taskstore/admin';
import { createMigrationSource } from 'taskstore/migrations';
import { assertEnqueued, createTestStore, drain, refuteEnqueued, type DrainReport } from 'taskstore/testing';

// --- handlers: params typed by defineTask<P> ---------------------------------------------

export const sendWelcome = defineTask<{ email: string }>({
  alias: 'SendWelcomeEmail',
  maxAttempts: 3,
  async handle(ctx) {
    const email: string = ctx.params.email;
    const alias: string = ctx.params.task_alias; // added by taskstore, typed
    await ctx.logInfo(`Sending welcome mail to ${email} (${alias})`);
    // @ts-expect-error a parameter the type does not have
    return ctx.params.emial === undefined;
  },
});

export const hello = defineTask<{ name?: string }>({
  alias: 'HelloWorldTask',
  handle(ctx) {
    const name: string | undefined = ctx.params.name;
    // @ts-expect-error task_alias is a string
    const wrong: number = ctx.params.task_alias;
    return name !== String(wrong);
  },
});

interface ResizeParams {
  imageId: number;
  width?: number;
  tags: readonly string[];
  crop: { x: number; y: number } | null;
  meta: { source?: string; steps: [number, string] };
}
export const resize = defineTask<ResizeParams>({ alias: 'ResizeImage', handle: (ctx) => ctx.params.imageId > 0 });

type Aliased = { at: string; attempts?: number };
export const aliased = defineTask<Aliased>({ alias: 'Aliased', handle: () => true });

export const untyped = defineTask({
  alias: 'Untyped',
  handle(ctx) {
    const value: JsonValue | undefined = ctx.params['anything'];
    return value !== null;
  },
});

export const explicitJson = defineTask<JsonObject>({ alias: 'Explicit', handle: () => true });

export const seen: TaskParams<{ email: string }> = { email: 'ann@example.com', task_alias: 'SendWelcomeEmail' };
export function jsonOnly<P extends JsonCompatible<P>>(params: P): P {
  return params;
}
jsonOnly<ResizeParams>({ imageId: 1, tags: [], crop: null, meta: { steps: [1, 'one'] } });
// @ts-expect-error JsonCompatible is the check, for functions of your own too
jsonOnly<{ at: Date }>({ at: new Date() });

// @ts-expect-error a function is not JSON
defineTask<{ callback: () => void }>({ alias: 'BadFunction', handle: () => true });
// @ts-expect-error a Date is not JSON (it would come back as a string)
defineTask<{ at: Date }>({ alias: 'BadDate', handle: () => true });
// @ts-expect-error a Date in a nested property
defineTask<{ meta: { at: Date } }>({ alias: 'BadNestedDate', handle: () => true });
// @ts-expect-error an optional Date
defineTask<{ at?: Date }>({ alias: 'BadOptionalDate', handle: () => true });
// @ts-expect-error undefined inside an array (JSON turns it into null)
defineTask<{ list: (string | undefined)[] }>({ alias: 'BadArray', handle: () => true });
// @ts-expect-error a Map
defineTask<{ lookup: Map<string, string> }>({ alias: 'BadMap', handle: () => true });
// @ts-expect-error a bigint
defineTask<{ big: bigint }>({ alias: 'BadBigint', handle: () => true });
// @ts-expect-error unknown is not known to be JSON
defineTask<{ anything: unknown }>({ alias: 'BadUnknown', handle: () => true });

// --- enqueueing -------------------------------------------------------------------------

export async function enqueueing(store: TaskStore): Promise<TaskQueueItem[]> {
  const items: TaskQueueItem[] = [];
  items.push(await store.enqueue(sendWelcome, { email: 'ann@example.com' }));
  items.push(
    await store.enqueue(sendWelcome, { email: 'bob@example.com' }, { queueName: 'emails', delayMs: 1000, uniqueKey: 'welcome:bob' }),
  );
  items.push(
    ...(await store.enqueueMany(sendWelcome, [{ email: 'a@example.com' }, { email: 'b@example.com' }], {
      queueName: 'emails',
      priority: 2,
    })),
  );
  items.push(await store.enqueue(hello, {}));
  items.push(await store.enqueue(hello, { name: 'Tom' }));
  items.push(await store.enqueue(resize, { imageId: 1, tags: ['a'], crop: null, meta: { steps: [1, 'one'] } }));
  items.push(await store.enqueue(aliased, { at: '2030-01-01T00:00:00Z' }));
  items.push(await store.enqueue(untyped, { anything: [1, 'two', { three: null }], optional: undefined }));
  items.push(await store.enqueue(explicitJson, { k: 'v' }));
  items.push(await store.taskDefinitionEnqueueByAlias('emails', 'SendWelcomeEmail', { email: 'c@example.com' }));
  const parameters: JsonObject = items[0]!.parameters;

  // @ts-expect-error email must be a string
  await store.enqueue(sendWelcome, { email: 42 });
  // @ts-expect-error email is required
  await store.enqueue(sendWelcome, {});
  // @ts-expect-error a misspelt parameter
  await store.enqueue(sendWelcome, { email: 'a', emial: 'b' });
  // @ts-expect-error one element of a batch is wrong
  await store.enqueueMany(sendWelcome, [{ email: 'a' }, { email: 1 }]);
  // @ts-expect-error queueName is a string
  await store.enqueue(sendWelcome, { email: 'a' }, { queueName: 1 });
  // @ts-expect-error an unknown option
  await store.enqueue(sendWelcome, { email: 'a' }, { queue: 'emails' });
  // @ts-expect-error uniqueKey applies to one task, not a batch
  await store.enqueueMany(sendWelcome, [{ email: 'a' }], { uniqueKey: 'k' });
  // @ts-expect-error a Date is not JSON, even for an untyped task
  await store.enqueue(untyped, { at: new Date() });
  // @ts-expect-error nor for enqueueing by alias
  await store.taskDefinitionEnqueueByAlias('emails', 'SendWelcomeEmail', { at: new Date() });
  // @ts-expect-error a function is not JSON
  await store.taskDefinitionEnqueueByAlias('emails', 'SendWelcomeEmail', { callback: () => 1 });
  // @ts-expect-error a nested value of the wrong type
  await store.enqueue(resize, { imageId: 1, tags: ['a'], crop: { x: 1, y: '2' }, meta: { steps: [1, 'one'] } });
  return parameters === null ? [] : items;
}

// --- runners: events typed by name ------------------------------------------------------

export function listening(store: TaskStore): void {
  const runner = new TaskQueueRunner(store, { queueName: 'emails', maxConcurrency: 4 });
  runner.on('task:success', (item) => item.id);
  runner.on('task:failure', (item, error) => `${item.id}: ${error.message}`);
  runner.on('task:retry', (item, error, availableAt) => availableAt.getTime());
  runner.once('error', (error) => error.message);
  const scheduler = new ScheduleRunner(store);
  scheduler.on('schedule:fired', (schedule, item) => `${schedule.name} ${item.id}`);
  scheduler.on('schedule:deactivated', (schedule, reason) => reason.length);

  // @ts-expect-error a misspelt event name
  runner.on('task:succes', () => {});
  // @ts-expect-error a listener that expects the wrong arguments
  runner.on('task:retry', (item: string) => item);
  // @ts-expect-error an event of the other runner
  runner.on('schedule:fired', () => {});
  // @ts-expect-error a misspelt schedule event
  scheduler.on('schedule:fire', () => {});
  // @ts-expect-error off is typed too
  runner.off('task:sucess', () => {});
}

// --- migrations and the dashboard -------------------------------------------------------

export async function settingUp(store: TaskStore): Promise<string[]> {
  const applied: string[] = await store.migrateUp();
  const source = createMigrationSource({ taskQueueTableName: 'jobs' });
  const names = (await source.getMigrations([])).map((migration) => source.getMigrationName(migration));
  createAdminHandler(store, { basePath: '/admin' });
  // @ts-expect-error a misspelt table option
  createMigrationSource({ queueTableName: 'jobs' });
  return [...applied, ...names];
}

// --- taskstore/testing ------------------------------------------------------------------

export async function userTest(): Promise<DrainReport> {
  const store = await createTestStore([sendWelcome]);
  await store.enqueue(sendWelcome, { email: 'a@b.c' }, { queueName: 'emails' });
  await assertEnqueued(store, { alias: 'SendWelcomeEmail', params: { email: 'a@b.c' } });
  // @ts-expect-error params are JSON
  await refuteEnqueued(store, { params: { when: new Date() } });
  const report = await drain(store, { queueName: 'emails', runDelayed: true });
  await store.close();
  return report;
}
