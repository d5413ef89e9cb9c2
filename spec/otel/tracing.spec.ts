/**
 * taskstore/otel tracing on every dialect: an enqueue inside an active span is a producer
 * span `send <queue>` whose W3C context the task stores; processing it is a consumer span
 * `process <queue>` that links to that context, is active while the handler runs, and says
 * how the attempt ended. Without hooks nothing is stored.
 */
import { expect } from 'chai';
import { SpanKind, SpanStatusCode, context, createTraceState, trace, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { defineTask, type TaskStore } from '../../lib/index.js';
import { TABLES, forEachDialect, uniqueAlias, uniqueQueue } from '../support/index.js';
import { createTelemetry, useAsyncContext, type Telemetry } from './telemetry.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

forEachDialect('otel tracing', (t) => {
  useAsyncContext();
  let telemetry: Telemetry;
  let store: TaskStore;
  let queue: string;

  before(async function () {
    telemetry = createTelemetry();
    store = await t.openStore({ hooks: [telemetry.hooks] });
  });

  after(async function () {
    await telemetry.shutdown();
  });

  beforeEach(function () {
    queue = uniqueQueue();
  });

  const spanNamed = (name: string): ReadableSpan => {
    const found = telemetry.spans().filter((span) => span.name === name);
    expect(found, `spans named '${name}'`).to.have.length(1);
    return found[0] as ReadableSpan;
  };

  const storedContext = async (id: string): Promise<unknown> =>
    ((await store.knex(TABLES.queue).where('id', id).first('trace_context')) as { trace_context: unknown }).trace_context;

  /** Runs `work` inside an active span of the application's own ('request'); resolves what it resolved and that span's context. */
  async function inRequest<T>(work: () => Promise<T>): Promise<{ result: T; request: SpanContext }> {
    const tracer = telemetry.tracerProvider.getTracer('app');
    return tracer.startActiveSpan('request', async (span) => {
      try {
        return { result: await work(), request: span.spanContext() };
      } finally {
        span.end();
      }
    });
  }

  it('stores the traceparent of the send span, a producer child of the active span, with the messaging attributes', async function () {
    const alias = uniqueAlias('Traced');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const { result: item, request } = await inRequest(() => store.taskDefinitionEnqueueByAlias(queue, alias, { n: 1 }));

    const send = spanNamed(`send ${queue}`);
    expect(send.kind).to.equal(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).to.equal(request.spanId);
    expect(send.spanContext().traceId).to.equal(request.traceId);
    expect(send.attributes).to.deep.include({
      'messaging.system': 'taskstore',
      'messaging.operation.type': 'send',
      'messaging.destination.name': queue,
      'messaging.message.id': item.id,
      'taskstore.task.alias': alias,
    });
    const stored = await storedContext(item.id);
    expect(stored).to.equal(`00-${request.traceId}-${send.spanContext().spanId}-01`);
    expect(item.traceContext).to.equal(stored);
    expect((await store.taskQueueFindById(item.id))?.traceContext).to.equal(stored);
  });

  it('keeps the tracestate after the traceparent', async function () {
    const alias = uniqueAlias('TraceState');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const remote: SpanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
      traceState: createTraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'),
    };
    const item = await context.with(trace.setSpanContext(context.active(), remote), () =>
      store.taskDefinitionEnqueueByAlias(queue, alias, {}),
    );
    const send = spanNamed(`send ${queue}`);
    expect(await storedContext(item.id)).to.equal(
      `00-0af7651916cd43dd8448eb211c80319c-${send.spanContext().spanId}-01 congo=t61rcWkgMzE,rojo=00f067aa0ba902b7`,
    );
  });

  it('processes in a consumer span `process <queue>` that links to the send span and is active in the handler', async function () {
    const alias = uniqueAlias('Processed');
    let activeInHandler: string | undefined;
    await store.taskHandlerAdd(
      defineTask({
        alias,
        handle: () => {
          activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
          return true;
        },
      }),
      true,
    );
    const { result: item } = await inRequest(() => store.taskDefinitionEnqueueByAlias(queue, alias, {}));
    const done = await store.taskQueueProcessNext(queue);
    expect(done?.status).to.equal('success');

    const send = spanNamed(`send ${queue}`);
    const process = spanNamed(`process ${queue}`);
    expect(process.kind).to.equal(SpanKind.CONSUMER);
    expect(process.attributes).to.deep.include({
      'messaging.system': 'taskstore',
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'messaging.message.id': item.id,
      'taskstore.task.alias': alias,
      'taskstore.task.attempt': 1,
      'taskstore.task.status': 'success',
    });
    expect(process.links).to.have.length(1);
    expect(process.links[0]?.context).to.include({
      traceId: send.spanContext().traceId,
      spanId: send.spanContext().spanId,
      isRemote: true,
    });
    // Processed outside the request: a trace of its own, joined to the enqueue by the link.
    expect(process.parentSpanContext).to.equal(undefined);
    expect(process.status.code).to.not.equal(SpanStatusCode.ERROR);
    expect(activeInHandler).to.equal(process.spanContext().spanId);
  });

  it('sets status ERROR and records the exception when the handler fails, on a retry and on the last attempt', async function () {
    const alias = uniqueAlias('Failing');
    await store.taskHandlerAdd(
      defineTask({
        alias,
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 0 },
        handle: () => {
          throw new TypeError('boom');
        },
      }),
      true,
    );
    const item = await store.taskDefinitionEnqueueByAlias(queue, alias, {});
    expect((await store.taskQueueProcessNext(queue))?.status).to.equal('queued');
    expect((await store.taskQueueProcessNext(queue))?.status).to.equal('failed');

    const processed = telemetry.spans().filter((span) => span.name === `process ${queue}`);
    expect(processed.map((span) => [span.attributes['taskstore.task.attempt'], span.attributes['taskstore.task.status']])).to.deep.equal([
      [1, 'retry'],
      [2, 'failed'],
    ]);
    for (const span of processed) {
      expect(span.attributes['messaging.message.id']).to.equal(item.id);
      expect(span.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'boom' });
      expect(span.attributes['error.type']).to.equal('TypeError');
      const exception = span.events.find((event) => event.name === 'exception');
      expect(exception?.attributes).to.include({ 'exception.type': 'TypeError', 'exception.message': 'boom' });
    }
    // Enqueued with no span active: the send span is a root, and the processing still links to it.
    const send = spanNamed(`send ${queue}`);
    expect(send.parentSpanContext).to.equal(undefined);
    expect(processed[1]?.links[0]?.context.spanId).to.equal(send.spanContext().spanId);
  });

  it('carries the context on every enqueue path: many, in a transaction, debounced, a flow', async function () {
    const alias = uniqueAlias('Paths');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const many = await store.taskDefinitionEnqueueManyByAlias(queue, alias, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const sendMany = spanNamed(`send ${queue}`);
    expect(sendMany.attributes).to.deep.include({ 'messaging.batch.message_count': 3 });
    expect(sendMany.attributes).to.not.have.property('messaging.message.id');
    for (const item of many)
      expect(await storedContext(item.id))
        .to.equal(item.traceContext)
        .and.match(TRACEPARENT);
    expect(new Set(many.map((item) => item.traceContext)).size).to.equal(1);

    const inTransaction = uniqueQueue();
    const committed = await store.knex.transaction((trx) =>
      store.taskDefinitionEnqueueByAlias(inTransaction, alias, {}, { transaction: trx }),
    );
    const sendInTransaction = spanNamed(`send ${inTransaction}`).spanContext();
    expect(committed.traceContext).to.equal(`00-${sendInTransaction.traceId}-${sendInTransaction.spanId}-01`);
    expect(await storedContext(committed.id)).to.equal(committed.traceContext);

    const debounced = uniqueQueue();
    const first = await store.taskDefinitionEnqueueByAlias(debounced, alias, { v: 1 }, { uniqueKey: 'k', debounceMs: 60_000 });
    const second = await store.taskDefinitionEnqueueByAlias(debounced, alias, { v: 2 }, { uniqueKey: 'k', debounceMs: 60_000 });
    expect(second).to.include({ id: first.id, outcome: 'debounced' });
    const sends = telemetry.spans().filter((span) => span.name === `send ${debounced}`);
    expect(sends).to.have.length(2);
    // The task carries the context of the enqueue that last set its parameters.
    expect(await storedContext(first.id)).to.equal(`00-${sends[1]?.spanContext().traceId}-${sends[1]?.spanContext().spanId}-01`);
    expect(sends.map((span) => span.attributes['messaging.message.id'])).to.deep.equal([first.id, first.id]);

    const flowQueue = uniqueQueue();
    const flow = await store.flowEnqueue({
      queueName: flowQueue,
      steps: [
        { key: 'a', alias },
        { key: 'b', alias, dependsOn: ['a'] },
      ],
    });
    const sendFlow = spanNamed(`send ${flowQueue}`);
    expect(sendFlow.attributes).to.deep.include({ 'messaging.batch.message_count': 2 });
    expect(sendFlow.attributes).to.not.have.property('taskstore.task.alias');
    for (const item of Object.values(flow.items)) {
      expect(await storedContext(item.id)).to.equal(`00-${sendFlow.spanContext().traceId}-${sendFlow.spanContext().spanId}-01`);
    }
  });

  it('ends the send span with status ERROR when the write fails, and stores nothing', async function () {
    const alias = uniqueAlias('Unique');
    await store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    await store.taskDefinitionEnqueueByAlias(queue, alias, {}, { uniqueKey: 'once' });
    let failure: unknown;
    await store.taskDefinitionEnqueueByAlias(queue, alias, {}, { uniqueKey: 'once' }).catch((error: unknown) => (failure = error));
    expect(failure).to.have.property('code', 'ALREADY_EXISTS');
    const sends = telemetry.spans().filter((span) => span.name === `send ${queue}`);
    expect(sends.map((span) => span.status.code)).to.deep.equal([SpanStatusCode.UNSET, SpanStatusCode.ERROR]);
    expect(await store.taskQueueCount({ queueName: queue })).to.equal(1);
  });

  it('stores no trace context without hooks, even inside an active span', async function () {
    const alias = uniqueAlias('Plain');
    await t.store.taskHandlerAdd(defineTask({ alias, handle: () => true }), true);
    const { result: item } = await inRequest(() => t.store.taskDefinitionEnqueueByAlias(queue, alias, {}));
    expect(item.traceContext).to.equal(null);
    expect(await storedContext(item.id)).to.equal(null);
    expect((await t.store.taskQueueProcessNext(queue))?.traceContext).to.equal(null);
    expect(telemetry.spans().filter((span) => span.name.endsWith(` ${queue}`))).to.deep.equal([]);
  });
});
